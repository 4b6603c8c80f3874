"""Fixtures for the HeadsUp tests: tiny base models built from ``conf/model/tiny.yaml``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

import headsup_model  # noqa: F401  (torchvision compat first)

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture(scope="session")
def tiny_model_cfg() -> dict[str, Any]:
    """``conf/model/tiny.yaml`` as a plain dict (with ``_target_``)."""
    return OmegaConf.to_container(OmegaConf.load(CONF / "model" / "tiny.yaml"), resolve=True)


@pytest.fixture
def tiny_components(tiny_model_cfg: dict[str, Any]) -> Callable[..., Any]:
    """Factory of fresh tiny base parts (same seed → same weights)."""
    from headsup_model.weights_io import base_spec_from_config, build_base

    def factory(seed: int = 0) -> Any:
        spec = base_spec_from_config(tiny_model_cfg)
        spec["kwargs"]["seed"] = seed
        return build_base(spec)

    return factory


def _face(x: float, y: float, size: float) -> dict[str, Any]:
    """A face annotation (box + 5 landmarks in FFHQ-like proportions) at (x, y) with side ``size``."""
    lm = [[x + 0.32 * size, y + 0.42 * size], [x + 0.68 * size, y + 0.42 * size], [x + 0.5 * size, y + 0.6 * size],
          [x + 0.36 * size, y + 0.78 * size], [x + 0.64 * size, y + 0.78 * size]]
    return {"bbox": [x, y, x + size, y + size], "landmarks": lm, "score": 0.99, "interocular": 0.36 * size}


@pytest.fixture
def tiny_dataset(tmp_path: Path, make_encoded: Callable[..., bytes]) -> Path:
    """A 4-photo ``train`` split in the builder's layout (``data/train-00000-of-00001.parquet``):
    synthetic 96×128 photos with annotated faces; photos 0 and 1 reference each other; photo 3
    has no face."""
    from portraitsr4k.dataset.schema import empty_row
    from portraitsr4k.dataset.writer import shard_name, write_shard

    root = tmp_path / "ds"
    (root / "data").mkdir(parents=True)
    faces = [[_face(20, 16, 48)], [_face(50, 30, 40), _face(4, 4, 24)], [_face(60, 40, 30)], []]
    refs = [["p1"], ["p0"], [], []]
    rows = []
    for i in range(4):
        row = empty_row()
        hr = make_encoded("PNG", 96, 128, seed=i)
        lq = make_encoded("PNG", 24, 32, seed=i)
        row.update(id=f"p{i}", source=f"test:{i}", hr=hr, hr_format="png", hr_width=128, hr_height=96, lq=lq,
                   lq_width=32, lq_height=24, scale=4, faces=faces[i], references=refs[i], identity=i // 2,
                   split="train", degradation="{}", degradation_preset="bicubic", degradation_seed=0)
        rows.append(row)
    write_shard(rows, root / "data" / shard_name("train", 0, 1))
    return root
