"""Per-cell benchmark records: one Parquet row per (dataset, method, image, metric, region, face).

Records are append-only: each run writes ``records/<run_id>-<part>.parquet`` files (temporary
name, then rename), so a crashed run keeps every flushed part and concurrent sweeps never write
the same file. Reading concatenates all parts; :func:`latest` resolves repeats of a cell.

Columns (:data:`SCHEMA`):

- cell key (:data:`CELL_KEY`): ``dataset``, ``split``, ``method``, ``method_hash`` (method config
  hash), ``image_id`` (``*`` for set metrics such as FID), ``metric``, ``metric_hash``,
  ``region`` (``full``/``face``/``face_aligned``/``seam``), ``face_index`` (``-1`` for ``full``
  and for image-level status rows);
- ``value`` (float64, null unless ``status == "ok"``), ``runtime_s`` (metric time),
  ``sr_runtime_s`` (time the method took for this image; null when its output came from cache);
- ``status``: ``ok``, ``no_face`` (the sample has no annotated face: counted, not dropped),
  ``no_reference`` (no reference photo of the person in this split), ``unavailable`` (missing
  weights/package; ``message`` names the file), ``error`` (``message`` holds the exception);
- metric metadata: ``kind``, ``lower_better``, ``convention`` (JSON pixel convention);
- provenance: ``protocol``, ``run_id``, ``created_at`` (UTC ISO time).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

logger = logging.getLogger(__name__)

__all__ = ["SCHEMA", "CELL_KEY", "STATUSES", "DONE_STATUSES", "RecordWriter", "load_records", "latest",
           "new_run_id"]

SCHEMA = pa.schema([
    ("dataset", pa.string()), ("split", pa.string()), ("method", pa.string()), ("method_hash", pa.string()),
    ("image_id", pa.string()), ("metric", pa.string()), ("metric_hash", pa.string()),
    ("region", pa.string()), ("face_index", pa.int32()),
    ("value", pa.float64()), ("runtime_s", pa.float64()), ("sr_runtime_s", pa.float64()),
    ("status", pa.string()), ("message", pa.string()),
    ("kind", pa.string()), ("lower_better", pa.bool_()), ("convention", pa.string()),
    ("protocol", pa.string()), ("run_id", pa.string()), ("created_at", pa.string()),
])
CELL_KEY = ["dataset", "split", "method", "method_hash", "image_id", "metric", "metric_hash", "region",
            "face_index"]
STATUSES = ("ok", "no_face", "no_reference", "unavailable", "error")
#: A cell with one of these statuses is not computed again; errors and unavailable metrics are
#: retried on the next run (a transient failure, or weights added since).
DONE_STATUSES = ("ok", "no_face", "no_reference")


def new_run_id() -> str:
    """``YYYYmmddTHHMMSS-<6 hex>``: sortable, unique across concurrent runs."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


class RecordWriter:
    """Buffers rows and writes them as Parquet parts under ``records_dir``.

    Args:
        records_dir: the ``records/`` folder (created if missing).
        run_id: prefix of this run's part files.
        flush_every: rows buffered before a part is written.
    """

    def __init__(self, records_dir: Path, *, run_id: str, flush_every: int = 2000) -> None:
        if flush_every < 1:
            raise ValueError(f"flush_every must be >= 1, got {flush_every}")
        self.dir = Path(records_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.run_id = run_id
        self.flush_every = flush_every
        self._rows: list[dict[str, Any]] = []
        self._part = 0
        self.written = 0

    def add(self, **row: Any) -> None:
        """Add one row; missing columns are null; ``created_at``/``run_id`` are filled in."""
        unknown = set(row) - set(SCHEMA.names)
        if unknown:
            raise ValueError(f"unknown record columns {sorted(unknown)}; expected {SCHEMA.names}")
        if row.get("status") not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {row.get('status')!r}")
        row.setdefault("run_id", self.run_id)
        row.setdefault("created_at", datetime.now(timezone.utc).isoformat(timespec="microseconds"))
        self._rows.append(row)
        if len(self._rows) >= self.flush_every:
            self.flush()

    def flush(self) -> Path | None:
        """Write buffered rows to a new part file (temporary name, fsync, rename)."""
        if not self._rows:
            return None
        table = pa.Table.from_pylist(self._rows, schema=SCHEMA)
        final = self.dir / f"{self.run_id}-{self._part:05d}.parquet"
        tmp = self.dir / f".{final.name}.tmp"
        pq.write_table(table, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        self._part += 1
        self.written += len(self._rows)
        self._rows = []
        return final

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()


def load_records(dirs: Iterable[Path | str]) -> pd.DataFrame:
    """All records under each ``<dir>/records/`` (or ``<dir>`` if it holds parts) as one frame."""
    tables = []
    for d in dirs:
        d = Path(d)
        rec = d / "records" if (d / "records").is_dir() else d
        if not rec.is_dir():
            raise FileNotFoundError(f"no records folder in {d} (expected {d / 'records'})")
        for part in sorted(rec.glob("*.parquet")):
            tables.append(pq.read_table(part, schema=SCHEMA))
    if not tables:
        return SCHEMA.empty_table().to_pandas()
    return pa.concat_tables(tables).to_pandas()


def latest(records: pd.DataFrame) -> pd.DataFrame:
    """Resolve repeated cells and stale method configurations.

    1. Per (dataset, split, method) only rows of the most recently used ``method_hash`` stay
       (a changed method config supersedes older outputs and their scores); likewise per
       (dataset, split, method, metric) only the newest ``metric_hash``.
    2. Per cell key the newest row wins (a retried error replaced by its ok row).

    Merged runs whose same-named metric used different configurations are reported with a
    warning: their numbers are not comparable.
    """
    if records.empty:
        return records
    df = records.sort_values("created_at", kind="stable")
    newest_hash = df.groupby(["dataset", "split", "method"])["method_hash"].transform("last")
    df = df[df["method_hash"] == newest_hash]
    newest_metric = df.groupby(["dataset", "split", "method", "metric"])["metric_hash"].transform("last")
    df = df[df["metric_hash"] == newest_metric]
    mixed = df.groupby("metric")["metric_hash"].nunique()
    for metric in mixed[mixed > 1].index:
        logger.warning("metric %s was computed with %d different configurations across methods/runs; "
                       "compare those numbers with care", metric, int(mixed[metric]))
    return df.drop_duplicates(CELL_KEY, keep="last").reset_index(drop=True)
