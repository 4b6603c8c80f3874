"""ArcFace (insightface ONNX, ``buffalo_l/w600k_r50.onnx``, 512-D).

The face is aligned with insightface's ``norm_crop`` (similarity transform of the 5 landmarks
onto the ArcFace 112x112 template) and handed to insightface's ``ArcFaceONNX`` as BGR, its
convention for images (it swaps back to RGB for the network with ``blobFromImages(swapRB=True)``).
Same-person threshold 0.65 (cosine), the paper's value for ArcFace/CVLFace-class models.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from portraitsr4k.faces.onnx_device import onnx_providers
from portraitsr4k.faces.types import Face
from portraitsr4k.identity.embedder import FaceEmbedder
from portraitsr4k.weights import resolve

__all__ = ["ArcFaceEmbedder", "ARCFACE_SAME_PERSON"]

logger = logging.getLogger(__name__)

#: cosine threshold for "same person" with ArcFace/CVLFace-class models (paper, §2).
ARCFACE_SAME_PERSON = 0.65


class ArcFaceEmbedder(FaceEmbedder):
    """insightface ArcFace ONNX recognition model.

    Args:
        device: ``cpu`` or ``cuda[:N]`` (onnxruntime provider).
        model_path: explicit ``.onnx`` file or a folder holding ``w600k_r50.onnx``; default:
            the weights registry (weights home, then ``$INSIGHTFACE_HOME/models/buffalo_l``).
        name: model name for metric names (default ``arcface_w600k_r50``).
        same_person_threshold: cosine threshold (default 0.65).

    Raises:
        MissingWeightsError: no model file (the message says how to fetch it).
        ValueError: the ONNX file is not a single-output square-input recognition model.
    """

    def __init__(self, *, device: str = "cpu", model_path: str | os.PathLike[str] | None = None,
                 name: str = "arcface_w600k_r50", same_person_threshold: float = ARCFACE_SAME_PERSON) -> None:
        if not -1.0 <= float(same_person_threshold) <= 1.0:
            raise ValueError("same_person_threshold: expected a cosine in [-1, 1], "
                             f"got {same_person_threshold}")
        providers = onnx_providers(device)  # validate arguments before looking for files
        weights = resolve("insightface_arcface_r50", model_path)
        try:
            import onnxruntime
            from insightface.model_zoo.arcface_onnx import ArcFaceONNX
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the ArcFace embedder needs insightface and onnxruntime: pip install --no-deps "
                              "insightface==2.1 plus the 'faces-paper' extra") from exc
        session = onnxruntime.InferenceSession(os.fspath(weights), providers=providers)
        inputs, outputs = session.get_inputs(), session.get_outputs()
        shape = inputs[0].shape
        if len(outputs) != 1 or len(shape) != 4 or shape[2] != shape[3] or not isinstance(shape[2], int):
            raise ValueError(f"{weights}: not an ArcFace recognition model (inputs {shape}, "
                             f"{len(outputs)} outputs; expected (N, 3, S, S) -> one embedding). "
                             "Is this the detector?")
        dim = outputs[0].shape[-1]
        if not isinstance(dim, int) or dim <= 0:
            raise ValueError(f"{weights}: embedding size is not static ({outputs[0].shape})")
        self._model = ArcFaceONNX(model_file=os.fspath(weights), session=session)
        self.name = name
        self.dim = int(dim)
        self.same_person_threshold = float(same_person_threshold)
        self.input_size = int(shape[2])
        self.device = device
        self.weights_path = weights
        logger.info("ArcFace %s loaded from %s (%s, %d-D)", name, weights, providers[0], self.dim)

    def _embed_batch(self, rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        from insightface.utils.face_align import norm_crop

        bgr = np.ascontiguousarray(rgb[..., ::-1])
        crops = [norm_crop(bgr, np.asarray(face.landmarks, dtype=np.float32), image_size=self.input_size)
                 for face in faces]
        return np.asarray(self._model.get_feat(crops), dtype=np.float64)
