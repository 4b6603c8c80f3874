"""Atomic, byte-deterministic Parquet shard writer for PortraitSR-4K.

A shard is ``data/<split>-NNNNN-of-MMMMM.parquet`` (see :func:`shard_name`). :func:`write_shard`
turns a list of row dicts (the columns of :data:`portraitsr4k.dataset.schema.FEATURES`, or of
any other :class:`datasets.Features`) into one Parquet file such that

- ``datasets.load_dataset`` decodes image columns with no extra arguments: the Arrow schema is
  ``features.arrow_schema``, whose ``huggingface`` metadata names the features;
- it is **atomic**: bytes go to a hidden, unique temporary file in the destination directory
  (``.<name>.<pid>.<random>.tmp``; a PID alone races when PIDs are reused across containers),
  which is flushed, fsynced and ``os.replace``-d onto the final name, then the directory is
  fsynced so the rename survives power loss. On any exception (``ENOSPC`` included) the
  temporary file is removed and the exception re-raised, so no partial file is ever visible;
- it is **byte-deterministic**: rows are written in the given order, row-group boundaries
  depend only on the rows' byte sizes, and the footer holds no timestamps or random values
  (``created_by`` names the pyarrow version, which ``constraints.txt`` pins);
- it is **checkable**: page checksums (CRC32) and the page index are written; image columns
  are stored uncompressed and without dictionary (JPEG/PNG payloads do not compress: 0.0 %
  saved with zstd in reliability-and-performance.md A4), all other columns with zstd.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features, Image

from portraitsr4k.dataset.schema import FEATURES

logger = logging.getLogger(__name__)

#: Largest in-memory row group, the ``datasets`` default; the Hub viewer refuses > 286 MiB.
DEFAULT_MAX_ROW_GROUP_BYTES = 100_000_000
_HASH_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ShardInfo:
    """What :func:`write_shard` wrote: final ``path``, number of ``rows``, file ``sha256``
    (64 lowercase hex digits) and size in ``bytes``."""

    path: Path
    rows: int
    sha256: str
    bytes: int

    def __post_init__(self) -> None:
        if not isinstance(self.path, Path):
            raise TypeError(f"ShardInfo.path must be a pathlib.Path, got {type(self.path).__name__}")
        if not isinstance(self.rows, int) or self.rows < 0:
            raise ValueError(f"ShardInfo.rows must be an int >= 0, got {self.rows!r}")
        if not isinstance(self.bytes, int) or self.bytes <= 0:
            raise ValueError(f"ShardInfo.bytes must be an int > 0, got {self.bytes!r}")
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise ValueError(f"ShardInfo.sha256 must be 64 lowercase hex digits, got {self.sha256!r}")


def shard_name(split: str, index: int, total: int) -> str:
    """File name of shard ``index`` of ``total`` for ``split``: ``train-00000-of-00003.parquet``.

    This is the pattern the Hub and ``datasets`` recognise (``<split>-*``) when no card
    ``configs`` are given.
    """
    if not isinstance(split, str) or not split or not split.replace("_", "").isalnum():
        raise ValueError(f"split must be a non-empty alphanumeric name (underscores allowed), got {split!r}")
    if not isinstance(total, int) or not 1 <= total <= 99_999:
        raise ValueError(f"total must be an int in [1, 99999], got {total!r}")
    if not isinstance(index, int) or not 0 <= index < total:
        raise ValueError(f"index must be an int in [0, {total}), got {index!r}")
    return f"{split}-{index:05d}-of-{total:05d}.parquet"


def image_columns(features: Features) -> list[str]:
    """Names of the top-level :class:`datasets.Image` columns of ``features``."""
    return [name for name, feature in features.items() if isinstance(feature, Image)]


@lru_cache(maxsize=8)
def _leaf_paths(schema: pa.Schema) -> tuple[str, ...]:
    """Dotted Parquet leaf-column paths (``hr.bytes``, ``faces.list.element.bbox.list.element``).

    pyarrow's per-column writer options are keyed by these paths; the simplest exact way to get
    them is to let pyarrow map the Arrow schema to a Parquet schema on an empty table.
    """
    buffer = io.BytesIO()
    pq.write_table(schema.empty_table(), buffer)
    parquet_schema = pq.ParquetFile(io.BytesIO(buffer.getvalue())).schema
    return tuple(parquet_schema.column(i).path for i in range(len(parquet_schema)))


def _writer_options(features: Features) -> dict[str, Any]:
    """Per-column compression/encoding options: images plain and uncompressed, the rest zstd."""
    image_roots = {f"{name}." for name in image_columns(features)}
    leaves = _leaf_paths(features.arrow_schema)
    image_leaves = [p for p in leaves if any(p.startswith(root) for root in image_roots)]
    other_leaves = [p for p in leaves if p not in image_leaves]
    return {
        "compression": {**{p: "none" for p in image_leaves}, **{p: "zstd" for p in other_leaves}},
        "use_dictionary": other_leaves,
        # Min/max statistics of multi-megabyte blobs are useless and would bloat the footer.
        "write_statistics": other_leaves,
        "column_encoding": {p: "PLAIN" for p in image_leaves},
        "write_page_index": True,
        "write_page_checksum": True,
        "store_schema": True,
    }


def _normalise_row(row: dict[str, Any], index: int, features: Features, images: list[str]) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise TypeError(f"row {index} must be a dict, got {type(row).__name__}")
    missing = [name for name in features if name not in row]
    extra = [name for name in row if name not in features]
    if missing or extra:
        raise ValueError(
            f"row {index} does not match the features: missing columns {missing}, unexpected columns {extra}"
        )
    out = dict(row)
    for name in images:
        value = out[name]
        if value is None:
            continue
        if isinstance(value, (bytes, bytearray, memoryview)):
            out[name] = {"bytes": bytes(value), "path": None}
        elif isinstance(value, dict) and set(value) <= {"bytes", "path"}:
            if not isinstance(value.get("bytes"), (bytes, bytearray, memoryview)):
                raise TypeError(
                    f"row {index} column {name!r}: 'bytes' must be encoded image bytes, "
                    f"got {type(value.get('bytes')).__name__}"
                )
            out[name] = {"bytes": bytes(value["bytes"]), "path": value.get("path")}
        else:
            raise TypeError(
                f"row {index} column {name!r}: expected encoded image bytes or a "
                f"{{'bytes', 'path'}} dict, got {type(value).__name__}"
            )
    return out


def _row_group_bounds(table: pa.Table, max_row_group_bytes: int) -> list[tuple[int, int]]:
    """Fixed ``(start, length)`` row groups: greedy packing by each row's in-memory size.

    Depends only on the rows (not on timing, batch sizes or worker count), so the same rows
    always give the same row groups. A single row larger than the cap gets a group of its own.
    """
    bounds: list[tuple[int, int]] = []
    start, size = 0, 0
    for i in range(table.num_rows):
        row_bytes = table.slice(i, 1).nbytes
        if i > start and size + row_bytes > max_row_group_bytes:
            bounds.append((start, i - start))
            start, size = i, 0
        size += row_bytes
    if table.num_rows > start:
        bounds.append((start, table.num_rows - start))
    return bounds


def _fsync_directory(directory: Path) -> None:
    """Persist a rename: fsync the directory entry (POSIX; a no-op where unsupported)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_TEMP_NAME = re.compile(r"^\..+\.\d+\.[0-9a-f]{12}\.tmp$")


