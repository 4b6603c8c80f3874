"""Any pyiqa metric (``pyiqa.create_metric``) with its metadata and an explicit large-image policy.

Learned metrics cannot run on a whole 4K image everywhere (VGG-based LPIPS/DISTS need ~15-24 GB
of GPU memory untiled, ~2 min per pair on a 2-core CPU), so each config declares one policy,
recorded in the records' metric config and in the manifest:

- ``full``: the whole region as is.
- ``resize``: if the long side exceeds ``max_side``, downscale (PIL bicubic with antialiasing,
  the same for SR and HR) so that it equals ``max_side``.
- ``tiles``: non-overlapping ``tile`` x ``tile`` tiles (edge tiles smaller), value = pixel-
  weighted mean of per-tile values. Exact for metrics that average a per-pixel map (LPIPS) up
  to the tile borders' receptive-field effects.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from PIL import Image

from benchmarks.metrics.base import Metric, MetricUnavailable, check_pair
from benchmarks.metrics.weights import require_weights

logger = logging.getLogger(__name__)

__all__ = ["PyiqaMetric", "to_tensor"]

_POLICIES = ("full", "resize", "tiles")


def to_tensor(rgb: np.ndarray, device: str | torch.device) -> torch.Tensor:
    """``(H, W, 3) uint8`` -> ``(1, 3, H, W) float32 in [0, 1]`` on ``device``."""
    t = torch.from_numpy(np.array(rgb, dtype=np.uint8, copy=True)).permute(2, 0, 1)[None].float().div_(255.0)
    return t.to(device)


def _resize_long_side(rgb: np.ndarray, max_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = max_side / max(h, w)
    if s >= 1:
        return rgb
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BICUBIC, reducing_gap=None))


class PyiqaMetric(Metric):
    """A pyiqa metric.

    Args:
        name: name in records (may differ from pyiqa's, e.g. ``psnr_y_pyiqa``).
        pyiqa_name: pyiqa's registry name (``lpips``, ``dists``, ``musiq``, ``maniqa-pipal`` ...).
        kind: ``fr`` or ``nr``.
        lower_better / score_range / regions: metadata (see :class:`Metric`).
        options: keyword arguments for ``pyiqa.create_metric`` (e.g. ``test_y_channel``).
        weights: catalog names (:mod:`portraitsr4k.weights`) of the files it needs; missing ->
            :class:`MetricUnavailable`, recorded as a skipped cell with the reason.
        hf_files: ``"owner/repo:filename"`` files the network loads from the Hugging Face cache
            (e.g. timm backbones); missing -> unavailable, naming the file.
        policy / max_side / tile: large-image policy (module docstring).
        min_side: smallest region side the network accepts; smaller regions raise a
            ``ValueError`` that the runner records as an error row with this reason.
    """

    def __init__(self, *, name: str, pyiqa_name: str, kind: str, lower_better: bool,
                 score_range: tuple[float | None, float | None] | list[float | None] = (None, None),
                 regions: tuple[str, ...] | list[str] = ("full", "face", "face_aligned", "seam"),
                 options: dict[str, Any] | None = None, weights: list[str] | tuple[str, ...] = (),
                 hf_files: list[str] | tuple[str, ...] = (), policy: str = "full",
                 max_side: int | None = None, tile: int | None = None, min_side: int = 1,
                 device: str = "cpu") -> None:
        if kind not in ("fr", "nr"):
            raise ValueError(f"PyiqaMetric kind must be 'fr' or 'nr', got {kind!r}")
        super().__init__(name=name, kind=kind, lower_better=lower_better, score_range=score_range,
                         regions=regions, device=device)
        if policy not in _POLICIES:
            raise ValueError(f"policy must be one of {_POLICIES}, got {policy!r}")
        if policy == "resize" and (not isinstance(max_side, int) or max_side < 16):
            raise ValueError(f"policy 'resize' needs max_side >= 16, got {max_side!r}")
        if policy == "tiles" and (not isinstance(tile, int) or tile < 16):
            raise ValueError(f"policy 'tiles' needs tile >= 16, got {tile!r}")
        self.pyiqa_name = pyiqa_name
        self.options = dict(options or {})
        self.weights = tuple(weights)
        self.hf_files = tuple(hf_files)
        for item in self.hf_files:
            if item.count(":") != 1:
                raise ValueError(f"hf_files entries must be 'owner/repo:filename', got {item!r}")
        self.policy, self.max_side, self.tile, self.min_side = policy, max_side, tile, int(min_side)
        self._net: Any = None

    def config(self) -> dict[str, Any]:
        import pyiqa

        return {"pyiqa_name": self.pyiqa_name, "options": self.options, "policy": self.policy,
                "max_side": self.max_side, "tile": self.tile, "pyiqa": pyiqa.__version__}

    def convention(self) -> dict[str, Any]:
        opts = self.options
        if "test_y_channel" in opts or "crop_border" in opts:
            return {"color": "y" if opts.get("test_y_channel") else "rgb",
                    "color_space": opts.get("color_space"), "crop_border": opts.get("crop_border", 0)}
        return {}

    def check_available(self) -> None:
        try:
            import pyiqa
        except ImportError as err:  # pragma: no cover - pyiqa is a base dependency
            raise MetricUnavailable(f"{self.name}: pyiqa is not installed ({err})", "pyiqa") from err
        if self.pyiqa_name not in pyiqa.list_models():
            raise ValueError(f"{self.name}: pyiqa has no metric {self.pyiqa_name!r}")
        require_weights(self.weights, who=f"metric {self.name} (pyiqa {self.pyiqa_name})")
        from huggingface_hub import try_to_load_from_cache

        for item in self.hf_files:
            repo, filename = item.split(":")
            if not isinstance(try_to_load_from_cache(repo, filename), str):
                raise MetricUnavailable(
                    f"metric {self.name} (pyiqa {self.pyiqa_name}) needs {filename} of the Hugging Face repo "
                    f"{repo} in the HF cache; on a connected machine run `huggingface-cli download {repo} "
                    f"{filename}`", filename)

    @property
    def net(self) -> Any:
        """The pyiqa ``InferenceModel`` (created on first use, after the weights check)."""
        if self._net is None:
            self.check_available()
            import pyiqa

            self._net = pyiqa.create_metric(self.pyiqa_name, device=torch.device(self.device), **self.options)
            self._net.eval()
        return self._net

    def _score(self, sr: np.ndarray, hr: np.ndarray | None) -> float:
        if min(sr.shape[:2]) < self.min_side:
            raise ValueError(f"{self.name}: region {sr.shape[1]}x{sr.shape[0]} is smaller than the "
                             f"{self.min_side}px this network accepts")
        with torch.no_grad():
            args = [to_tensor(sr, self.device)] + ([to_tensor(hr, self.device)] if hr is not None else [])
            return float(self.net(*args).reshape(-1)[0].item())

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        """``sr`` (and ``hr`` for ``fr``) ``(H, W, 3) uint8``; ``mask`` is not supported (None)."""
        if mask is not None:
            raise ValueError(f"{self.name} cannot restrict itself to a mask; pass where(mask, sr, hr)")
        if self.kind == "fr":
            check_pair(sr, hr)
        else:
            check_pair(sr, sr)
            hr = None
        if self.policy == "resize":
            sr = _resize_long_side(sr, self.max_side)
            hr = _resize_long_side(hr, self.max_side) if hr is not None else None
        if self.policy != "tiles":
            return self._score(sr, hr)
        total, weight = 0.0, 0
        h, w = sr.shape[:2]
        for y in range(0, h, self.tile):
            for x in range(0, w, self.tile):
                a = sr[y:y + self.tile, x:x + self.tile]
                b = hr[y:y + self.tile, x:x + self.tile] if hr is not None else None
                n = a.shape[0] * a.shape[1]
                total += self._score(a, b) * n
                weight += n
        return total / weight
