"""The :class:`Face` record shared by detectors, the builder, the benchmark and HeadsUp.

Coordinates are image pixels (x to the right, y down), float, in the frame of the image the
face was detected on (or mapped to with :meth:`Face.scaled`). The five landmarks are, in this
order: left eye, right eye, nose tip, left mouth corner, right mouth corner, where left/right
mean *image* left/right (the order MTCNN, RetinaFace and SCRFD emit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Face", "LANDMARK_NAMES"]

LANDMARK_NAMES: tuple[str, ...] = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

BBox = tuple[float, float, float, float]
Landmarks = tuple[tuple[float, float], ...]


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{what}: expected a number, got {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{what}: expected a finite number, got {out}")
    return out


@dataclass(frozen=True)
class Face:
    """One detected face.

    Attributes:
        bbox: ``(x1, y1, x2, y2)`` box in pixels, ``x1 <= x2`` and ``y1 <= y2``. May extend past
            the image border (detectors report the full face extent).
        landmarks: 5 ``(x, y)`` points (left eye, right eye, nose, left mouth, right mouth).
        score: detector confidence (backend-specific scale, higher is more confident).
    """

    bbox: BBox
    landmarks: Landmarks
    score: float

    def __post_init__(self) -> None:
        if not isinstance(self.bbox, Sequence) or len(self.bbox) != 4:
            raise ValueError(f"bbox: expected 4 numbers (x1, y1, x2, y2), got {self.bbox!r}")
        bbox = tuple(_finite(v, "bbox") for v in self.bbox)
        if bbox[2] < bbox[0] or bbox[3] < bbox[1]:
            raise ValueError(f"bbox: expected x1 <= x2 and y1 <= y2, got {bbox}")
        if not isinstance(self.landmarks, Sequence) or len(self.landmarks) != 5:
            raise ValueError(f"landmarks: expected 5 (x, y) points, got {self.landmarks!r}")
        points = []
        for i, point in enumerate(self.landmarks):
            if not isinstance(point, Sequence) or len(point) != 2:
                raise ValueError(f"landmarks[{i}]: expected an (x, y) pair, got {point!r}")
            points.append((_finite(point[0], f"landmarks[{i}].x"), _finite(point[1], f"landmarks[{i}].y")))
        object.__setattr__(self, "bbox", bbox)
        object.__setattr__(self, "landmarks", tuple(points))
        object.__setattr__(self, "score", _finite(self.score, "score"))

    @property
    def interocular(self) -> float:
        """Distance between the two eye landmarks in pixels (the builder's face-size measure)."""
        (lx, ly), (rx, ry) = self.landmarks[0], self.landmarks[1]
        return math.hypot(rx - lx, ry - ly)

    @property
    def width(self) -> float:
        return self.bbox[2] - self.bbox[0]

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]

    def scaled(self, sx: float, sy: float) -> Face:
        """The same face with every x multiplied by ``sx`` and every y by ``sy``.

        Used to map detections made on a reduced decode (e.g. a JPEG draft at 1/4 size) to the
        full-resolution frame: ``sx = full_width / reduced_width``. Pixel coordinates here are
        continuous (the top-left corner of the image is (0, 0)), so plain multiplication is exact.
        """
        sx, sy = _finite(sx, "sx"), _finite(sy, "sy")
        if sx <= 0 or sy <= 0:
            raise ValueError(f"scale factors must be > 0, got sx={sx}, sy={sy}")
        x1, y1, x2, y2 = self.bbox
        return Face(
            bbox=(x1 * sx, y1 * sy, x2 * sx, y2 * sy),
            landmarks=tuple((x * sx, y * sy) for x, y in self.landmarks),
            score=self.score,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``faces`` item of :mod:`portraitsr4k.dataset.schema` (plain lists and floats)."""
        return {
            "bbox": [float(v) for v in self.bbox],
            "landmarks": [[float(x), float(y)] for x, y in self.landmarks],
            "score": float(self.score),
            "interocular": float(self.interocular),
        }

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> Face:
        """Inverse of :meth:`to_dict`; ``interocular`` is recomputed, not trusted."""
        if not isinstance(item, Mapping):
            raise TypeError(f"expected a mapping with bbox/landmarks/score, got {type(item).__name__}")
        missing = [k for k in ("bbox", "landmarks", "score") if k not in item]
        if missing:
            raise ValueError(f"face dict is missing {missing}; got keys {sorted(item)}")
        return cls(
            bbox=tuple(item["bbox"]),
            landmarks=tuple(tuple(p) for p in item["landmarks"]),
            score=item["score"],
        )