def temp_files(directory: Path | str) -> list[Path]:
    """Temporary files this module leaves behind when a writer process is killed mid-write."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _TEMP_NAME.match(p.name) and p.is_file())


def remove_temp_files(directory: Path | str) -> list[Path]:
    """Delete :func:`temp_files` of ``directory``; returns what was removed.

    Only safe while no other process writes into ``directory`` (i.e. under the build lock): a
    live writer's temp file looks the same as a dead one's.
    """
    removed = []
    for path in temp_files(directory):
        path.unlink(missing_ok=True)
        removed.append(path)
    if removed:
        logger.info("removed %d temporary files of interrupted writes in %s", len(removed), directory)
    return removed


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes as 64 lowercase hex digits (read in 8 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (hidden unique temp, fsync, rename, dir fsync).

    Used for the small side files of a build (``manifest.json``, ``README.md``, card figures).
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    return path


def write_shard(
    rows: Sequence[dict[str, Any]],
    path: Path | str,
    *,
    features: Features = FEATURES,
    max_row_group_bytes: int = DEFAULT_MAX_ROW_GROUP_BYTES,
) -> ShardInfo:
    """Write ``rows`` (in the given order) to the Parquet file ``path``, atomically.

    Args:
        rows: one dict per row with exactly the columns of ``features``. Image columns take
            encoded bytes (JPEG/PNG) or ``{"bytes": ..., "path": ...}`` dicts (``path`` a file
            name or ``None``).
        path: final file path; its directory must exist. An existing file is replaced
            atomically (a resumed build rewrites the same bytes).
        features: the row schema (:data:`FEATURES`, :data:`PAIR_FEATURES`, ...).
        max_row_group_bytes: cap on a row group's in-memory size (100 MB by default).

    Returns:
        :class:`ShardInfo` with the final path, row count, sha256 and size of the file.

    Raises:
        ValueError / TypeError: rows that do not match ``features``.
        OSError: from the file system (e.g. ``ENOSPC``); the temporary file is removed first.
    """
    path = Path(path)
    if not isinstance(features, Features):
        raise TypeError(f"features must be a datasets.Features, got {type(features).__name__}")
    if not isinstance(max_row_group_bytes, int) or max_row_group_bytes <= 0:
        raise ValueError(f"max_row_group_bytes must be an int > 0, got {max_row_group_bytes!r}")
    if not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "shard directory does not exist", str(path.parent))

    images = image_columns(features)
    normalised = [_normalise_row(row, i, features, images) for i, row in enumerate(rows)]
    schema = features.arrow_schema
    table = pa.Table.from_pylist(normalised, schema=schema)
    bounds = _row_group_bounds(table, max_row_group_bytes)

    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    try:
        with open(tmp, "xb") as handle:
            with pq.ParquetWriter(handle, schema, **_writer_options(features)) as writer:
                for start, length in bounds:
                    writer.write_table(table.slice(start, length), row_group_size=length)
            handle.flush()
            os.fsync(handle.fileno())
        sha256 = file_sha256(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, path)
    except BaseException:
        # Also on KeyboardInterrupt: never leave a temp file behind.
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    logger.debug("wrote %s: %d rows in %d row groups, %d bytes", path, table.num_rows, len(bounds), size)
    return ShardInfo(path=path, rows=table.num_rows, sha256=sha256, bytes=size)
