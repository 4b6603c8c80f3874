"""Read a PortraitSR-4K build (``<root>/data/<split>-NNNNN-of-MMMMM.parquet``) by sample id.

:class:`DatasetReader` indexes one split by reading only the ``id`` column, then serves
:class:`Sample` objects by position (``ds[i]``, in sorted-id order) or by id (``ds.get(id)``),
reading one row group at a time (row groups are <= 100 MB; the last one read is kept, so a
loop over ``ds`` in storage order reads each row group once). :meth:`DatasetReader.iter_columns`
streams selected columns without touching the image bytes (Parquet column pruning).

The reader refuses incomplete builds: every shard ``0..M-1`` of a split must be present with
the same ``M``. Page checksums are verified on every read, so silent corruption raises
instead of decoding garbage.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import numpy as np

    from portraitsr4k.faces import Face

logger = logging.getLogger(__name__)

SHARD_PATTERN = re.compile(r"^(?P<split>[A-Za-z0-9_]+)-(?P<index>\d{5})-of-(?P<total>\d{5})\.parquet$")

# Columns a Sample exposes as attributes; everything else lands in ``Sample.row``.
_SAMPLE_COLUMNS = ("id", "split", "hr", "lq", "scale", "faces", "references", "degradation")
_IMAGE_COLUMNS = ("hr", "lq")


@dataclass(frozen=True)
class Sample:
    """One HR/LQ pair of a PortraitSR-4K split.

    Attributes:
        id: sample id (content hash, see ``schema.py``).
        split: ``train`` or ``test``.
        hr_bytes / lq_bytes: the encoded HR / LQ image (JPEG or PNG bytes).
        scale: integer SR factor (``lq = hr // scale``).
        faces: ``[{bbox: [x1, y1, x2, y2], landmarks: [[x, y] x 5], score, interocular}]`` in HR pixels.
        references: ids of other photos of the same person.
        degradation: the parsed degradation record (``{}`` when the row has none).
        row: every other column (``source``, ``license``, ``hr_width``, ``iqa``, ...).
    """

    id: str
    split: str
    hr_bytes: bytes
    lq_bytes: bytes
    scale: int
    faces: list[dict[str, Any]] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    degradation: dict[str, Any] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"Sample.id must be a non-empty str, got {self.id!r}")
        for name in ("hr_bytes", "lq_bytes"):
            if not isinstance(getattr(self, name), bytes):
                raise TypeError(f"Sample.{name} must be bytes, got {type(getattr(self, name)).__name__}")
        if not isinstance(self.scale, int) or self.scale < 1:
            raise ValueError(f"Sample.scale must be an int >= 1, got {self.scale!r}")

    def hr(self) -> np.ndarray:
        """The HR image, ``(H, W, 3)`` uint8 RGB in [0, 255] (sRGB, EXIF orientation applied).

        Raises:
            ValueError: the stored bytes do not decode (names the sample and the decoder status).
        """
        return self._decode(self.hr_bytes, "hr")

    def lq(self) -> np.ndarray:
        """The LQ image, ``(H // scale, W // scale, 3)`` uint8 RGB in [0, 255]."""
        return self._decode(self.lq_bytes, "lq")

    def _decode(self, data: bytes, column: str) -> np.ndarray:
        from portraitsr4k.image_io import decode

        decoded = decode(data)
        if not decoded.ok:
            raise ValueError(f"sample {self.id!r}: {column} does not decode ({decoded.status}: {decoded.message})")
        return decoded.rgb

    def face_objects(self) -> list[Face]:
        """``faces`` as :class:`portraitsr4k.faces.Face` objects (HR pixel coordinates)."""
        from portraitsr4k.faces import Face

        return [Face.from_dict(face) for face in self.faces]


@dataclass(frozen=True)
class _Location:
    shard: int
    row_group: int
    offset: int


def _list_shards(data_dir: Path, split: str) -> list[Path]:
    """The complete, ordered shard list of ``split``; ValueError on a partial or mixed set."""
    found: dict[int, tuple[int, Path]] = {}
    for path in sorted(data_dir.glob(f"{split}-*.parquet")):
        match = SHARD_PATTERN.match(path.name)
        if match is None or match["split"] != split:
            continue
        found[int(match["index"])] = (int(match["total"]), path)
    if not found:
        raise FileNotFoundError(f"no shards for split {split!r} in {data_dir} (expected {split}-NNNNN-of-MMMMM.parquet)")
    totals = {total for total, _ in found.values()}
    if len(totals) != 1:
        raise ValueError(f"split {split!r} in {data_dir} mixes shard counts {sorted(totals)}: stale or partial build")
    total = totals.pop()
    missing = sorted(set(range(total)) - set(found))
    if missing or len(found) != total:
        raise ValueError(
            f"split {split!r} in {data_dir} is incomplete: expected {total} shards, missing indices {missing}"
        )
    return [found[i][1] for i in range(total)]


class DatasetReader:
    """Random access to one split of a PortraitSR-4K build.

    Args:
        root: a build's ``out_dir`` (holding ``data/``), or the ``data/`` directory itself.
        split: which split to read (``train``, ``test``); see :meth:`splits`.
    """

    def __init__(self, root: Path | str, *, split: str = "test") -> None:
        root = Path(root)
        data_dir = root / "data" if (root / "data").is_dir() else root
        if not data_dir.is_dir():
            raise FileNotFoundError(f"dataset directory {root} does not exist")
        self.root = root
        self.split = split
        self.shards = _list_shards(data_dir, split)
        self._files = [pq.ParquetFile(p, page_checksum_verification=True) for p in self.shards]
        self.schema: pa.Schema = self._files[0].schema_arrow
        for path, handle in zip(self.shards, self._files):
            if not handle.schema_arrow.equals(self.schema):
                raise ValueError(f"shard {path.name} has a different schema than {self.shards[0].name}")
        missing = [c for c in ("id",) + _IMAGE_COLUMNS + ("scale",) if c not in self.schema.names]
        if missing:
            raise ValueError(f"shards of {data_dir} lack required columns {missing}")
        self._index: dict[str, _Location] = {}
        for s, handle in enumerate(self._files):
            for g in range(handle.metadata.num_row_groups):
                ids = handle.read_row_group(g, columns=["id"]).column("id").to_pylist()
                for offset, sample_id in enumerate(ids):
                    if sample_id in self._index:
                        other = self.shards[self._index[sample_id].shard].name
                        raise ValueError(f"duplicate id {sample_id!r} in {self.shards[s].name} and {other}")
                    self._index[sample_id] = _Location(s, g, offset)
        self.ids: list[str] = sorted(self._index)
        self._cached_key: tuple[int, int] | None = None
        self._cached_rows: list[dict[str, Any]] = []
        logger.debug("indexed %d samples of split %r in %d shards", len(self.ids), split, len(self.shards))

    @staticmethod
    def splits(root: Path | str) -> list[str]:
        """Sorted names of the splits with shards under ``root/data`` (or ``root``)."""
        root = Path(root)
        data_dir = root / "data" if (root / "data").is_dir() else root
        names = {m["split"] for p in data_dir.glob("*.parquet") if (m := SHARD_PATTERN.match(p.name))}
        return sorted(names)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> Sample:
        """The sample with the ``index``-th smallest id (negative indices count from the end)."""
        if not isinstance(index, int):
            raise TypeError(f"index must be an int, got {type(index).__name__}")
        if not -len(self.ids) <= index < len(self.ids):
            raise IndexError(f"index {index} out of range for {len(self.ids)} samples")
        return self.get(self.ids[index])

    def __iter__(self) -> Iterator[Sample]:
        for sample_id in self.ids:
            yield self.get(sample_id)

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self._index

    def get(self, sample_id: str) -> Sample:
        """The sample with id ``sample_id``; KeyError naming the split when it is absent."""
        location = self._index.get(sample_id)
        if location is None:
            raise KeyError(f"no sample {sample_id!r} in split {self.split!r} of {self.root}")
        key = (location.shard, location.row_group)
        if key != self._cached_key:
            group = self._files[location.shard].read_row_group(location.row_group)
            self._cached_rows = group.to_pylist()
            self._cached_key = key
        return _to_sample(self._cached_rows[location.offset], default_split=self.split)

    def iter_columns(self, columns: Sequence[str] | None = None, *, batch_size: int = 1024) -> Iterator[dict[str, Any]]:
        """Yield one dict per row with only ``columns`` (default: every non-image column).

        Rows come in storage order (shard by shard). Image bytes are read only if asked for.
        """
        if columns is None:
            columns = [name for name in self.schema.names if name not in _IMAGE_COLUMNS]
        unknown = [c for c in columns if c not in self.schema.names]
        if unknown:
            raise ValueError(f"unknown columns {unknown}; available: {self.schema.names}")
        for handle in self._files:
            for batch in handle.iter_batches(batch_size=batch_size, columns=list(columns)):
                yield from batch.to_pylist()

    def __repr__(self) -> str:
        return f"DatasetReader(root={str(self.root)!r}, split={self.split!r}, samples={len(self.ids)})"


def _to_sample(row: dict[str, Any], *, default_split: str) -> Sample:
    images = {}
    for name in _IMAGE_COLUMNS:
        value = row.get(name)
        if not value or value.get("bytes") is None:
            raise ValueError(f"sample {row.get('id')!r} has no {name} image bytes")
        images[name] = value["bytes"]
    degradation_text = row.get("degradation")
    degradation = json.loads(degradation_text) if degradation_text else {}
    if not isinstance(degradation, dict):
        raise ValueError(f"sample {row['id']!r}: degradation must be a JSON object, got {type(degradation).__name__}")
    rest = {k: v for k, v in row.items() if k not in _SAMPLE_COLUMNS}
    return Sample(
        id=row["id"],
        split=row.get("split") or default_split,
        hr_bytes=images["hr"],
        lq_bytes=images["lq"],
        scale=int(row["scale"]),
        faces=list(row.get("faces") or []),
        references=list(row.get("references") or []),
        degradation=degradation,
        row=rest,
    )
