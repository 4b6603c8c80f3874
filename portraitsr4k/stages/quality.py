"""Quality: texture filter per sample (cheap, on the reduced decode) and the learned-IQA cut.

Per sample: :func:`texture_check` rejects photos outside the Laplacian-variance band or with
too many flat Sobel patches (4KLSDB thresholds, see :mod:`portraitsr4k.quality.texture`), and
records learned IQA scores when a model is configured. The learned-IQA percentile cut needs all
scores, so it is a global step: :func:`iqa_percentile_cut`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from portraitsr4k.quality.texture import TextureScores, texture_scores
from portraitsr4k.stages.outcome import StageOutcome, ok, rejected

__all__ = ["QualitySettings", "texture_check", "iqa_percentile_cut"]

STAGE = "quality"


@dataclass(frozen=True)
class QualitySettings:
    """Texture thresholds (4KLSDB code values by default) and whether to apply them."""

    enabled: bool = True
    min_laplacian_var: float = 150.0
    max_laplacian_var: float = 8000.0
    patch_px: int = 240
    flat_var: float = 800.0
    max_flat_ratio: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.min_laplacian_var < self.max_laplacian_var:
            raise ValueError(
                f"need 0 <= min_laplacian_var < max_laplacian_var, got {self.min_laplacian_var}, "
                f"{self.max_laplacian_var}"
            )
        if not 0.0 < self.max_flat_ratio <= 1.0:
            raise ValueError(f"max_flat_ratio must be in (0, 1], got {self.max_flat_ratio}")
        if self.patch_px < 8 or self.flat_var <= 0:
            raise ValueError(f"patch_px must be >= 8 and flat_var > 0, got {self.patch_px}, {self.flat_var}")


def texture_check(
    rgb: np.ndarray, full_long_side: int, settings: QualitySettings
) -> tuple[StageOutcome, TextureScores]:
    """Score ``rgb`` ((h, w, 3) uint8 reduced copy) and apply the texture thresholds."""
    start = time.perf_counter()
    scores = texture_scores(rgb, full_long_side=full_long_side, patch_px=settings.patch_px,
                            flat_var=settings.flat_var)
    seconds = time.perf_counter() - start
    if not settings.enabled:
        return ok(STAGE, "texture filter disabled", seconds), scores
    if scores.laplacian_var <= settings.min_laplacian_var:
        return rejected(STAGE, "blurry", f"Laplacian variance {scores.laplacian_var:.1f} <= "
                        f"{settings.min_laplacian_var}", seconds), scores
    if scores.laplacian_var >= settings.max_laplacian_var:
        return rejected(STAGE, "noisy", f"Laplacian variance {scores.laplacian_var:.1f} >= "
                        f"{settings.max_laplacian_var}", seconds), scores
    if scores.flat_patch_ratio >= settings.max_flat_ratio:
        return rejected(STAGE, "flat", f"flat-patch ratio {scores.flat_patch_ratio:.2f} >= "
                        f"{settings.max_flat_ratio}", seconds), scores
    return ok(STAGE, "", seconds), scores


def iqa_percentile_cut(scores: Mapping[str, float], percentile: float) -> dict[str, str]:
    """Global learned-IQA cut: ``{sample id: message}`` for samples scoring below the
    ``percentile``-th percentile (numpy ``linear`` method) of all ``scores`` (id -> score).

    Deterministic: depends only on the set of (id, score) pairs, not their order.
    """
    if not 0.0 <= percentile < 100.0:
        raise ValueError(f"percentile must be in [0, 100), got {percentile}")
    if not scores or percentile == 0.0:
        return {}
    values = np.array([scores[k] for k in sorted(scores)], dtype=np.float64)
    cut = float(np.percentile(values, percentile))
    return {k: f"IQA {scores[k]:.4f} < {percentile}th percentile {cut:.4f}"
            for k in sorted(scores) if scores[k] < cut}
