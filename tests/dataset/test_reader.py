"""DatasetReader: indexing, random access, column pruning, incomplete builds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from portraitsr4k.dataset.reader import DatasetReader, Sample
from portraitsr4k.dataset.writer import shard_name, write_shard


def test_index_and_get(build_dir: Path, make_row) -> None:
    assert DatasetReader.splits(build_dir) == ["test", "train"]
    ds = DatasetReader(build_dir, split="train")
    assert len(ds) == 5
    assert ds.ids == sorted(f"{i:016x}" for i in range(5))
    s = ds.get(f"{3:016x}")
    assert isinstance(s, Sample)
    expected = make_row(3)
    assert s.hr_bytes == expected["hr"]["bytes"] and s.lq_bytes == expected["lq"]["bytes"]
    assert s.scale == 4 and s.split == "train"
    assert s.degradation == json.loads(expected["degradation"])
    assert s.references == [f"{6:016x}"]
    assert s.faces[0]["interocular"] == pytest.approx(67.0)
    assert s.faces[0]["landmarks"] == [[10.0, 12.0]] * 5
    assert s.row["source"] == "folder:img_3.jpg" and s.row["license"] == "CC0-1.0"
    assert "hr" not in s.row and "id" not in s.row
    assert ds[0].id == ds.ids[0] and ds[-1].id == ds.ids[-1]
    assert [x.id for x in ds] == ds.ids
    with pytest.raises(KeyError, match="train"):
        ds.get("nope")
    with pytest.raises(IndexError):
        ds[5]


def test_reader_accepts_data_dir_and_reads_test_split(build_dir: Path) -> None:
    ds = DatasetReader(build_dir / "data", split="test")
    assert len(ds) == 2 and all(s.split == "test" for s in ds)


def test_iter_columns_prunes_images(build_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = DatasetReader(build_dir, split="train")
    seen: list[list[str]] = []
    real = pq.ParquetFile.iter_batches

    def spy(self, *args, **kwargs):
        seen.append(list(kwargs["columns"]))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    rows = list(ds.iter_columns(["id", "faces", "identity"]))
    assert [r["id"] for r in rows] == [f"{i:016x}" for i in range(5)]  # storage order
    assert set(rows[0]) == {"id", "faces", "identity"}
    assert all("hr" not in cols and "lq" not in cols for cols in seen)
    default = next(iter(ds.iter_columns()))
    assert "hr" not in default and "lq" not in default and "phash" in default
    with pytest.raises(ValueError, match="unknown columns \\['bogus'\\]"):
        list(ds.iter_columns(["bogus"]))


def test_incomplete_build_refused(build_dir: Path) -> None:
    (build_dir / "data" / shard_name("train", 1, 2)).unlink()
    with pytest.raises(ValueError, match="missing indices \\[1\\]"):
        DatasetReader(build_dir, split="train")
    with pytest.raises(FileNotFoundError, match="validation"):
        DatasetReader(build_dir, split="validation")


def test_duplicate_ids_refused(tmp_path: Path, make_row) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_shard([make_row(0)], data / shard_name("train", 0, 2))
    write_shard([make_row(0)], data / shard_name("train", 1, 2))
    with pytest.raises(ValueError, match="duplicate id"):
        DatasetReader(tmp_path, split="train")


def test_temp_files_are_ignored(build_dir: Path) -> None:
    (build_dir / "data" / ".train-00000-of-00002.parquet.123.abc.tmp").write_bytes(b"partial")
    assert len(DatasetReader(build_dir, split="train")) == 5


def test_corrupt_page_raises_on_read(build_dir: Path) -> None:
    path = build_dir / "data" / shard_name("test", 0, 1)
    ds = DatasetReader(build_dir, split="test")
    payload = ds[0].hr_bytes[200:240]
    data = bytearray(path.read_bytes())
    data[data.find(payload) + 3] ^= 0x01
    path.write_bytes(bytes(data))
    ds = DatasetReader(build_dir, split="test")
    with pytest.raises(OSError, match="(?i)crc|checksum"):
        [ds.get(i) for i in ds.ids]


def test_decoded_pixels(build_dir: Path, make_image) -> None:
    s = DatasetReader(build_dir, split="train").get(f"{1:016x}")
    hr, lq = s.hr(), s.lq()
    assert hr.shape == (64, 64, 3) and hr.dtype == np.uint8
    assert lq.shape == (16, 16, 3) and lq.dtype == np.uint8
    # HR is a JPEG of the factory image: close to it, not equal.
    assert np.abs(hr.astype(int) - make_image(64, 64, "photo", seed=1).astype(int)).mean() < 6


def test_face_objects(build_dir: Path) -> None:
    from portraitsr4k.faces import Face

    (face,) = DatasetReader(build_dir, split="train").get(f"{2:016x}").face_objects()
    assert isinstance(face, Face)
    assert face.bbox == (4.0, 4.0, 40.0, 44.0) and face.landmarks[0] == (10.0, 12.0)
    assert face.score == pytest.approx(0.99)


def test_undecodable_hr_raises_naming_sample(tmp_path: Path, make_row) -> None:
    row = make_row(0)
    row["hr"] = {"bytes": b"\xff\xd8\xff not really a jpeg", "path": None}
    (tmp_path / "data").mkdir()
    write_shard([row], tmp_path / "data" / shard_name("train", 0, 1))
    sample = DatasetReader(tmp_path, split="train")[0]
    with pytest.raises(ValueError, match=f"{0:016x}.*hr does not decode"):
        sample.hr()
    assert sample.lq().shape == (16, 16, 3)
