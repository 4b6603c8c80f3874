"""Re-check a PortraitSR-4K build against its ``manifest.json``.

:func:`verify_dataset` looks at every ``*.parquet`` file under ``data/`` and ``pairs/`` and
reports, without stopping at the first one, every:

- ``missing``: manifest entry whose file is gone; ``extra``: shard file with no manifest entry
  (an unfinished write, or a stale shard of an older build);
- ``incomplete``: a split whose ``-of-MMMMM`` set has gaps or mixed totals; ``bad_name``:
  a file that does not follow ``<split>-NNNNN-of-MMMMM.parquet``;
- ``size`` / ``sha256`` / ``rows``: the file differs from its manifest entry;
- ``schema``: the Arrow schema or the ``huggingface`` features metadata differ from
  ``FEATURES`` (``data/``) or ``PAIR_FEATURES`` (``pairs/``);
- ``checksum``: a page fails its CRC (``page_checksum_verification=True``), or the file is not
  readable Parquet;
- ``decode``: an ``hr``/``lq`` image that does not decode, or whose size disagrees with
  ``hr_width``/``hr_height``/``lq_width``/``lq_height``;
- ``scale``: a row whose ``lq_width``/``lq_height`` is not ``hr_width // scale`` /
  ``hr_height // scale``;
- ``row_group``: a row group above the Hub viewer's limit (286.10 MiB in memory; the
  dataset viewer refuses it with ``TooBigContentError``); ``folder``: a folder with 10,000 or
  more entries (the Hub's per-folder limit).
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features
from tqdm.auto import tqdm

from portraitsr4k.dataset.manifest import MANIFEST_NAME, read_manifest
from portraitsr4k.dataset.schema import FEATURES, PAIR_FEATURES, SCHEMA_VERSION
from portraitsr4k.dataset.writer import file_sha256

logger = logging.getLogger(__name__)

#: Folders of a build that hold shards, with the schema their shards must have.
SHARD_FOLDERS: dict[str, Features] = {"data": FEATURES, "pairs": PAIR_FEATURES}
#: The Hub dataset viewer refuses row groups above this many uncompressed bytes.
VIEWER_MAX_ROW_GROUP_BYTES = int(286.10 * 1024 * 1024)
#: The Hub's limit on entries per folder.
HUB_MAX_FOLDER_ENTRIES = 10_000
_NAME = re.compile(r"^(?P<split>[A-Za-z0-9_]+)-(?P<index>\d{5})-of-(?P<total>\d{5})\.parquet$")


@dataclass(frozen=True)
class Problem:
    """One mismatch: ``path`` relative to the build (or ``manifest.json``), a ``kind`` and details."""

    path: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.message}"


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_dataset`; ``ok`` is true when ``problems`` is empty."""

    out_dir: Path
    problems: list[Problem] = field(default_factory=list)
    shards_checked: int = 0
    rows_checked: int = 0
    images_decoded: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, path: str, kind: str, message: str) -> None:
        self.problems.append(Problem(path, kind, message))


def _shard_files(out_dir: Path) -> list[str]:
    files = []
    for folder in SHARD_FOLDERS:
        root = out_dir / folder
        if root.is_dir():
            files += [p.relative_to(out_dir).as_posix() for p in root.rglob("*.parquet") if p.is_file()]
    return sorted(files)


def _check_names(files: list[str], report: VerifyReport) -> None:
    groups: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for name in files:
        folder, _, base = name.rpartition("/")
        match = _NAME.match(base)
        if match is None:
            report.add(name, "bad_name", "expected <split>-NNNNN-of-MMMMM.parquet")
            continue
        groups[(folder, match["split"])][int(match["index"])] = int(match["total"])
    for (folder, split), indices in sorted(groups.items()):
        totals = sorted(set(indices.values()))
        if len(totals) > 1:
            report.add(f"{folder}/{split}-*", "incomplete", f"mixed shard totals {totals}")
            continue
        missing = sorted(set(range(totals[0])) - set(indices))
        beyond = sorted(i for i in indices if i >= totals[0])
        if missing or beyond:
            report.add(f"{folder}/{split}-*", "incomplete",
                       f"expected {totals[0]} shards; missing indices {missing}, out-of-range indices {beyond}")


def _check_schema(name: str, handle: pq.ParquetFile, features: Features, report: VerifyReport) -> None:
    expected = features.arrow_schema
    actual = handle.schema_arrow
    if not actual.equals(expected, check_metadata=False):
        report.add(name, "schema", f"Arrow schema differs from the expected one:\n{actual}\n!=\n{expected}")
        return
    raw = (actual.metadata or {}).get(b"huggingface")
    try:
        stored = Features.from_dict(json.loads(raw)["info"]["features"]) if raw else None
    except (ValueError, KeyError, TypeError) as exc:
        report.add(name, "schema", f"unreadable huggingface metadata: {exc}")
        return
    if stored != features:
        report.add(name, "schema", "huggingface features metadata is missing or differs (load_dataset would not decode images)")


