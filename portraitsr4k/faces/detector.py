"""The detector interface every backend implements, and detection on a reduced decode."""

from __future__ import annotations

import abc
import logging
import numbers

import numpy as np

from portraitsr4k.faces.types import Face

__all__ = ["FaceDetector", "check_rgb", "detect_on_reduced"]

logger = logging.getLogger(__name__)


def check_rgb(rgb: object, what: str = "rgb") -> np.ndarray:
    """Validate an ``(H, W, 3)`` uint8 RGB array and return it C-contiguous.

    Raises:
        TypeError: not a numpy array, or not uint8.
        ValueError: wrong shape or an empty image.
    """
    if not isinstance(rgb, np.ndarray):
        raise TypeError(f"{what}: expected an (H, W, 3) uint8 numpy array, got {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise TypeError(f"{what}: expected dtype uint8 (RGB 0..255), got {rgb.dtype}")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"{what}: expected shape (H, W, 3), got {rgb.shape}")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ValueError(f"{what}: empty image {rgb.shape}")
    return np.ascontiguousarray(rgb)


class FaceDetector(abc.ABC):
    """Finds faces with 5 landmarks in an RGB image.

    Subclasses implement :meth:`_detect`; :meth:`detect` validates the input, drops faces below
    ``min_score`` and sorts by score (highest first), so every backend behaves the same way.
    """

    #: short backend name recorded next to results (e.g. ``"mtcnn"``).
    name: str = "detector"

    def __init__(self, *, min_score: float) -> None:
        if not isinstance(min_score, numbers.Real) or isinstance(min_score, bool):
            raise TypeError(f"min_score: expected a float, got {type(min_score).__name__}")
        if not 0.0 <= float(min_score) <= 1.0:
            raise ValueError(f"min_score: expected a value in [0, 1], got {min_score}")
        self.min_score = float(min_score)

    @abc.abstractmethod
    def _detect(self, rgb: np.ndarray) -> list[Face]:
        """Raw detections on a validated ``(H, W, 3)`` uint8 RGB array (any order, any score)."""

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Detect faces in ``rgb`` ``(H, W, 3)`` uint8 RGB.

        Returns:
            Faces with ``score >= min_score``, sorted by score, highest first; coordinates in
            the pixel frame of ``rgb``.
        """
        rgb = check_rgb(rgb)
        faces = [f for f in self._detect(rgb) if f.score >= self.min_score]
        faces.sort(key=lambda f: f.score, reverse=True)
        logger.debug("%s: %d face(s) on a %dx%d image", self.name, len(faces), rgb.shape[1], rgb.shape[0])
        return faces

    def __repr__(self) -> str:
        return f"{type(self).__name__}(min_score={self.min_score})"


def detect_on_reduced(detector: FaceDetector, rgb_reduced: np.ndarray, scale_x: float,
                      scale_y: float) -> list[Face]:
    """Detect on a reduced decode and map the faces to the full-resolution frame.

    Args:
        detector: any :class:`FaceDetector`.
        rgb_reduced: ``(h, w, 3)`` uint8 RGB, e.g. a JPEG draft decode at 1/2..1/8 size.
        scale_x: ``full_width / w`` (the image_io decode reports it).
        scale_y: ``full_height / h``.

    Returns:
        Faces in full-resolution pixels, sorted by score (highest first).

    Detecting on a reduced image is also the right thing for accuracy, not only speed: the
    detectors are trained on faces of roughly 10-300 px, so a 1500 px face in a 4K frame is
    found more reliably after reduction (reliability-and-performance.md A5 row 24).
    """
    for value, what in ((scale_x, "scale_x"), (scale_y, "scale_y")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{what}: expected a float (full / reduced size), got {type(value).__name__}")
        if not value > 0:
            raise ValueError(f"{what}: expected > 0, got {value}")
    return [face.scaled(float(scale_x), float(scale_y)) for face in detector.detect(rgb_reduced)]
