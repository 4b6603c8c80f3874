"""RetinaFace (facexlib architecture) with weights from our weights registry.

facexlib's own ``init_detection_model`` downloads into its package folder and defaults to
``device='cuda'``; here the architecture is built directly on the requested device and the
state dict is loaded from :func:`portraitsr4k.weights.resolve` (``weights_only=True``: a
weight file never unpickles code).
"""

from __future__ import annotations

import logging
import os

import numpy as np

from portraitsr4k.faces.detector import FaceDetector
from portraitsr4k.faces.types import Face
from portraitsr4k.weights import resolve

__all__ = ["RetinaFaceDetector", "RETINAFACE_NETWORKS"]

logger = logging.getLogger(__name__)

#: network name -> (facexlib architecture name, weights catalog name)
RETINAFACE_NETWORKS: dict[str, tuple[str, str]] = {
    "resnet50": ("resnet50", "facexlib_retinaface_r50"),
    "mobile0.25": ("mobile0.25", "facexlib_retinaface_mobile"),
}


def load_retinaface_state_dict(path: str | os.PathLike[str]) -> dict:
    """Read a RetinaFace ``.pth`` state dict, dropping DataParallel's ``module.`` prefixes."""
    import torch

    state = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict (mapping of tensors), got {type(state).__name__}")
    return {(k[7:] if k.startswith("module.") else k): v for k, v in state.items()}


class RetinaFaceDetector(FaceDetector):
    """facexlib RetinaFace (ResNet-50 or MobileNet-0.25) with 5 landmarks.

    Args:
        device: torch device string.
        min_score: face confidence cut (softmax face probability).
        network: ``resnet50`` (default, paper-grade) or ``mobile0.25``.
        model_path: explicit ``.pth`` file (or folder holding it); default: the registry.
        nms_threshold: IoU threshold of the non-maximum suppression.

    Raises:
        MissingWeightsError: the weight file is nowhere (message says how to fetch it).
        ImportError: facexlib is not installed (``faces-paper`` extra).
    """

    name = "retinaface"

    def __init__(self, *, device: str = "cpu", min_score: float = 0.9, network: str = "resnet50",
                 model_path: str | os.PathLike[str] | None = None, nms_threshold: float = 0.4) -> None:
        super().__init__(min_score=min_score)
        if network not in RETINAFACE_NETWORKS:
            raise ValueError(f"network: expected one of {sorted(RETINAFACE_NETWORKS)}, got {network!r}")
        if not 0.0 < float(nms_threshold) < 1.0:
            raise ValueError(f"nms_threshold: expected a value in (0, 1), got {nms_threshold}")
        arch, weight_name = RETINAFACE_NETWORKS[network]
        weights = resolve(weight_name, model_path)  # before the heavy import: fail fast
        try:
            import torch
            from facexlib.detection.retinaface import RetinaFace
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the RetinaFace detector needs facexlib: pip install --no-deps facexlib==0.3.0 "
                              "plus the 'faces-paper' extra (filterpy, numba)") from exc
        self.device = str(device)
        self.network = network
        self.nms_threshold = float(nms_threshold)
        self.weights_path = weights
        model = RetinaFace(network_name=arch, half=False, phase="test", device=torch.device(self.device))
        try:
            model.load_state_dict(load_retinaface_state_dict(weights), strict=True)
        except RuntimeError as exc:
            raise ValueError(f"{weights}: not a RetinaFace-{network} state dict ({exc})") from exc
        self._model = model.to(self.device).eval()
        logger.info("RetinaFace-%s loaded from %s on %s", network, weights, self.device)

    def _detect(self, rgb: np.ndarray) -> list[Face]:
        import torch

        bgr = np.ascontiguousarray(rgb[..., ::-1])  # facexlib treats numpy input as BGR
        with torch.inference_mode():
            # conf_threshold below our min_score: the base class applies min_score uniformly.
            dets = self._model.detect_faces(bgr, conf_threshold=min(self.min_score, 0.5),
                                            nms_threshold=self.nms_threshold, use_origin_size=True)
        dets = np.asarray(dets, dtype=np.float64).reshape(-1, 15)
        faces = []
        for row in dets:
            if not np.all(np.isfinite(row)):
                continue  # random or broken weights can produce inf boxes
            x1, y1, x2, y2 = row[:4]
            faces.append(Face(bbox=(x1, y1, max(x1, x2), max(y1, y2)),
                              landmarks=tuple(map(tuple, row[5:15].reshape(5, 2))), score=float(row[4])))
        return faces

    def __repr__(self) -> str:
        return (f"RetinaFaceDetector(network={self.network!r}, device={self.device!r}, "
                f"min_score={self.min_score}, weights={str(self.weights_path)!r})")
