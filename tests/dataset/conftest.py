"""Fixtures for the dataset storage tests: schema-complete rows with real encoded images."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from portraitsr4k.dataset.schema import empty_row
from portraitsr4k.dataset.writer import shard_name, write_shard

RowFactory = Callable[..., dict[str, Any]]


def _encode(rgb: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buffer.getvalue()


@pytest.fixture
def make_row(make_image: Callable[..., np.ndarray]) -> RowFactory:
    """``make_row(i, split="train", size=64, scale=4)``: a full schema row, HR JPEG + LQ PNG."""

    def factory(i: int, split: str = "train", size: int = 64, scale: int = 4) -> dict[str, Any]:
        hr = make_image(size, size, "photo", seed=i)
        lq = np.asarray(Image.fromarray(hr).resize((size // scale, size // scale), Image.BICUBIC))
        row = empty_row()
        row.update(
            id=f"{i:016x}",
            source=f"folder:img_{i}.jpg",
            license="CC0-1.0",
            source_sha256=f"{i:064x}",
            hr={"bytes": _encode(hr, "JPEG"), "path": f"{i:016x}.jpg"},
            hr_format="source",
            hr_width=size,
            hr_height=size,
            lq={"bytes": _encode(lq, "PNG"), "path": f"{i:016x}.png"},
            lq_width=size // scale,
            lq_height=size // scale,
            scale=scale,
            degradation=json.dumps({"preset": "bicubic", "seed": i, "blur_sigma": 0.5 + i / 10}),
            degradation_preset="bicubic",
            degradation_seed=i,
            faces=[{"bbox": [4.0, 4.0, 40.0, 44.0], "landmarks": [[10.0, 12.0]] * 5,
                    "score": 0.99, "interocular": 64.0 + i}],
            identity=i % 3,
            references=[f"{(i + 3):016x}"],
            laplacian_var=500.0 + i,
            flat_patch_ratio=0.1,
            iqa=[{"name": "piqe", "value": 30.0 + i}],
            phash=f"{i:016x}",
            split=split,
        )
        return row

    return factory


@pytest.fixture
def build_dir(tmp_path: Path, make_row: RowFactory) -> Path:
    """A small build: ``data/train-0000{0,1}-of-00002.parquet`` (3 + 2 rows) and one test shard."""
    out = tmp_path / "build"
    data = out / "data"
    data.mkdir(parents=True)
    write_shard([make_row(i) for i in range(3)], data / shard_name("train", 0, 2))
    write_shard([make_row(i) for i in range(3, 5)], data / shard_name("train", 1, 2))
    write_shard([make_row(i, split="test") for i in range(5, 7)], data / shard_name("test", 0, 1))
    return out


BUILD_CONFIG = {"seed": 0, "source": {"name": "folder", "path": "/photos"}, "scale": 4}


@pytest.fixture
def build_config() -> dict[str, Any]:
    """The config the ``manifested_build`` fixture was built with."""
    return {**BUILD_CONFIG, "source": dict(BUILD_CONFIG["source"])}


@pytest.fixture
def manifested_build(tmp_path: Path, make_row: RowFactory) -> Path:
    """A small build written by the real protocol: manifest first, each shard entry last.

    ``data/``: train (2 shards, 3 + 2 rows) and test (1 shard, 2 rows); ``pairs/``: one train shard.
    """
    from portraitsr4k.dataset.manifest import record_shard, start_manifest
    from portraitsr4k.dataset.schema import PAIR_FEATURES

    out = tmp_path / "manifested"
    (out / "data").mkdir(parents=True)
    (out / "pairs").mkdir()
    start_manifest(out, BUILD_CONFIG)
    layout = [("train", 0, 2, range(3)), ("train", 1, 2, range(3, 5)), ("test", 0, 1, range(5, 7))]
    for split, index, total, ids in layout:
        info = write_shard([make_row(i, split=split) for i in ids], out / "data" / shard_name(split, index, total))
        record_shard(out, info)
    pairs = [{"id": f"{0:016x}", "reference_id": f"{3:016x}", "face_index": 0, "reference_face_index": 0,
              "similarity": 0.8, "identity": 0, "split": "train"}]
    record_shard(out, write_shard(pairs, out / "pairs" / shard_name("train", 0, 1), features=PAIR_FEATURES))
    return out
