"""Per-sample status records (``status/samples.parquet``) and the table of counts.

One row per input item, in source-key order: ``key`` (source key), ``source``, ``url``, ``id``
(null when the bytes were never read), ``stage`` (last stage reached), ``status`` (``ok``,
``rejected:<reason>``, ``error:<kind>``), ``message``, ``timings`` (JSON: stage -> seconds),
``peak_rss_mb`` of the worker that handled it, and ``split`` for rows that made it into a shard.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from portraitsr4k.dataset.writer import atomic_write_bytes

__all__ = ["SampleStatus", "write_status", "count_table", "status_counts", "STATUS_SCHEMA"]

STATUS_SCHEMA = pa.schema([
    ("key", pa.string()), ("source", pa.string()), ("url", pa.string()), ("id", pa.string()),
    ("stage", pa.string()), ("status", pa.string()), ("message", pa.string()),
    ("timings", pa.string()), ("peak_rss_mb", pa.float32()), ("split", pa.string()),
])


@dataclass
class SampleStatus:
    """The status record of one input item (see module docstring)."""

    key: str
    source: str
    url: str | None
    id: str | None
    stage: str
    status: str
    message: str
    timings: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    split: str | None = None

    def to_row(self) -> dict[str, Any]:
        row = dict(self.__dict__)
        row["timings"] = json.dumps(self.timings, sort_keys=True)
        return row


def status_counts(records: Iterable[SampleStatus]) -> dict[str, int]:
    """``{status: count}`` sorted by status."""
    return dict(sorted(Counter(r.status for r in records).items()))


def write_status(out_dir: str | Path, records: Sequence[SampleStatus]) -> Path:
    """Write ``status/samples.parquet`` (sorted by key) and ``status/counts.json`` atomically."""
    folder = Path(out_dir) / "status"
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(records, key=lambda r: r.key)
    table = pa.Table.from_pylist([r.to_row() for r in ordered], schema=STATUS_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    path = atomic_write_bytes(folder / "samples.parquet", buffer.getvalue())
    counts = status_counts(ordered)
    atomic_write_bytes(folder / "counts.json", (json.dumps(counts, indent=2, sort_keys=True) + "\n").encode())
    return path


def count_table(records: Sequence[SampleStatus]) -> str:
    """A plain-text table: one line per status with count and share, and the total."""
    counts = status_counts(records)
    total = max(1, len(records))
    width = max([len("status"), *(len(s) for s in counts)])
    lines = [f"{'status':<{width}}  {'count':>7}  {'share':>7}", f"{'-' * width}  {'-' * 7}  {'-' * 7}"]
    for status, count in counts.items():
        lines.append(f"{status:<{width}}  {count:>7d}  {100.0 * count / total:>6.1f}%")
    lines.append(f"{'total':<{width}}  {len(records):>7d}")
    return "\n".join(lines)
