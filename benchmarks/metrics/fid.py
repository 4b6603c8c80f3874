"""FID between the folder of SR outputs and the folder of HR images (or precomputed stats).

A set-level metric: one value per (dataset, method), stored with ``image_id = "*"`` and
``region = "full"``. pyiqa's clean-fid port resizes every image to 299x299 with its own
antialiased resize (``mode="clean"``), so 4K inputs are handled by that declared resize.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from benchmarks.metrics.base import Metric, MetricUnavailable
from benchmarks.metrics.weights import require_weights

logger = logging.getLogger(__name__)

__all__ = ["FID"]


class FID(Metric):
    """Frechet Inception Distance (pyiqa ``fid``, clean-fid port); lower is better.

    Args:
        mode: clean-fid mode (``clean``, ``legacy_pytorch``, ``legacy_tensorflow``).
        dataset_name / dataset_res / dataset_split: compare against pyiqa's precomputed stats
            (e.g. ``FFHQ``, 1024) instead of the HR folder when ``dataset_name`` is set.
        min_images: fewer SR images than this -> unavailable (FID of a handful is meaningless).
    """

    def __init__(self, *, name: str = "fid", mode: str = "clean", dataset_name: str | None = None,
                 dataset_res: int = 1024, dataset_split: str = "train", min_images: int = 2,
                 batch_size: int = 8, device: str = "cpu") -> None:
        super().__init__(name=name, kind="set", lower_better=True, score_range=(0.0, None),
                         regions=("full",), device=device)
        if mode not in ("clean", "legacy_pytorch", "legacy_tensorflow"):
            raise ValueError(f"mode must be clean, legacy_pytorch or legacy_tensorflow, got {mode!r}")
        self.mode, self.dataset_name = mode, dataset_name
        self.dataset_res, self.dataset_split = int(dataset_res), dataset_split
        self.min_images, self.batch_size = int(min_images), int(batch_size)

    def config(self) -> dict[str, Any]:
        ref = (f"stats:{self.dataset_name}/{self.dataset_res}/{self.dataset_split}"
               if self.dataset_name else "hr_folder")
        return {"mode": self.mode, "reference": ref, "resize": "clean-fid 299 (antialiased)"}

    def check_available(self) -> None:
        require_weights(("pyiqa_fid_inception",), who=f"metric {self.name}")

    def compute_set(self, sr_dir: Path, hr_dir: Path) -> float:
        """FID of the images in ``sr_dir`` against ``hr_dir`` (or against the configured stats)."""
        self.check_available()
        n = sum(1 for p in Path(sr_dir).iterdir() if p.suffix.lower() == ".png")
        if n < self.min_images:
            raise MetricUnavailable(f"{self.name}: {n} images, fewer than min_images={self.min_images}")
        import pyiqa

        net = pyiqa.create_metric("fid", device=torch.device(self.device))
        # The InferenceModel passes its own device to the arch; num_workers=0 keeps loading in-process.
        kwargs: dict[str, Any] = {"mode": self.mode, "batch_size": self.batch_size, "num_workers": 0,
                                  "verbose": False}
        if self.dataset_name:
            kwargs.update(dataset_name=self.dataset_name, dataset_res=self.dataset_res,
                          dataset_split=self.dataset_split)
            return float(net(str(sr_dir), **kwargs))
        return float(net(str(sr_dir), str(hr_dir), **kwargs))
