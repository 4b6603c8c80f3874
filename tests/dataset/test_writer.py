"""write_shard: determinism, atomicity, Parquet layout, HF loading."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from portraitsr4k.dataset.schema import FEATURES, PAIR_FEATURES
from portraitsr4k.dataset.writer import ShardInfo, shard_name, write_shard


def test_shard_name_pattern() -> None:
    assert shard_name("train", 0, 3) == "train-00000-of-00003.parquet"
    assert shard_name("test", 12, 100) == "test-00012-of-00100.parquet"
    with pytest.raises(ValueError, match="index"):
        shard_name("train", 3, 3)
    with pytest.raises(ValueError, match="split"):
        shard_name("tr/ain", 0, 1)


def test_same_rows_give_identical_bytes(tmp_path: Path, make_row) -> None:
    rows = [make_row(i) for i in range(4)]
    a = write_shard(rows, tmp_path / "a.parquet", max_row_group_bytes=20_000)
    b = write_shard([dict(r) for r in rows], tmp_path / "b.parquet", max_row_group_bytes=20_000)
    assert a.sha256 == b.sha256
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert a.sha256 == hashlib.sha256((tmp_path / "a.parquet").read_bytes()).hexdigest()
    assert a.rows == 4 and a.bytes == (tmp_path / "a.parquet").stat().st_size
    # Row order is part of the content: a different order gives different bytes.
    c = write_shard(rows[::-1], tmp_path / "c.parquet", max_row_group_bytes=20_000)
    assert c.sha256 != a.sha256


def test_layout_row_groups_compression_and_checksums(tmp_path: Path, make_row) -> None:
    rows = [make_row(i, size=96) for i in range(6)]
    one_row_bytes = len(rows[0]["hr"]["bytes"]) + len(rows[0]["lq"]["bytes"])
    info = write_shard(rows, tmp_path / "s.parquet", max_row_group_bytes=int(2.5 * one_row_bytes))
    meta = pq.ParquetFile(info.path).metadata
    sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    assert sum(sizes) == 6 and max(sizes) <= 2 and meta.num_row_groups >= 3
    assert "version" in meta.created_by  # no timestamp anywhere in the footer metadata
    group = meta.row_group(0)
    by_path = {group.column(j).path_in_schema: group.column(j) for j in range(group.num_columns)}
    assert by_path["hr.bytes"].compression == "UNCOMPRESSED"
    assert "RLE_DICTIONARY" not in by_path["hr.bytes"].encodings
    assert by_path["lq.bytes"].compression == "UNCOMPRESSED"
    assert by_path["id"].compression == "ZSTD"
    assert by_path["id"].has_offset_index and by_path["id"].has_column_index  # page index on
    # Page checksums are present: verification passes on the good file ...
    pq.ParquetFile(info.path, page_checksum_verification=True).read()
    # ... and a flipped byte inside an image page is caught by the CRC.
    data = bytearray(info.path.read_bytes())
    start = data.find(rows[2]["hr"]["bytes"][100:140])
    assert start > 0
    data[start + 5] ^= 0xFF
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(bytes(data))
    with pytest.raises(OSError, match="(?i)crc|checksum"):
        pq.ParquetFile(bad, page_checksum_verification=True).read()


def test_single_huge_row_gets_its_own_group(tmp_path: Path, make_row) -> None:
    info = write_shard([make_row(i) for i in range(3)], tmp_path / "s.parquet", max_row_group_bytes=1)
    assert pq.ParquetFile(info.path).metadata.num_row_groups == 3


def test_enospc_leaves_no_file(tmp_path: Path, make_row, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real_write = pq.ParquetWriter.write_table

    def failing_write(self, table, row_group_size=None):
        calls["n"] += 1
        if calls["n"] == 2:  # the first row group lands on disk, the second hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, table, row_group_size=row_group_size)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", failing_write)
    target = tmp_path / shard_name("train", 0, 1)
    with pytest.raises(OSError) as excinfo:
        write_shard([make_row(i) for i in range(3)], target, max_row_group_bytes=1)
    assert excinfo.value.errno == errno.ENOSPC
    assert calls["n"] == 2
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_previous_shard_untouched(tmp_path: Path, make_row, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / shard_name("train", 0, 1)
    good = write_shard([make_row(0)], target)

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr("portraitsr4k.dataset.writer.os.fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        write_shard([make_row(1)], target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == good.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_rows_must_match_features(tmp_path: Path, make_row) -> None:
    row = make_row(0)
    del row["phash"]
    with pytest.raises(ValueError, match="missing columns \\['phash'\\]"):
        write_shard([row], tmp_path / "x.parquet")
    row = make_row(0)
    row["extra"] = 1
    with pytest.raises(ValueError, match="unexpected columns \\['extra'\\]"):
        write_shard([row], tmp_path / "x.parquet")
    row = make_row(0)
    row["hr"] = "not bytes"
    with pytest.raises(TypeError, match="'hr'"):
        write_shard([row], tmp_path / "x.parquet")
    assert list(tmp_path.iterdir()) == []


def test_raw_bytes_accepted_for_images(tmp_path: Path, make_row) -> None:
    row = make_row(0)
    row["hr"] = row["hr"]["bytes"]
    info = write_shard([row], tmp_path / "x.parquet")
    table = pq.read_table(info.path)
    assert table.column("hr").to_pylist()[0] == {"bytes": row["hr"], "path": None}


def test_hf_schema_and_load_dataset(tmp_path: Path, make_row) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_shard([make_row(i) for i in range(3)], data / shard_name("train", 0, 1))
    assert pq.read_schema(data / shard_name("train", 0, 1)).metadata[b"huggingface"]
    ds = datasets.load_dataset("parquet", data_files={"train": str(data / "train-*.parquet")},
                               split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.features == FEATURES
    image = ds[1]["hr"]
    assert image.size == (64, 64) and image.mode == "RGB"
    assert ds[1]["faces"][0]["interocular"] == pytest.approx(65.0)


def test_pair_features(tmp_path: Path) -> None:
    pair = {"id": "a", "reference_id": "b", "face_index": 0, "reference_face_index": 1,
            "similarity": 0.7, "identity": 3, "split": "train"}
    info = write_shard([pair], tmp_path / "p.parquet", features=PAIR_FEATURES)
    assert isinstance(info, ShardInfo) and info.rows == 1
    (back,) = pq.read_table(info.path).to_pylist()
    assert back["similarity"] == pytest.approx(0.7)  # float32 round trip
    assert {k: v for k, v in back.items() if k != "similarity"} == {
        k: v for k, v in pair.items() if k != "similarity"}
