"""Face detection with 5 landmarks, mapping to full resolution, and FFHQ alignment.

``build_detector("mtcnn" | "scrfd" | "retinaface", device=..., min_score=...)`` returns a
:class:`FaceDetector` whose ``detect(rgb)`` gives :class:`Face` records sorted by score;
:func:`detect_on_reduced` maps detections on a reduced decode to full-resolution pixels.
Alignment (``alignment_matrix``, ``warp_face``, ``paste_back``, ``face_region_mask``) lives in
:mod:`portraitsr4k.faces.align`. Backends are imported only when built.
"""

from portraitsr4k.faces.build import DETECTOR_NAMES, build_detector
from portraitsr4k.faces.detector import MIN_BOX_PER_INTEROCULAR, FaceDetector, detect_on_reduced
from portraitsr4k.faces.types import LANDMARK_NAMES, Face

__all__ = ["Face", "FaceDetector", "MIN_BOX_PER_INTEROCULAR", "build_detector", "detect_on_reduced", "DETECTOR_NAMES", "LANDMARK_NAMES"]
