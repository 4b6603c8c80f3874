"""The metric interface and the metadata each metric carries beside its name.

Kinds:

- ``fr`` (full reference): ``compute(sr, hr, mask=None) -> float`` on two ``(H, W, 3) uint8``
  images of the same size (a region crop). ``mask`` is an ``(H, W) bool`` array selecting the
  pixels that count (the seam ring); metrics that cannot restrict themselves to a mask declare
  ``supports_mask = False`` and the runner passes them ``where(mask, sr, hr)`` instead, so only
  the masked pixels can differ.
- ``nr`` (no reference): ``compute(sr) -> float``.
- ``identity``: ``compute_face(sr, hr, face) -> float`` on whole images with one face.
- ``set``: ``compute_set(sr_dir, hr_dir) -> float`` over folders (FID).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

__all__ = ["KINDS", "REGIONS", "Metric", "MetricUnavailable", "check_pair", "check_unmasked_pair"]

KINDS = ("fr", "nr", "identity", "set")
REGIONS = ("full", "face", "face_aligned", "seam")


class MetricUnavailable(RuntimeError):
    """A metric cannot run here (missing weights or package); recorded as ``status=unavailable``."""

    def __init__(self, reason: str, missing_file: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing_file = missing_file


def check_pair(sr: Any, hr: Any, mask: Any = None) -> None:
    """Validate a full-reference input pair: same-shape ``(H, W, 3) uint8`` arrays (+ bool mask)."""
    for what, img in (("sr", sr), ("hr", hr)):
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            got = f"{img.shape} {img.dtype}" if isinstance(img, np.ndarray) else type(img).__name__
            raise ValueError(f"expected {what} as (H, W, 3) uint8, got {got}")
    if sr.shape != hr.shape:
        raise ValueError(f"sr and hr must have the same shape, got {sr.shape} and {hr.shape}")
    if mask is not None and (not isinstance(mask, np.ndarray) or mask.shape != sr.shape[:2]):
        raise ValueError(f"mask must be a bool array of shape {sr.shape[:2]}, got "
                         f"{getattr(mask, 'shape', type(mask).__name__)}")


def check_unmasked_pair(name: str, sr: Any, hr: Any, mask: Any, min_side: int, needs: str) -> None:
    """:func:`check_pair` for metrics without mask support whose regions need ``min_side`` px.

    Raises ``ValueError`` naming the metric when a mask is given (the runner passes
    ``where(mask, sr, hr)`` to such metrics instead) or when the shorter side is below
    ``min_side`` (``needs`` says why, e.g. "five scales of an 11x11 window").
    """
    if mask is not None:
        raise ValueError(f"{name} cannot restrict itself to a mask; pass where(mask, sr, hr)")
    check_pair(sr, hr)
    h, w = sr.shape[:2]
    if min(h, w) < min_side:
        raise ValueError(f"{name}: region {w}x{h} is smaller than the {min_side}px {needs}")


class Metric:
    """Base class: metadata beside the name, plus the compute method of its kind.

    Args:
        name: the metric's name in records (``psnr_y``, ``lpips``, ``identity_dlib`` ...).
        kind: one of :data:`KINDS`.
        lower_better: direction used for ranks and the paired test.
        score_range: ``(low, high)`` typical range (``None`` for unbounded ends), for reports.
        regions: regions this metric is computed on (subset of :data:`REGIONS`).
        device: torch device for learned metrics.
    """

    supports_mask: bool = False

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        lower_better: bool,
        score_range: tuple[float | None, float | None] | list[float | None] = (None, None),
        regions: tuple[str, ...] | list[str] = REGIONS,
        device: str = "cpu",
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"metric name must be a non-empty string, got {name!r}")
        if kind not in KINDS:
            raise ValueError(f"metric kind must be one of {KINDS}, got {kind!r}")
        if not isinstance(lower_better, bool):
            raise TypeError(f"lower_better must be a bool, got {lower_better!r}")
        regions = tuple(regions)
        bad = [r for r in regions if r not in REGIONS]
        if bad:
            raise ValueError(f"unknown regions {bad}; expected a subset of {REGIONS}")
        if len(tuple(score_range)) != 2:
            raise ValueError(f"score_range must be (low, high), got {score_range!r}")
        self.name = name
        self.kind = kind
        self.lower_better = lower_better
        self.score_range = tuple(score_range)
        self.regions = regions
        self.device = device

    def config(self) -> dict[str, Any]:
        """Parameters that change values (conventions, variants); part of the cache key."""
        return {}

    def convention(self) -> dict[str, Any]:
        """Pixel conventions that make numbers comparable (colour, crop border, eps), for warnings."""
        return {}

    def config_hash(self) -> str:
        payload = {"class": f"{type(self).__module__}.{type(self).__qualname__}", "name": self.name,
                   "config": self.config()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:12]

    def info(self) -> dict[str, Any]:
        """Metadata for the manifest and records."""
        return {"name": self.name, "kind": self.kind, "lower_better": self.lower_better,
                "score_range": list(self.score_range), "regions": list(self.regions),
                "config": self.config(), "config_hash": self.config_hash()}

    def check_available(self) -> None:
        """Raise :class:`MetricUnavailable` when weights/packages are missing (default: none)."""

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        raise TypeError(f"metric {self.name!r} of kind {self.kind!r} has no per-image compute()")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, config={self.config()!r})"
