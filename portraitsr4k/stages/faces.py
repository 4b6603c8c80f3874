"""Faces: detect on a reduced decode, map to full resolution, keep photos with a big enough face.

The photo is decoded at detector size (a JPEG DCT-domain reduction where possible: 2-3x cheaper
than a full decode, reference B1, then an area resize when still larger than needed), faces and
5 landmarks are detected there and mapped to the full-resolution, EXIF-oriented frame. A photo passes when some face has
an interocular distance ``>= min_interocular`` full-resolution pixels (64 in the paper). Faces
below the threshold are dropped from the record: "kept faces" are the ones later stages embed,
pair, keep whole when cropping and store in the ``faces`` column.

The threshold also sets the detector's search size (``search_from_threshold``, on by default):
MTCNN then skips the pyramid levels that only find faces far below the threshold, about half
its cost on a 12 MP photo (see :func:`portraitsr4k.faces.detect_on_reduced`). Faces a little
below the threshold may still be found and are reported as ``small_face`` rejects as before.
With a detector that reports its floor (MTCNN: 20 px), the threshold sets the detector's input
size too (:func:`needed_fraction`): the cheapest DCT reduction at which the smallest face to
keep is still at least the floor (1/4 for 64 px and MTCNN), shrunk to ``max(max_side, that
size)`` when larger. On a 12 MP photo that is a 1/4 draft decode (~25 ms) used as is, instead
of a 1/2 draft (~85 ms) resized to 1024 px; MTCNN's pyramid starts at the same size either
way. On photos above ~5000 px it keeps more resolution than ``max_side`` would, so faces near
the threshold stay above MTCNN's 20 px floor (at 1024 px they fell below it and were missed).
Without it (``search_from_threshold: false`` or another detector) the input is the decode
fitted to ``max_side``.

The ``demo`` source (``relax_gate: true``) uses ``relaxed_min_interocular`` instead: its shipped
portraits are 512-1280 px photos whose faces are 20-90 px apart at the eyes, far below the
4K rule; the relaxation is recorded in the sample's status message.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from portraitsr4k.stages.outcome import StageOutcome, ok, rejected

__all__ = ["FaceSettings", "FaceFinding", "find_faces", "needed_fraction"]

STAGE = "faces"


@dataclass(frozen=True)
class FaceSettings:
    """Settings of the faces stage (see module docstring)."""

    max_side: int = 1024
    min_interocular: float = 64.0
    relaxed_min_interocular: float = 12.0
    search_from_threshold: bool = True

    def __post_init__(self) -> None:
        if not 64 <= self.max_side <= 8192:
            raise ValueError(f"max_side must be in [64, 8192] px, got {self.max_side}")
        if self.min_interocular < 0 or self.relaxed_min_interocular < 0:
            raise ValueError(
                f"interocular thresholds must be >= 0, got {self.min_interocular}, {self.relaxed_min_interocular}"
            )


@dataclass
class FaceFinding:
    """What the faces stage hands on: the reduced decode (reused by quality/dedup) and faces.

    ``decoded`` is a :class:`portraitsr4k.image_io.DecodedImage` (``rgb`` (h, w, 3) uint8,
    ``scale_x``/``scale_y`` = full / reduced); ``faces`` are the kept faces in full-resolution
    pixels, sorted by (x1, y1) so their indices are stable.
    """

    outcome: StageOutcome
    decoded: Any = None
    faces: tuple = ()


def _fit(decoded: Any, max_side: int) -> Any:
    """Shrink a reduced decode to long side ``max_side`` (area filter, a few ms).

    The DCT-domain reduction only halves, so ``max_side=1280`` leaves a 4000 px photo at
    2000 px; MTCNN's cost grows with the pixel count of its image pyramid (2.4x more here), and
    its 20 px minimum face is far below the 64 px-interocular faces the stage keeps.
    """
    import dataclasses

    import cv2

    height, width = decoded.rgb.shape[:2]
    if max(height, width) <= max_side:
        return decoded
    factor = max_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    rgb = cv2.resize(decoded.rgb, size, interpolation=cv2.INTER_AREA)
    return dataclasses.replace(decoded, rgb=rgb, scale_x=decoded.info.width / size[0],
                               scale_y=decoded.info.height / size[1])


def needed_fraction(detector: Any, settings: FaceSettings, threshold: float) -> float | None:
    """Detector input long side / full long side at which the smallest face to keep is exactly
    the detector's floor, or ``None`` when the input size is simply ``max_side``.

    Only with ``search_from_threshold`` and a detector that reports its floor (MTCNN: 20 px):
    the smallest box to keep is ``threshold * MIN_BOX_PER_INTEROCULAR`` full-resolution px
    (102.4 px for the paper's 64 px rule), so the detector needs ``floor / 102.4 = 0.195`` of
    the full resolution and no more: MTCNN's pyramid then starts at the same image size
    whatever the input resolution above that, so a larger input only costs decode and resize
    time. Returns a value in ``(0, 1]`` (1: the full resolution is needed, e.g. the demo's
    relaxed 12 px rule).
    """
    from portraitsr4k.faces import MIN_BOX_PER_INTEROCULAR

    floor = getattr(detector, "search_floor_px", None)
    if not settings.search_from_threshold or not getattr(detector, "supports_min_face", False) or not floor:
        return None
    min_box = threshold * MIN_BOX_PER_INTEROCULAR
    return 1.0 if min_box <= floor else float(floor) / min_box


def find_faces(data: bytes, detector: Any, settings: FaceSettings, *, relaxed: bool = False) -> FaceFinding:
    """Run the faces stage on encoded image bytes with a :class:`portraitsr4k.faces.FaceDetector`."""
    from portraitsr4k import image_io
    from portraitsr4k.faces import detect_on_reduced

    start = time.perf_counter()
    threshold = settings.relaxed_min_interocular if relaxed else settings.min_interocular
    needed = needed_fraction(detector, settings, threshold)
    if needed is None:
        decoded = image_io.decode(data, max_side=settings.max_side)
    else:
        # The largest DCT-domain reduction that keeps the smallest face we need at or above
        # the detector's floor (1/4 for the paper's 64 px rule and MTCNN's 20 px).
        decoded = image_io.decode(data, reduce=max(r for r in (1, 2, 4, 8) if r * needed <= 1.0))
    if not decoded.ok:
        reason = str(decoded.status).split(":", 1)[-1]
        return FaceFinding(rejected(STAGE, reason, decoded.message, time.perf_counter() - start))
    side = settings.max_side
    if needed is not None:
        side = max(side, math.ceil(max(decoded.info.width, decoded.info.height) * needed))
    decoded = _fit(decoded, side)
    found = detect_on_reduced(detector, decoded.rgb, decoded.scale_x, decoded.scale_y,
                              min_interocular=threshold if settings.search_from_threshold else None)
    kept = sorted((f for f in found if f.interocular >= threshold), key=lambda f: (f.bbox[0], f.bbox[1]))
    seconds = time.perf_counter() - start
    if not found:
        return FaceFinding(rejected(STAGE, "no_face", "no face detected", seconds), decoded)
    if not kept:
        largest = max(f.interocular for f in found)
        return FaceFinding(
            rejected(STAGE, "small_face", f"largest interocular {largest:.1f} px < {threshold} px", seconds),
            decoded,
        )
    note = f"{len(kept)} of {len(found)} faces with interocular >= {threshold} px"
    if relaxed:
        note += f" (relaxed from {settings.min_interocular} px for this source)"
    return FaceFinding(ok(STAGE, note, seconds), decoded, tuple(kept))