def _check_layout(name: str, handle: pq.ParquetFile, report: VerifyReport) -> None:
    """Row-group sizes (viewer limit) and the ``lq = hr // scale`` relation of every row."""
    for group in range(handle.metadata.num_row_groups):
        size = handle.metadata.row_group(group).total_byte_size
        if size > VIEWER_MAX_ROW_GROUP_BYTES:
            report.add(name, "row_group", f"row group {group} holds {size} bytes uncompressed, above the "
                                          f"Hub viewer's {VIEWER_MAX_ROW_GROUP_BYTES}")
    columns = ["id", "scale", "hr_width", "hr_height", "lq_width", "lq_height"]
    if not set(columns) <= set(handle.schema_arrow.names):
        return
    for row in handle.read(columns=columns).to_pylist():
        scale = row["scale"]
        if not scale or scale < 1:
            report.add(name, "scale", f"row {row['id']!r}: scale {scale!r} is not a positive integer")
            continue
        want = (row["hr_width"] // scale, row["hr_height"] // scale)
        if (row["lq_width"], row["lq_height"]) != want:
            report.add(name, "scale", f"row {row['id']!r}: LQ {row['lq_width']}x{row['lq_height']} is not "
                                      f"HR {row['hr_width']}x{row['hr_height']} // {scale} = {want[0]}x{want[1]}")


def _check_folders(out_dir: Path, report: VerifyReport) -> None:
    for folder in SHARD_FOLDERS:
        for directory in [out_dir / folder, *(p for p in (out_dir / folder).rglob("*") if p.is_dir())]:
            if directory.is_dir():
                entries = sum(1 for _ in directory.iterdir())
                if entries >= HUB_MAX_FOLDER_ENTRIES:
                    report.add(directory.relative_to(out_dir).as_posix(), "folder",
                               f"{entries} entries; the Hub allows fewer than {HUB_MAX_FOLDER_ENTRIES} per folder")


def _check_images(name: str, handle: pq.ParquetFile, report: VerifyReport) -> None:
    from portraitsr4k.image_io import decode

    names = handle.schema_arrow.names
    size_columns = [c for c in ("hr_width", "hr_height", "lq_width", "lq_height") if c in names]
    for group in range(handle.metadata.num_row_groups):
        rows = handle.read_row_group(group, columns=["id", "hr", "lq", *size_columns]).to_pylist()
        for row in rows:
            for column in ("hr", "lq"):
                payload = (row[column] or {}).get("bytes")
                if payload is None:
                    report.add(name, "decode", f"row {row['id']!r}: {column} has no bytes")
                    continue
                decoded = decode(payload)
                if not decoded.ok:
                    report.add(name, "decode",
                               f"row {row['id']!r}: {column} does not decode ({decoded.status}: {decoded.message})")
                    continue
                height, width = decoded.rgb.shape[:2]
                report.images_decoded += 1
                want = (row.get(f"{column}_width"), row.get(f"{column}_height"))
                if None not in want and want != (width, height):
                    report.add(name, "decode", f"row {row['id']!r}: {column} is {width}x{height}, "
                                               f"columns say {want[0]}x{want[1]}")


def verify_dataset(out_dir: Path | str, *, decode_images: bool = True, progress: bool = True) -> VerifyReport:
    """Check every shard of the build in ``out_dir`` against ``manifest.json``.

    Args:
        out_dir: the build directory (holding ``manifest.json``, ``data/``, ``pairs/``).
        decode_images: also decode every ``hr``/``lq`` (slow on 4K builds; the CRC check of
            every page runs either way).
        progress: show a tqdm bar over shards.
    """
    out_dir = Path(out_dir)
    report = VerifyReport(out_dir=out_dir)
    try:
        manifest = read_manifest(out_dir)
    except (FileNotFoundError, ValueError) as exc:
        report.add(MANIFEST_NAME, "manifest", str(exc))
        return report
    if manifest.schema_version != SCHEMA_VERSION:
        report.add(MANIFEST_NAME, "schema",
                   f"schema version {manifest.schema_version}, this toolkit reads version {SCHEMA_VERSION}")
    for leftover in sorted(out_dir.glob("**/.*.tmp")):
        logger.warning("leftover temporary file from an interrupted write: %s", leftover)

    files = _shard_files(out_dir)
    _check_names(files, report)
    _check_folders(out_dir, report)
    for name in sorted(set(manifest.shards) - set(files)):
        report.add(name, "missing", "listed in the manifest but not on disk")
    for name in sorted(set(files) - set(manifest.shards)):
        report.add(name, "extra", "on disk but not in the manifest (unfinished write or stale shard)")

    for name in tqdm(sorted(set(files) & set(manifest.shards)), desc="verify shards", unit="shard",
                     disable=not progress):
        entry = manifest.shards[name]
        path = out_dir / name
        report.shards_checked += 1
        size = path.stat().st_size
        if size != entry.bytes:
            report.add(name, "size", f"{size} bytes, manifest says {entry.bytes}")
        digest = file_sha256(path)
        if digest != entry.sha256:
            report.add(name, "sha256", f"{digest}, manifest says {entry.sha256}")
        try:
            handle = pq.ParquetFile(path, page_checksum_verification=True)
            rows = handle.metadata.num_rows
            if rows != entry.rows:
                report.add(name, "rows", f"{rows} rows, manifest says {entry.rows}")
            _check_schema(name, handle, SHARD_FOLDERS[name.split("/", 1)[0]], report)
            _check_layout(name, handle, report)
            # Reading every column of every row group runs the CRC check of every page.
            for group in range(handle.metadata.num_row_groups):
                handle.read_row_group(group)
            report.rows_checked += rows
        except (OSError, pa.ArrowException) as exc:  # CRC mismatch: OSError; bad footer: ArrowInvalid
            report.add(name, "checksum", f"unreadable or corrupt Parquet: {exc}")
            continue
        if decode_images and name.startswith("data/") and not any(
            p.path == name and p.kind == "schema" for p in report.problems
        ):
            _check_images(name, handle, report)
    return report
