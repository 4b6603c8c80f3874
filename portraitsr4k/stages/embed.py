"""Embed: one L2-normalised identity embedding per kept face.

Faces that pass the 64 px rule are small on the detector-sized decode (a 64 px interocular in a
4000 px photo is ~20 px at long side 1280), too small for a recogniser whose aligned chip has
~50 px between the eyes. The photo is therefore decoded again at the *largest* JPEG reduction
(1, 2, 4 or 8) that keeps the smallest kept face at ``min_embed_interocular`` px or more; a big
face costs a cheap 1/8 decode, a small one a full decode.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from portraitsr4k.stages.outcome import StageOutcome, ok, rejected

__all__ = ["EmbedSettings", "embed_faces", "choose_reduce"]

STAGE = "embed"


@dataclass(frozen=True)
class EmbedSettings:
    """``min_embed_interocular``: smallest interocular (px) a face may have in the decode that is
    embedded."""

    min_embed_interocular: float = 48.0

    def __post_init__(self) -> None:
        if self.min_embed_interocular <= 0:
            raise ValueError(f"min_embed_interocular must be > 0, got {self.min_embed_interocular}")


def choose_reduce(smallest_interocular: float, min_embed_interocular: float) -> int:
    """Largest factor in (8, 4, 2, 1) with ``smallest_interocular / factor >= min_embed_interocular``."""
    for factor in (8, 4, 2):
        if smallest_interocular / factor >= min_embed_interocular:
            return factor
    return 1


def embed_faces(
    data: bytes, faces: tuple, embedder: Any, settings: EmbedSettings
) -> tuple[StageOutcome, np.ndarray | None]:
    """Embed ``faces`` (full-resolution :class:`portraitsr4k.faces.Face` objects) of the photo
    ``data``. Returns the outcome and an (N, D) float32 array of unit vectors (None on reject)."""
    from portraitsr4k import image_io

    start = time.perf_counter()
    factor = choose_reduce(min(f.interocular for f in faces), settings.min_embed_interocular)
    decoded = image_io.decode(data, reduce=factor)
    if not decoded.ok:
        reason = str(decoded.status).split(":", 1)[-1]
        return rejected(STAGE, reason, decoded.message, time.perf_counter() - start), None
    local = [f.scaled(1.0 / decoded.scale_x, 1.0 / decoded.scale_y) for f in faces]
    vectors = np.asarray(embedder.embed_many(decoded.rgb, local), dtype=np.float32)
    if vectors.shape[0] != len(faces):
        raise RuntimeError(f"embedder {embedder!r} returned {vectors.shape[0]} vectors for {len(faces)} faces")
    return ok(STAGE, f"{len(faces)} faces embedded at 1/{factor}", time.perf_counter() - start), vectors
