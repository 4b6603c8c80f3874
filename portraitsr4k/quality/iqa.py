"""Learned no-reference IQA (pyiqa) for the quality stage, with weights checked up front.

pyiqa downloads missing weights on first use; the builder must never do that silently, nor
score with random weights. :class:`LearnedIQA` therefore resolves the weight file through the
project's weights catalog (:func:`portraitsr4k.weights.resolve.resolve`, which raises
``MissingWeightsError`` naming the file and ``portraitsr4k-weights fetch``) or checks that the
HF model folder (Q-Align's ``q-future/one-align``) is in the local HF cache (else
:class:`MissingIQAWeightsError`), before building the metric.

Scores are computed on the reduced decode the builder already holds (long side ~1280 px):
MUSIQ at native 4K resolution feeds ~8k tokens per image (reference B3). The percentile cut
(keep samples scoring at or above the ``percentile``-th percentile, e.g. the top 80 %) is a
global step over all samples, see :func:`portraitsr4k.stages.quality.iqa_percentile_cut`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LearnedIQA", "MissingIQAWeightsError"]

logger = logging.getLogger(__name__)


class MissingIQAWeightsError(FileNotFoundError):
    """The weights of a learned IQA model are not on this machine."""


@dataclass
class LearnedIQA:
    """A pyiqa no-reference metric, higher is better.

    Args:
        name: pyiqa metric name (``musiq``, ``qalign``, ...).
        percentile: samples below this percentile of all scores are rejected (0 keeps all).
        weight_file: name of the checkpoint in :mod:`portraitsr4k.weights.catalog` (e.g.
            ``pyiqa_musiq_koniq``; looked up in pyiqa's cache and the weights home), or ``None``.
        hf_repo: HF model repository that must be in the local HF cache, or ``None``.
        device: torch device string.
    """

    name: str
    percentile: float = 20.0
    weight_file: str | None = None
    hf_repo: str | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("LearnedIQA needs a pyiqa metric name")
        if not 0.0 <= float(self.percentile) < 100.0:
            raise ValueError(f"percentile must be in [0, 100), got {self.percentile}")
        if self.weight_file is None and self.hf_repo is None:
            raise ValueError(f"LearnedIQA({self.name!r}) needs weight_file or hf_repo to check for weights")
        self._metric = None

    def weight_path(self) -> Path:
        """Where the weights are; raises :class:`MissingIQAWeightsError` (or the catalog's
        :class:`portraitsr4k.weights.MissingWeightsError`) when they are absent."""
        if self.weight_file is not None:
            from portraitsr4k.weights.resolve import resolve

            return resolve(self.weight_file)
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return Path(snapshot_download(self.hf_repo, local_files_only=True))
        except (LocalEntryNotFoundError, FileNotFoundError, OSError) as exc:
            raise MissingIQAWeightsError(
                f"learned IQA '{self.name}' needs the HF model {self.hf_repo} in the local HF cache "
                f"({os.environ.get('HF_HOME', '~/.cache/huggingface')}); fetch it on a connected machine with "
                f"`portraitsr4k-weights fetch` (or build with iqa=none)"
            ) from exc

    def load(self) -> None:
        """Check the weights and build the pyiqa metric (once per process)."""
        if self._metric is not None:
            return
        path = self.weight_path()
        try:
            import pyiqa
        except ImportError as exc:  # pragma: no cover - pyiqa is installed with the project
            raise ImportError("learned IQA needs pyiqa: pip install --no-deps pyiqa==0.1.16") from exc
        kwargs = {"pretrained_model_path": str(path)} if self.weight_file is not None else {}
        self._metric = pyiqa.create_metric(self.name, device=self.device, as_loss=False, **kwargs)
        logger.info("loaded learned IQA %s from %s", self.name, path)

    def score(self, rgb: np.ndarray) -> float:
        """Score one (H, W, 3) uint8 RGB image; higher is better."""
        import torch

        self.load()
        tensor = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255.0
        with torch.no_grad():
            value = self._metric(tensor.to(self.device))
        return float(value.reshape(-1)[0])

    def __getstate__(self) -> dict:
        # Workers rebuild the metric themselves; never pickle a loaded network.
        state = dict(self.__dict__)
        state["_metric"] = None
        return state
