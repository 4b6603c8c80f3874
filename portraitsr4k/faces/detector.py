"""The detector interface every backend implements, and detection on a reduced decode."""

from __future__ import annotations

import abc
import logging
import numbers

import numpy as np

from portraitsr4k.faces.types import Face

__all__ = ["FaceDetector", "MIN_BOX_PER_INTEROCULAR", "check_rgb", "detect_on_reduced"]

logger = logging.getLogger(__name__)

#: Lower bound on (shorter side of a detector's face box) / (interocular distance), used to turn
#: "I only need faces with interocular >= d px" into a detector search size. Measured with MTCNN
#: on the shipped portraits (grace_hopper, astronaut, the 6-face group photo, pyiqa I04; 27
#: faces at scales 1, 0.5 and 0.3): the ratio ranges 1.95-2.96 (frontal faces are the
#: tightest). 1.6 keeps an 18% margin below the smallest observed ratio.
MIN_BOX_PER_INTEROCULAR = 1.6


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
    #: True when ``_detect`` takes ``min_face_px`` and searches only faces of at least that size.
    supports_min_face: bool = False

    @property
    def search_floor_px(self) -> float | None:
        """Smallest face-box side (px of the input) the backend can find at all, or ``None``
        when it has no fixed floor. Lets a caller pick the input resolution at which the
        smallest face it needs is exactly as small as the detector can see."""
        return None

    def __init__(self, *, min_score: float) -> None:
        if not isinstance(min_score, numbers.Real) or isinstance(min_score, bool):
            raise TypeError(f"min_score: expected a float, got {type(min_score).__name__}")
        if not 0.0 <= float(min_score) <= 1.0:
            raise ValueError(f"min_score: expected a value in [0, 1], got {min_score}")
        self.min_score = float(min_score)

    @abc.abstractmethod
    def _detect(self, rgb: np.ndarray) -> list[Face]:
        """Raw detections on a validated ``(H, W, 3)`` uint8 RGB array (any order, any score)."""

    def detect(self, rgb: np.ndarray, *, min_face_px: float | None = None) -> list[Face]:
        """Detect faces in ``rgb`` ``(H, W, 3)`` uint8 RGB.

        Args:
            rgb: the image.
            min_face_px: optional hint, the smallest face-box side (px of ``rgb``) the caller
                needs. Backends with a search-size knob (``supports_min_face``: MTCNN's image
                pyramid) then skip the scales that only find smaller faces, which is most of
                their cost; smaller faces may still come back. Other backends ignore it.

        Returns:
            Faces with ``score >= min_score``, sorted by score, highest first; coordinates in
            the pixel frame of ``rgb``.
        """
        rgb = check_rgb(rgb)
        if min_face_px is not None:
            if isinstance(min_face_px, bool) or not isinstance(min_face_px, numbers.Real) or not min_face_px >= 0:
                raise ValueError(f"min_face_px: expected a number >= 0 (pixels) or None, got {min_face_px!r}")
        raw = self._detect(rgb, min_face_px=min_face_px) if self.supports_min_face else self._detect(rgb)
        faces = [f for f in raw if f.score >= self.min_score]
        faces.sort(key=lambda f: f.score, reverse=True)
        logger.debug("%s: %d face(s) on a %dx%d image", self.name, len(faces), rgb.shape[1], rgb.shape[0])
        return faces

    def __repr__(self) -> str:
        return f"{type(self).__name__}(min_score={self.min_score})"


def detect_on_reduced(detector: FaceDetector, rgb_reduced: np.ndarray, scale_x: float,
                      scale_y: float, *, min_interocular: float | None = None) -> list[Face]:
    """Detect on a reduced decode and map the faces to the full-resolution frame.

    Args:
        detector: any :class:`FaceDetector`.
        rgb_reduced: ``(h, w, 3)`` uint8 RGB, e.g. a JPEG draft decode at 1/2..1/8 size.
        scale_x: ``full_width / w`` (the image_io decode reports it).
        scale_y: ``full_height / h``.
        min_interocular: optional, the smallest full-resolution interocular distance (px) the
            caller keeps. It becomes the detector's ``min_face_px`` hint
            (``min_interocular / max(scale) * MIN_BOX_PER_INTEROCULAR``): on a 4000 px photo
            detected at 1024 px, the paper's 64 px rule needs no face box under ~26 px. MTCNN on a
            1024x768 photo-like image, one core, no face: 0.59 s searching from 20 px, 0.30 s
            from 24 px, 0.22 s from 28 px (measured with ``detect`` timed directly).

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
    hint = None
    if min_interocular is not None:
        if isinstance(min_interocular, bool) or not isinstance(min_interocular, numbers.Real) or min_interocular < 0:
            raise ValueError(f"min_interocular: expected a number >= 0 (pixels) or None, got {min_interocular!r}")
        hint = float(min_interocular) / max(float(scale_x), float(scale_y)) * MIN_BOX_PER_INTEROCULAR
    faces = detector.detect(rgb_reduced, min_face_px=hint)
    return [face.scaled(float(scale_x), float(scale_y)) for face in faces]
