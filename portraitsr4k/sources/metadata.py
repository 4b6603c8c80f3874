"""``metadata`` source: a Parquet/CSV table of image URLs with size and licence columns.

This is how the paper's inputs arrive (LAION-2B, Photo Concept Bucket, PD12M metadata). Rows
are first filtered on their metadata columns (no download) with the gate's own rule: at least
``min_pixels`` pixels (3840 x 2160 by default) with the long side >= ``min_long_side`` (3840),
and aspect ratio ``width / height`` in [``min_aspect``, ``max_aspect``] (0.6-1.6);
``conf/source/metadata.yaml`` reads these numbers from ``stage.gate`` so the prefilter can
never drop a photo the gate would accept. Only the rows that pass are listed as
items; the counts per prefilter reason are logged and kept in :attr:`MetadataSource.prefilter_counts`
(a LAION part has millions of rows, and a status row per metadata reject would dwarf the build;
``report_prefiltered=True`` lists them too, each fetching as ``rejected:<reason>`` without a
download). Downloads go through :class:`~portraitsr4k.sources.http.HttpFetcher`.

Why not img2dataset (checked: release 1.47.0, ``pip download --no-deps img2dataset``):

- its requirements conflict with this environment: ``pandas<3`` (we run pandas 3.1),
  ``albumentations<2``, ``webdataset<0.3``, plus ``wandb`` and ``fire`` as hard dependencies;
- its downloader (``downloader.py``) reads whole bodies with ``urllib`` with no size cap and no
  ``Content-Type`` check, retries immediately (no back-off) on *every* error, 404 included, and
  has no redirect cap or whole-body deadline;
- it is a whole pipeline (its own sharding, resizing through OpenCV re-encode, its own output
  formats and ``_stats.json`` markers), not a per-sample fetch our stages and executors can
  call, and its size/aspect filters run after download and decode, not on metadata.
Its ``X-Robots-Tag`` convention (directives ``noai``/``noimageai``, optionally scoped to a
user-agent token) is followed here.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from portraitsr4k.sources.base import FetchResult, Source, SourceItem
from portraitsr4k.sources.http import HttpFetcher

logger = logging.getLogger(__name__)

_TABLE_SUFFIXES = (".parquet", ".csv")


def _as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return int(number)


class MetadataSource(Source):
    """Image URLs from a metadata table (or a folder of ``*.parquet`` / ``*.csv`` parts).

    Args:
        table: a ``.parquet``/``.csv`` file, or a directory whose such files are read in name order.
        url_column / width_column / height_column / license_column: column names (LAION uses
            ``URL``/``WIDTH``/``HEIGHT``/``LICENSE``; PD12M and Photo Concept Bucket lower case).
            ``license_column`` may be ``None`` when the table has none; ``license`` then sets
            one licence for every row (PD12M: ``"public domain"``).
        min_pixels / min_long_side: metadata size gate (pixel count, long side in pixels).
        min_aspect / max_aspect: allowed ``width / height`` range.
        keep_unknown_size: list rows with missing/invalid width or height (the gate decides
            after download) instead of dropping them.
        report_prefiltered: also list prefiltered rows (fetch gives ``rejected:<reason>``).
        fetcher: the :class:`HttpFetcher`; a default one when ``None``.
        batch_size: rows read per batch (bounded memory on huge tables).
    """

    name = "metadata"

    def __init__(self, table: str | os.PathLike[str], *, url_column: str = "url", width_column: str = "width",
                 height_column: str = "height", license_column: str | None = "license", license: str | None = None,
                 min_pixels: int = 3840 * 2160, min_long_side: int = 3840, min_aspect: float = 0.6,
                 max_aspect: float = 1.6, keep_unknown_size: bool = False, report_prefiltered: bool = False,
                 fetcher: HttpFetcher | None = None, batch_size: int = 65_536) -> None:
        path = Path(table).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in _TABLE_SUFFIXES and p.is_file())
            if not files:
                raise FileNotFoundError(f"metadata source: no *.parquet or *.csv files in {path}")
        elif path.is_file():
            if path.suffix.lower() not in _TABLE_SUFFIXES:
                raise ValueError(f"metadata table must be .parquet or .csv, got {path.name}")
            files = [path]
        else:
            raise FileNotFoundError(f"metadata source: {path} does not exist")
        for name, value in (("min_pixels", min_pixels), ("min_long_side", min_long_side),
                            ("batch_size", batch_size)):
            if not isinstance(value, int) or value < 0 or (name == "batch_size" and value == 0):
                raise ValueError(f"{name} must be a non-negative int (batch_size > 0), got {value!r}")
        if not 0 < min_aspect <= max_aspect:
            raise ValueError(f"need 0 < min_aspect <= max_aspect, got {min_aspect!r}, {max_aspect!r}")
        if fetcher is not None and not isinstance(fetcher, HttpFetcher):
            raise TypeError(f"fetcher must be an HttpFetcher, got {type(fetcher).__name__}")
        self.files = files
        self.url_column = url_column
        self.width_column = width_column
        self.height_column = height_column
        self.license_column = license_column
        self.license = license
        self.min_pixels = min_pixels
        self.min_long_side = min_long_side
        self.min_aspect = float(min_aspect)
        self.max_aspect = float(max_aspect)
        self.keep_unknown_size = bool(keep_unknown_size)
        self.report_prefiltered = bool(report_prefiltered)
        self.fetcher = fetcher if fetcher is not None else HttpFetcher()
        self.batch_size = batch_size
        self.prefilter_counts: Counter[str] = Counter()

    def _columns(self) -> list[str]:
        names = [self.url_column, self.width_column, self.height_column]
        if self.license_column:
            names.append(self.license_column)
        return names

    def _batches(self, path: Path) -> Iterator[pa.RecordBatch]:
        wanted = self._columns()
        if path.suffix.lower() == ".parquet":
            handle = pq.ParquetFile(path)
            available = handle.schema_arrow.names
            missing = [c for c in wanted if c not in available]
            if missing:
                raise ValueError(f"{path.name} lacks columns {missing}; it has {available}. "
                                 "Set url_column/width_column/height_column/license_column.")
            yield from handle.iter_batches(batch_size=self.batch_size, columns=wanted)
            return
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 24),
                                convert_options=pacsv.ConvertOptions(
                                    column_types={c: pa.string() for c in (self.url_column, self.license_column) if c}))
        available = reader.schema.names
        missing = [c for c in wanted if c not in available]
        if missing:
            raise ValueError(f"{path.name} lacks columns {missing}; it has {available}. "
                             "Set url_column/width_column/height_column/license_column.")
        for batch in reader:
            yield batch.select(wanted)

    def prefilter(self, width: int | None, height: int | None) -> str | None:
        """The reject reason for a row of this size, or ``None`` when it may be downloaded."""
        if width is None or height is None or width == 0 or height == 0:
            return None if self.keep_unknown_size else "metadata_unknown_size"
        if width * height < self.min_pixels or max(width, height) < self.min_long_side:
            return "metadata_too_small"
        if not self.min_aspect <= width / height <= self.max_aspect:
            return "metadata_aspect"
        return None

    def items(self) -> Iterator[SourceItem]:
        """Rows that pass the prefilter, in table order; keys ``metadata:<file stem>:<row>``.

        The row number is zero-padded, so table order is also sorted key order.
        """
        self.prefilter_counts = Counter()
        for path in self.files:
            row = 0
            for batch in self._batches(path):
                columns = batch.to_pydict()
                licences = columns.get(self.license_column) if self.license_column else None
                for i, url in enumerate(columns[self.url_column]):
                    width, height = _as_int(columns[self.width_column][i]), _as_int(columns[self.height_column][i])
                    key = f"{self.name}:{path.stem}:{row:012d}"
                    row += 1
                    if not isinstance(url, str) or not url.strip():
                        reason = "metadata_no_url"
                    else:
                        reason = self.prefilter(width, height)
                    if reason is not None:
                        self.prefilter_counts[reason] += 1
                        if not self.report_prefiltered:
                            continue
                    else:
                        self.prefilter_counts["listed"] += 1
                    licence = licences[i] if licences is not None else self.license
                    yield SourceItem(key=key, url=url.strip() if isinstance(url, str) else None,
                                     license=None if licence is None else str(licence), width=width, height=height,
                                     extra={} if reason is None else {"prefilter": reason})
        logger.info("metadata source (%d tables): %s", len(self.files), dict(sorted(self.prefilter_counts.items())))

    def fetch(self, item: SourceItem) -> FetchResult:
        """Download ``item.url`` (or report its prefilter reason); never raises."""
        start = time.perf_counter()
        reason = item.extra.get("prefilter")
        if reason:
            return FetchResult(f"rejected:{reason}", f"{item.key}: {item.width}x{item.height} fails the metadata gate",
                               seconds=time.perf_counter() - start)
        if not item.url:
            return FetchResult("error:bad_item", f"{item.key} has no url", seconds=time.perf_counter() - start)
        return self.fetcher.fetch(item.url)

    def __repr__(self) -> str:
        return f"MetadataSource(files={[str(p) for p in self.files]})"
