"""Fixtures for the degradations tests: HR tensors from the factories and shipped photos."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(3, H, W)`` float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float() / 255.0


@pytest.fixture
def hr_image(make_image: Callable[..., np.ndarray]) -> Callable[..., torch.Tensor]:
    """``hr_image(height, width, kind="photo", seed=0)`` -> ``(3, H, W)`` float32 in [0, 1]."""

    def factory(height: int, width: int, kind: str = "photo", seed: int = 0) -> torch.Tensor:
        return to_tensor(make_image(height, width, kind, seed))

    return factory


@pytest.fixture
def astronaut(sample_rgb: Callable[[str], np.ndarray]) -> torch.Tensor:
    """scikit-image's astronaut portrait, ``(3, 512, 512)`` float32 in [0, 1]."""
    return to_tensor(sample_rgb("astronaut"))


@pytest.fixture(scope="session")
def basicsr():
    """basicsr 1.4.2, the test-only reference (installed by the Makefile with --no-deps; its
    import needs the torchvision shim, which tests/conftest.py loads first)."""
    import basicsr.data.degradations
    import basicsr.utils.img_process_util

    return basicsr
