"""Precomputed outputs of an external method, read from a folder and matched by sample id."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.methods.base import MethodUnavailable, SRMethod, check_lq

logger = logging.getLogger(__name__)

_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


class FolderMethod(SRMethod):
    """Outputs of any external SR method stored as ``<path>/<sample id>.<ext>``.

    Args:
        name: method name in the records (e.g. the external method's name).
        path: folder holding one image per sample id (png, jpg, webp, bmp or tiff).
        device: unused (kept for the common signature).

    ``upscale`` needs ``sample`` (for its id). A missing or mis-sized file raises
    ``FileNotFoundError``/``ValueError``; :meth:`check_ids` lists every problem at once.
    """

    def __init__(self, *, name: str = "folder", path: str | None = None, device: str = "cpu") -> None:
        super().__init__(name=name, device=device)
        self.path = Path(path).expanduser() if path else None

    def config(self) -> dict[str, Any]:
        return {"path": str(self.path.resolve()) if self.path else None}

    def check_available(self) -> None:
        if self.path is None:
            raise MethodUnavailable("folder method needs `path=DIR` (a folder of <id>.png outputs)")
        if not self.path.is_dir():
            raise MethodUnavailable(f"folder method: {self.path} is not a directory", str(self.path))

    def find(self, sample_id: str) -> Path | None:
        """The file holding ``sample_id``'s output, or ``None``."""
        self.check_available()
        for ext in _EXTENSIONS:
            for candidate in (self.path / f"{sample_id}{ext}", self.path / f"{sample_id}{ext.upper()}"):
                if candidate.is_file():
                    return candidate
        return None

    def check_ids(self, expected: dict[str, tuple[int, int]]) -> list[str]:
        """Problems for ``{id: (height, width)}``: missing files and wrong sizes (empty if fine)."""
        self.check_available()
        problems = []
        for sample_id, (h, w) in expected.items():
            f = self.find(sample_id)
            if f is None:
                problems.append(f"missing {sample_id}.png")
                continue
            with Image.open(f) as img:
                if img.size != (w, h):
                    problems.append(f"{f.name}: size {img.size[0]}x{img.size[1]}, expected {w}x{h}")
        return problems

    def upscale(self, lq: np.ndarray, *, scale: int, sample: Any = None) -> np.ndarray:
        """Read ``<path>/<sample.id>.*`` as ``(h*scale, w*scale, 3) uint8`` RGB."""
        lq = check_lq(lq)
        self.check_available()
        if sample is None or not getattr(sample, "id", None):
            raise TypeError("folder method needs the dataset sample (to match files by id)")
        f = self.find(sample.id)
        if f is None:
            listed = sorted(p.name for p in self.path.iterdir())[:10]
            raise FileNotFoundError(
                f"folder method {self.name!r}: no output for id {sample.id!r} in {self.path} "
                f"(expected {sample.id}.png; first files there: {listed})"
            )
        with Image.open(f) as img:
            out = np.asarray(img.convert("RGB"), dtype=np.uint8)
        expected = (lq.shape[0] * scale, lq.shape[1] * scale)
        if out.shape[:2] != expected:
            raise ValueError(
                f"folder method {self.name!r}: {f.name} is {out.shape[1]}x{out.shape[0]}, "
                f"expected {expected[1]}x{expected[0]} (LQ {lq.shape[1]}x{lq.shape[0]} x{scale})"
            )
        return out
