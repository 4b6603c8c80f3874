"""verify_dataset / portraitsr4k-verify: passes on a good build, names every broken shard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from portraitsr4k.cli.verify import main as verify_main
from portraitsr4k.dataset.manifest import MANIFEST_NAME, record_shard
from portraitsr4k.dataset.schema import PAIR_FEATURES
from portraitsr4k.dataset.verify import verify_dataset
from portraitsr4k.dataset.writer import shard_name, write_shard

SHARD = "data/train-00001-of-00002.parquet"


def _kinds(report) -> set[tuple[str, str]]:
    return {(p.path, p.kind) for p in report.problems}


def test_good_build_passes(manifested_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = verify_dataset(manifested_build, decode_images=False, progress=False)
    assert report.ok, report.problems
    assert report.shards_checked == 4 and report.rows_checked == 8
    assert verify_main([str(manifested_build), "--no-decode", "--quiet"]) == 0
    assert "OK" in capsys.readouterr().out


def test_flipped_byte_names_the_shard(manifested_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = manifested_build / SHARD
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside the image pages of the second row group area
    path.write_bytes(bytes(data))
    report = verify_dataset(manifested_build, decode_images=False, progress=False)
    assert not report.ok
    assert {p.path for p in report.problems} == {SHARD}
    assert (SHARD, "sha256") in _kinds(report)
    assert verify_main([str(manifested_build), "--no-decode", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"FAIL {SHARD}: sha256" in err


def test_flipped_byte_in_page_fails_crc(manifested_build: Path) -> None:
    path = manifested_build / SHARD
    data = bytearray(path.read_bytes())
    # Corrupt the first image payload (JPEG SOI marker of the first HR) inside its data page.
    start = data.find(b"\xff\xd8\xff")
    data[start + 50] ^= 0x80
    path.write_bytes(bytes(data))
    kinds = _kinds(verify_dataset(manifested_build, decode_images=False, progress=False))
    assert (SHARD, "sha256") in kinds and (SHARD, "checksum") in kinds


def test_missing_extra_and_incomplete(manifested_build: Path) -> None:
    shutil.copy(manifested_build / SHARD, manifested_build / "data" / shard_name("train", 2, 3))
    (manifested_build / "data" / shard_name("test", 0, 1)).unlink()
    (manifested_build / "data" / "notes.parquet").write_bytes(b"x")
    kinds = _kinds(verify_dataset(manifested_build, decode_images=False, progress=False))
    assert ("data/test-00000-of-00001.parquet", "missing") in kinds
    assert ("data/train-00002-of-00003.parquet", "extra") in kinds
    assert ("data/train-*", "incomplete") in kinds
    assert ("data/notes.parquet", "bad_name") in kinds


def test_row_count_and_size_mismatch(manifested_build: Path) -> None:
    manifest_path = manifested_build / MANIFEST_NAME
    data = json.loads(manifest_path.read_text())
    data["shards"][SHARD]["rows"] += 1
    data["shards"]["data/test-00000-of-00001.parquet"]["bytes"] += 7
    manifest_path.write_text(json.dumps(data))
    kinds = _kinds(verify_dataset(manifested_build, decode_images=False, progress=False))
    assert kinds == {(SHARD, "rows"), ("data/test-00000-of-00001.parquet", "size")}


def test_wrong_schema_named(manifested_build: Path) -> None:
    pairs = [{"id": "a", "reference_id": "b", "face_index": 0, "reference_face_index": 0,
              "similarity": 0.5, "identity": 1, "split": "test"}]
    (manifested_build / "data" / shard_name("test", 0, 1)).unlink()
    info = write_shard(pairs, manifested_build / "data" / shard_name("test", 0, 1), features=PAIR_FEATURES)
    record_shard(manifested_build, info)
    kinds = _kinds(verify_dataset(manifested_build, decode_images=False, progress=False))
    assert kinds == {("data/test-00000-of-00001.parquet", "schema")}


def test_no_manifest(tmp_path: Path) -> None:
    report = verify_dataset(tmp_path, progress=False)
    assert [(p.path, p.kind) for p in report.problems] == [(MANIFEST_NAME, "manifest")]
    assert verify_main([str(tmp_path), "--quiet"]) == 1


def test_decode_checks(manifested_build: Path, make_row) -> None:
    good = verify_dataset(manifested_build, progress=False)
    assert good.ok and good.images_decoded == 14  # 7 rows x (hr, lq)
    broken = make_row(5, split="test")
    broken["hr"] = {"bytes": b"GIF89a-but-not-an-image", "path": None}
    resized = make_row(6, split="test")
    resized["lq_width"] = 17
    target = manifested_build / "data" / shard_name("test", 0, 1)
    record_shard(manifested_build, write_shard([broken, resized], target))
    report = verify_dataset(manifested_build, progress=False)
    messages = [str(p) for p in report.problems]
    assert len(messages) == 3, messages
    assert "scale: row '0000000000000006': LQ 17x16 is not HR 64x64 // 4 = 16x16" in messages[0]
    assert messages[1].startswith("data/test-00000-of-00001.parquet: decode: row '0000000000000005': hr does not decode")
    assert "lq is 16x16, columns say 17x16" in messages[2]


def test_scale_and_viewer_limits(manifested_build: Path, make_row, monkeypatch: pytest.MonkeyPatch) -> None:
    row = make_row(5, split="test")
    row["lq_height"] = 15  # HR is 64 px high, scale 4: LQ must be 16
    target = manifested_build / "data" / shard_name("test", 0, 1)
    record_shard(manifested_build, write_shard([row, make_row(6, split="test")], target))
    report = verify_dataset(manifested_build, decode_images=False, progress=False)
    assert [str(p) for p in report.problems] == [
        "data/test-00000-of-00001.parquet: scale: row '0000000000000005': LQ 16x15 is not HR 64x64 // 4 = 16x16"]
    monkeypatch.setattr("portraitsr4k.dataset.verify.VIEWER_MAX_ROW_GROUP_BYTES", 1000)
    monkeypatch.setattr("portraitsr4k.dataset.verify.HUB_MAX_FOLDER_ENTRIES", 3)
    kinds = _kinds(verify_dataset(manifested_build, decode_images=False, progress=False))
    assert (SHARD, "row_group") in kinds and ("data", "folder") in kinds
