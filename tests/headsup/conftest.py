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
