"""Degrade photos with several presets and lay the results out side by side.

Each photo is centre-cropped to a multiple of the scale (at most ``scale - 1`` px per side), each
preset is drawn with a generator seeded from ``(seed, photo name, preset)``, and the drawn
parameter records are returned next to the sheet so the LQ images can be replayed exactly.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

import degradations

logger = logging.getLogger(__name__)

__all__ = ["DegradationSheet", "make_degradation_sheet", "stable_seed"]


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from ``parts`` that is the same in every process (unlike ``hash()``)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def crop_to_multiple(rgb: np.ndarray, scale: int) -> np.ndarray:
    """Centre-crop ``(H, W, 3)`` so both sides are multiples of ``scale``."""
    h, w = rgb.shape[:2]
    top, left = (h % scale) // 2, (w % scale) // 2
    return rgb[top : top + h - h % scale, left : left + w - w % scale]


@dataclass
class DegradationSheet:
    """The sheet image and, per photo and preset, the drawn parameter record."""

    image: Image.Image
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    lq_shapes: dict[str, dict[str, list[int]]] = field(default_factory=dict)


def _thumb(rgb: np.ndarray, size: int, resample: int) -> Image.Image:
    img = Image.fromarray(rgb)
    scale = size / max(img.size)
    new = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    canvas = Image.new("RGB", (size, size), (32, 32, 32))
    canvas.paste(img.resize(new, resample), ((size - new[0]) // 2, (size - new[1]) // 2))
    return canvas


def make_degradation_sheet(
    photos: Mapping[str, np.ndarray],
    presets: Sequence[str],
    *,
    scale: int = 4,
    seed: int = 0,
    cell: int = 256,
) -> DegradationSheet:
    """Degrade every photo with every preset and build a labelled grid.

    Args:
        photos: name -> ``(H, W, 3)`` uint8 RGB image.
        presets: preset names from :data:`degradations.PRESETS`.
        scale: downscaling factor; LQ is exactly ``(H // scale, W // scale)`` after the crop.
        seed: base seed; each (photo, preset) gets its own generator.
        cell: thumbnail size in pixels. LQ thumbnails use nearest-neighbour upsampling so the
            degradation is visible as it is.

    Returns:
        A :class:`DegradationSheet` (grid: one row per photo, columns HR then each preset).
    """
    if not photos:
        raise ValueError("make_degradation_sheet needs at least one photo, got none")
    label_h = 18
    cols = 1 + len(presets)
    sheet = Image.new("RGB", (cols * cell, label_h + len(photos) * cell), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(["HR", *presets]):
        draw.text((c * cell + 4, 3), title, fill=(0, 0, 0))
    result = DegradationSheet(image=sheet)
    for r, (name, rgb) in enumerate(photos.items()):
        hr = crop_to_multiple(rgb, scale)
        hr_t = torch.from_numpy(hr.copy()).permute(2, 0, 1).float().div(255.0)
        y = label_h + r * cell
        sheet.paste(_thumb(hr, cell, Image.BICUBIC), (0, y))
        draw.text((4, y + 3), name, fill=(255, 255, 0))
        result.params[name] = {}
        result.lq_shapes[name] = {}
        for c, preset in enumerate(presets, start=1):
            deg = degradations.build(preset, scale=scale)
            gen = torch.Generator().manual_seed(stable_seed(seed, name, preset))
            lq, params = deg(hr_t, gen)
            lq_u8 = (lq.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
            result.params[name][preset] = params.to_dict()
            result.lq_shapes[name][preset] = list(lq_u8.shape)
            sheet.paste(_thumb(lq_u8, cell, Image.NEAREST), (c * cell, y))
            logger.debug("%s / %s: LQ %s", name, preset, lq_u8.shape)
    return result
