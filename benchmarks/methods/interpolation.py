"""Interpolation baselines: PIL bicubic and Lanczos upscaling of the LQ image."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from benchmarks.methods.base import SRMethod, check_lq


class _PILResize(SRMethod):
    _filter: Image.Resampling

    def config(self) -> dict[str, Any]:
        return {"filter": self._filter.name, "pillow": Image.__version__}

    def upscale(self, lq: np.ndarray, *, scale: int, sample: Any = None) -> np.ndarray:
        """``(h, w, 3) uint8`` -> ``(h*scale, w*scale, 3) uint8`` with PIL's resampling filter."""
        lq = check_lq(lq)
        if not isinstance(scale, int) or scale < 1:
            raise ValueError(f"scale must be a positive int, got {scale!r}")
        h, w = lq.shape[:2]
        out = Image.fromarray(lq).resize((w * scale, h * scale), self._filter)
        return np.asarray(out, dtype=np.uint8)


class BicubicMethod(_PILResize):
    """PIL bicubic upscaling (``Image.Resampling.BICUBIC``, a=-0.5 as in MATLAB's imresize)."""

    _filter = Image.Resampling.BICUBIC

    def __init__(self, *, name: str = "bicubic", device: str = "cpu") -> None:
        super().__init__(name=name, device=device)


class LanczosMethod(_PILResize):
    """PIL Lanczos-3 upscaling (``Image.Resampling.LANCZOS``)."""

    _filter = Image.Resampling.LANCZOS

    def __init__(self, *, name: str = "lanczos", device: str = "cpu") -> None:
        super().__init__(name=name, device=device)
