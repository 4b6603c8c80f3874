"""MTCNN (facenet-pytorch): the default, fully offline face detector.

The P/R/O-Net weights ship inside the facenet-pytorch wheel (``facenet_pytorch/data/*.pt``),
so this backend needs no download. On the CPU the cascade runs through
:mod:`portraitsr4k.faces.mtcnn_cascade` (facenet-pytorch's results to the bit, with the
candidate resampling batched: ~25-35% less time per photo); on other devices through
facenet-pytorch's own ``MTCNN.detect``.

Default thresholds: MTCNN's own stage thresholds ``(0.6, 0.7, 0.7)`` are kept for the cascade,
and the *final* O-Net probability is cut at ``min_score=0.95``. On the shipped 6-person group
photo (insightface ``t1.jpg``) the cascade returns 8 boxes: the 6 real faces score 0.975..1.0
and two spurious small boxes (41-51 px wide, 15-20 px interocular) score 0.869 and 0.863; 0.95
keeps exactly the 6 faces, and single portraits (grace_hopper, astronaut, pyiqa I04) score
> 0.999. ``tests/faces/test_mtcnn.py`` checks these counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from portraitsr4k.faces.detector import FaceDetector
from portraitsr4k.faces.mtcnn_cascade import run_cascade
from portraitsr4k.faces.types import Face

__all__ = ["MTCNNDetector"]

logger = logging.getLogger(__name__)


def _faces(boxes: np.ndarray, scores: np.ndarray, points: np.ndarray) -> list[Face]:
    """Faces from ``(N, 4)`` boxes, ``(N,)`` scores and ``(N, 5, 2)`` landmarks (any float dtype)."""
    return [Face(bbox=tuple(float(v) for v in b), landmarks=tuple((float(x), float(y)) for x, y in p),
                 score=float(s))
            for b, s, p in zip(np.asarray(boxes, np.float64), np.asarray(scores, np.float64),
                               np.asarray(points, np.float64))]


class MTCNNDetector(FaceDetector):
    """facenet-pytorch MTCNN with 5 landmarks.

    Args:
        device: torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
        min_score: final O-Net probability cut (see the module docstring for the choice of 0.95).
        min_face_size: smallest face side searched for, in pixels of the input image.
        thresholds: the three cascade stage thresholds (P-Net, R-Net, O-Net).
        factor: image-pyramid scale step, in (0, 1).
    """

    name = "mtcnn"
    supports_min_face = True

    def __init__(self, *, device: str = "cpu", min_score: float = 0.95, min_face_size: int = 20,
                 thresholds: Sequence[float] = (0.6, 0.7, 0.7), factor: float = 0.709) -> None:
        super().__init__(min_score=min_score)
        if isinstance(min_face_size, bool) or not isinstance(min_face_size, int) or min_face_size < 4:
            raise ValueError(f"min_face_size: expected an int >= 4 (pixels), got {min_face_size!r}")
        thresholds = tuple(float(t) for t in thresholds)
        if len(thresholds) != 3 or not all(0.0 <= t <= 1.0 for t in thresholds):
            raise ValueError(f"thresholds: expected 3 values in [0, 1], got {thresholds}")
        if not 0.0 < float(factor) < 1.0:
            raise ValueError(f"factor: expected a pyramid step in (0, 1), got {factor}")
        try:
            from facenet_pytorch import MTCNN
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the MTCNN detector needs facenet-pytorch: "
                "pip install --no-deps facenet-pytorch==2.6.0 (see the Makefile's NODEPS)"
            ) from exc
        self.device = str(device)
        self.min_face_size = min_face_size
        self.thresholds = thresholds
        self.factor = float(factor)
        self._model = MTCNN(keep_all=True, min_face_size=min_face_size, thresholds=list(thresholds),
                            factor=self.factor, post_process=False, device=self.device)
        self._model.eval()

    @property
    def search_floor_px(self) -> float:
        """MTCNN's ``min_face_size``: its image pyramid starts where such a face is 12 px."""
        return float(self.min_face_size)

    def _detect(self, rgb: np.ndarray, min_face_px: float | None = None) -> list[Face]:
        import torch

        # The pyramid starts at 12 / search px: a larger search size drops its biggest, most
        # expensive levels (P-Net cost grows with the square of the first level's scale).
        search = max(self.min_face_size, int(min_face_px or 0))
        if min(rgb.shape[:2]) < search:
            # no face of the searched size fits; facenet-pytorch would build an empty image
            # pyramid and fail inside torch.cat
            return []
        if torch.device(self.device).type == "cpu":
            # Our cascade: facenet-pytorch's detect_face to the bit, with batched resampling.
            with torch.inference_mode():
                boxes, points = run_cascade(rgb, self._model.pnet, self._model.rnet, self._model.onet,
                                            min_face=search, thresholds=self.thresholds, factor=self.factor)
            return _faces(boxes[:, :4], boxes[:, 4], points)
        self._model.min_face_size = search
        try:
            with torch.inference_mode():
                found, probs, marks = self._model.detect(rgb, landmarks=True)
        finally:
            self._model.min_face_size = self.min_face_size
        if found is None:
            return []
        # Under numpy 2, facenet-pytorch returns object-dtype arrays (it builds them from a list
        # of per-image arrays); convert before any arithmetic.
        return _faces(np.asarray(found, dtype=np.float64).reshape(-1, 4), np.asarray(probs, dtype=np.float64).reshape(-1),
                      np.asarray(marks, dtype=np.float64).reshape(-1, 5, 2))

    def __repr__(self) -> str:
        return (f"MTCNNDetector(device={self.device!r}, min_score={self.min_score}, "
                f"min_face_size={self.min_face_size}, thresholds={self.thresholds})")
