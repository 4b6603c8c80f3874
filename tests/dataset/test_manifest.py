"""manifest.json: config hashing, deterministic bytes, protocol (entry after shard), resume."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from portraitsr4k.dataset.manifest import (
    MANIFEST_NAME,
    Manifest,
    config_hash,
    forget_shards,
    read_manifest,
    record_shard,
    start_manifest,
)
from portraitsr4k.dataset.schema import SCHEMA_VERSION
from portraitsr4k.dataset.writer import ShardInfo, shard_name, write_shard

CONFIG = {"seed": 0, "degradation": {"preset": "realesrgan", "blur": [0.2, 3.0]}, "out_dir": "/x"}


def test_config_hash_is_stable_and_sensitive() -> None:
    h = config_hash(CONFIG)
    assert h == config_hash({"out_dir": "/x", "seed": 0, "degradation": {"blur": [0.2, 3.0], "preset": "realesrgan"}})
    assert h == config_hash(OmegaConf.create(CONFIG))
    changed = {**CONFIG, "degradation": {"preset": "realesrgan", "blur": [0.2, 3.1]}}
    assert config_hash(changed) != h
    assert len(h) == 64


def test_unhashable_config_raises() -> None:
    with pytest.raises(TypeError, match="config.model .* object"):
        config_hash({"model": object()})
    with pytest.raises(TypeError, match="mapping"):
        config_hash(["not", "a", "mapping"])


def test_manifest_contents(manifested_build: Path) -> None:
    data = json.loads((manifested_build / MANIFEST_NAME).read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["package"]["name"] == "portraitsr4k"
    assert {"pyarrow", "datasets", "numpy", "torch"} <= set(data["dependencies"])
    assert sorted(data["shards"]) == [
        "data/test-00000-of-00001.parquet", "data/train-00000-of-00002.parquet",
        "data/train-00001-of-00002.parquet", "pairs/train-00000-of-00001.parquet"]
    entry = data["shards"]["data/train-00000-of-00002.parquet"]
    path = manifested_build / "data/train-00000-of-00002.parquet"
    assert entry["rows"] == 3 and entry["bytes"] == path.stat().st_size
    manifest = read_manifest(manifested_build)
    assert manifest.rows_per_split() == {"pairs/train": 1, "test": 2, "train": 5}
    assert Manifest.from_dict(data).to_json() == (manifested_build / MANIFEST_NAME).read_text()


def test_rebuild_gives_identical_manifest(tmp_path: Path, make_row) -> None:
    texts = []
    for name in ("a", "b"):
        out = tmp_path / name
        (out / "data").mkdir(parents=True)
        start_manifest(out, CONFIG)
        record_shard(out, write_shard([make_row(1), make_row(2)], out / "data" / shard_name("train", 0, 1)))
        texts.append((out / MANIFEST_NAME).read_bytes())
    assert texts[0] == texts[1]


def test_resume_and_config_mismatch(tmp_path: Path, make_row) -> None:
    start_manifest(tmp_path, CONFIG)
    (tmp_path / "data").mkdir()
    record_shard(tmp_path, write_shard([make_row(1)], tmp_path / "data" / shard_name("train", 0, 1)))
    resumed = start_manifest(tmp_path, CONFIG)
    assert list(resumed.shards) == ["data/train-00000-of-00001.parquet"]
    with pytest.raises(ValueError, match="another build"):
        start_manifest(tmp_path, {**CONFIG, "seed": 1})
    forget_shards(tmp_path, ["data/train-00000-of-00001.parquet"])
    assert read_manifest(tmp_path).shards == {}


def test_record_requires_shard_in_place(tmp_path: Path) -> None:
    start_manifest(tmp_path, CONFIG)
    ghost = ShardInfo(path=tmp_path / "data" / "train-00000-of-00001.parquet", rows=1, sha256="0" * 64, bytes=10)
    with pytest.raises(FileNotFoundError, match="only after write_shard"):
        record_shard(tmp_path, ghost)
    outside = ShardInfo(path=tmp_path.parent / "x.parquet", rows=1, sha256="0" * 64, bytes=10)
    with pytest.raises(ValueError, match="not inside out_dir"):
        record_shard(tmp_path, outside)


def _write_and_record(args: tuple[str, int]) -> None:
    out, index = args
    from portraitsr4k.dataset.schema import PAIR_FEATURES

    pair = {"id": f"p{index}", "reference_id": "r", "face_index": 0, "reference_face_index": 0,
            "similarity": 0.9, "identity": index, "split": "train"}
    info = write_shard([pair], Path(out) / "pairs" / shard_name("train", index, 8), features=PAIR_FEATURES)
    record_shard(out, info)


def test_concurrent_record_keeps_every_entry(tmp_path: Path) -> None:
    start_manifest(tmp_path, CONFIG)
    (tmp_path / "pairs").mkdir()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_write_and_record, [(str(tmp_path), i) for i in range(8)])
    assert len(read_manifest(tmp_path).shards) == 8
    assert not list(tmp_path.glob(".manifest.json.*.tmp"))
