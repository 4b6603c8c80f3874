"""``build_detector(name, ...)``: the detector factory the Hydra ``conf/detector/*.yaml`` target."""

from __future__ import annotations

import os
from typing import Any

from portraitsr4k.faces.detector import FaceDetector

__all__ = ["build_detector", "DETECTOR_NAMES"]

DETECTOR_NAMES: tuple[str, ...] = ("mtcnn", "scrfd", "retinaface")


def build_detector(name: str = "mtcnn", device: str = "cpu", min_score: float | None = None,
                   model_path: str | os.PathLike[str] | None = None, **kwargs: Any) -> FaceDetector:
    """Make a face detector.

    Args:
        name: ``mtcnn`` (default; offline, weights in the facenet-pytorch wheel), ``scrfd``
            (insightface ``det_10g.onnx``) or ``retinaface`` (facexlib ``detection_Resnet50_Final.pth``).
        device: ``cpu`` or ``cuda[:N]``.
        min_score: score cut; ``None`` keeps the backend's documented default
            (mtcnn 0.95, scrfd 0.5, retinaface 0.9).
        model_path: explicit weight file (scrfd/retinaface only; mtcnn ships its weights).
        **kwargs: backend options (e.g. ``min_face_size`` for mtcnn, ``network`` for retinaface).

    Raises:
        ValueError: unknown name.
        MissingWeightsError: the backend's weight file is missing (names the fetch command).
    """
    if not isinstance(name, str) or name not in DETECTOR_NAMES:
        raise ValueError(f"unknown face detector {name!r}; expected one of {DETECTOR_NAMES}")
    options: dict[str, Any] = dict(kwargs, device=device)
    if min_score is not None:
        options["min_score"] = float(min_score)
    if name == "mtcnn":
        if model_path is not None:
            raise ValueError("mtcnn takes no model_path: its weights ship inside facenet-pytorch")
        from portraitsr4k.faces.mtcnn import MTCNNDetector

        return MTCNNDetector(**options)
    if name == "scrfd":
        from portraitsr4k.faces.scrfd import SCRFDDetector

        return SCRFDDetector(model_path=model_path, **options)
    from portraitsr4k.faces.retinaface import RetinaFaceDetector

    return RetinaFaceDetector(model_path=model_path, **options)
