"""Cached SR outputs ``<out>/outputs/<dataset>/<method>/<id>.png`` with a JSON sidecar each.

The sidecar (``<id>.json``) holds the method's config hash, the time the method took and the
output size. An output is reused only when the sidecar's hash equals the method's current
``config_hash()``, so changing a method's configuration invalidates its outputs (they are
recomputed and overwritten). PNG (lossless, compress level 1) keeps cached pixels identical to
what the method returned, so metrics on a cached output equal metrics on a fresh one.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["OutputCache"]


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class OutputCache:
    """SR outputs of one benchmark folder (``out_dir``)."""

    def __init__(self, out_dir: Path | str) -> None:
        self.root = Path(out_dir) / "outputs"

    def folder(self, dataset: str, method: str) -> Path:
        """``outputs/<dataset>/<method>``."""
        return self.root / dataset / method

    def path(self, dataset: str, method: str, image_id: str) -> Path:
        return self.folder(dataset, method) / f"{image_id}.png"

    def meta(self, dataset: str, method: str, image_id: str) -> dict[str, Any] | None:
        side = self.path(dataset, method, image_id).with_suffix(".json")
        try:
            return json.loads(side.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def get(self, dataset: str, method: str, method_hash: str, image_id: str) -> np.ndarray | None:
        """The cached ``(H, W, 3) uint8`` output if it was made by this config, else ``None``."""
        meta = self.meta(dataset, method, image_id)
        png = self.path(dataset, method, image_id)
        if meta is None or meta.get("method_hash") != method_hash or not png.is_file():
            return None
        from portraitsr4k.image_io import decode

        return decode(png).rgb

    def put(self, dataset: str, method: str, method_hash: str, image_id: str, sr: np.ndarray,
            runtime_s: float) -> Path:
        """Store an output (PNG first, sidecar last: a sidecar implies a complete PNG)."""
        from portraitsr4k.image_io import encode_png

        png = self.path(dataset, method, image_id)
        png.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(png, encode_png(sr, compress_level=1))
        meta = {"method_hash": method_hash, "runtime_s": runtime_s, "height": int(sr.shape[0]),
                "width": int(sr.shape[1])}
        _atomic_write(png.with_suffix(".json"), json.dumps(meta).encode())
        return png
