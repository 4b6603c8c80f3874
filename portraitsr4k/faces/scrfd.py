"""SCRFD (insightface ONNX, ``buffalo_l/det_10g.onnx``) with 5 landmarks.

The model file comes from an explicit path or from :func:`portraitsr4k.weights.resolve`
(weights home, then ``$INSIGHTFACE_HOME/models/buffalo_l``). insightface itself would download
``buffalo_l.zip`` from GitHub when a model is missing; we never let it (fail fast instead).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from portraitsr4k.faces.detector import FaceDetector
from portraitsr4k.faces.onnx_device import onnx_providers
from portraitsr4k.faces.types import Face
from portraitsr4k.weights import resolve

__all__ = ["SCRFDDetector"]

logger = logging.getLogger(__name__)


class SCRFDDetector(FaceDetector):
    """insightface SCRFD face detector.

    Args:
        device: ``cpu`` or ``cuda[:N]`` (onnxruntime provider).
        min_score: detection score cut.
        model_path: explicit ``.onnx`` file or a folder holding ``det_10g.onnx`` (e.g. a
            ``buffalo_l`` folder); default: the weights registry.
        input_size: ``(width, height)`` the image is letterboxed to; 640x640 as in insightface.
        nms_threshold: IoU threshold of the non-maximum suppression.

    Raises:
        MissingWeightsError: no ``det_10g.onnx`` found (message says how to fetch it).
        ValueError: the ONNX file is not an SCRFD detector with keypoints.
    """

    name = "scrfd"

    def __init__(self, *, device: str = "cpu", min_score: float = 0.5,
                 model_path: str | os.PathLike[str] | None = None,
                 input_size: Sequence[int] = (640, 640), nms_threshold: float = 0.4) -> None:
        super().__init__(min_score=min_score)
        size = tuple(int(v) for v in input_size)
        if len(size) != 2 or any(v < 32 or v % 32 for v in size):
            raise ValueError(f"input_size: expected (width, height), multiples of 32, got {input_size!r}")
        if not 0.0 < float(nms_threshold) < 1.0:
            raise ValueError(f"nms_threshold: expected a value in (0, 1), got {nms_threshold}")
        providers = onnx_providers(device)  # validate arguments before looking for files
        weights = resolve("insightface_scrfd_10g", model_path)
        try:
            import onnxruntime
            from insightface.model_zoo.scrfd import SCRFD
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the SCRFD detector needs insightface and onnxruntime: pip install --no-deps "
                              "insightface==2.1 plus the 'faces-paper' extra") from exc
        session = onnxruntime.InferenceSession(os.fspath(weights), providers=providers)
        outputs = session.get_outputs()
        # SCRFD with keypoints has 9 outputs (score, bbox, kps for 3 strides); ArcFace has 1.
        if len(outputs) not in (9, 15):
            raise ValueError(f"{weights}: not an SCRFD detector with landmarks (it has {len(outputs)} "
                             "outputs; expected 9 or 15). Is this the recognition model?")
        self.device = device
        self.input_size = size
        self.weights_path = weights
        self._model = SCRFD(model_file=os.fspath(weights), session=session)
        self._model.prepare(ctx_id=0 if device.startswith("cuda") else -1, input_size=size,
                            det_thresh=self.min_score, nms_thresh=float(nms_threshold))
        logger.info("SCRFD loaded from %s (%s)", weights, providers[0])

    def _detect(self, rgb: np.ndarray) -> list[Face]:
        bgr = np.ascontiguousarray(rgb[..., ::-1])  # insightface works on BGR (cv2) images
        det, kps = self._model.detect(bgr, input_size=self.input_size)
        if det is None or len(det) == 0:
            return []
        if kps is None:
            raise ValueError(f"{self.weights_path}: the detector returned no keypoints")
        det = np.asarray(det, dtype=np.float64)
        kps = np.asarray(kps, dtype=np.float64)
        return [Face(bbox=tuple(d[:4]), landmarks=tuple(map(tuple, k)), score=float(d[4]))
                for d, k in zip(det, kps)]

    def __repr__(self) -> str:
        return (f"SCRFDDetector(device={self.device!r}, min_score={self.min_score}, "
                f"weights={str(self.weights_path)!r})")
