"""dlib's ResNet face descriptor (128-D): the default, fully offline identity embedder.

Model files come from the weights registry (``dlib_shape_predictor_5``, ``dlib_resnet_v1``):
the weights home first, then the ``face-recognition-models`` package folder, located with
``importlib.util.find_spec`` (its ``__init__`` imports the removed ``pkg_resources``):
``shape_predictor_5_face_landmarks.dat`` (dlib's own 5 points: eye corners and nose base) and
``dlib_face_recognition_resnet_model_v1.dat``. dlib aligns the face itself: its shape
predictor runs inside the detector box, then ``compute_face_descriptor`` makes the 150x150
chip (padding 0.25) the network was trained on.

Same-person threshold. dlib documents "same person" as L2 distance < 0.6 between raw
descriptors. The raw descriptors are not unit vectors; for two vectors of norm ``n``,
``|a - b|^2 = 2 n^2 (1 - cos)``, so L2 < 0.6 is cos > 1 - 0.36 / (2 n^2). Their norms are
nearly constant: on the 10 faces of the shipped photos (grace_hopper, astronaut, pyiqa I04,
group t1 x6, Tom Hanks) they measured 1.356..1.595, mean 1.477, sd 0.068 (MTCNN boxes;
``tests/identity/test_dlib.py::test_threshold_derivation`` re-measures this). With
``n = DLIB_TYPICAL_NORM = 1.48`` the cosine threshold is 1 - 0.36 / 4.3808 = 0.918. Measured on
the same photos: same face after x4 down/up-sampling cos 0.992, after Gaussian blur sigma 3
0.983; the 45 different-person pairs 0.809..0.903.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from portraitsr4k.faces.types import Face
from portraitsr4k.identity.embedder import FaceEmbedder
from portraitsr4k.weights import resolve

__all__ = ["DlibEmbedder", "DLIB_L2_THRESHOLD", "DLIB_TYPICAL_NORM", "dlib_cosine_threshold"]

logger = logging.getLogger(__name__)

#: dlib's documented same-person rule: L2 distance between raw descriptors below 0.6.
DLIB_L2_THRESHOLD = 0.6
#: typical L2 norm of a raw dlib descriptor (measured, see the module docstring).
DLIB_TYPICAL_NORM = 1.48

SHAPE_PREDICTOR_FILE = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"


def dlib_cosine_threshold(l2_threshold: float = DLIB_L2_THRESHOLD, norm: float = DLIB_TYPICAL_NORM) -> float:
    """Cosine equivalent of an L2 threshold for vectors of norm ``norm``: ``1 - t^2 / (2 n^2)``."""
    if l2_threshold <= 0 or norm <= 0:
        raise ValueError(f"expected l2_threshold > 0 and norm > 0, got {l2_threshold}, {norm}")
    return 1.0 - l2_threshold ** 2 / (2.0 * norm ** 2)



def dlib_model_files(model_dir: str | os.PathLike[str] | None = None) -> tuple[object, dict[str, Path]]:
    """``(dlib module, {file name: path})`` of the two model files, without loading them.

    Raises:
        ImportError: dlib is not installed.
        FileNotFoundError: a file is missing from ``model_dir``.
        MissingWeightsError: no ``model_dir`` and the catalog cannot find a file.
    """
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the dlib identity embedder needs dlib: pip install dlib-bin") from exc
    if model_dir is not None:
        folder = Path(model_dir)
        paths = {f: folder / f for f in (SHAPE_PREDICTOR_FILE, DESCRIPTOR_FILE)}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"dlib model file(s) missing: {missing}; they ship in the "
                                    "face-recognition-models package (pip install face-recognition-models)")
        return dlib, paths
    # weights home first, then the face-recognition-models package folder
    return dlib, {SHAPE_PREDICTOR_FILE: resolve("dlib_shape_predictor_5"),
                  DESCRIPTOR_FILE: resolve("dlib_resnet_v1")}

class DlibEmbedder(FaceEmbedder):
    """dlib ResNet v1 descriptor, L2-normalised.

    Args:
        device: only ``cpu`` (dlib-bin is a CPU build); accepted for a uniform factory.
        model_dir: folder holding the two ``.dat`` files; default: the weights registry.
        num_jitters: dlib's test-time augmentation count (0 = none; each jitter costs a forward).
        padding: chip padding around the aligned face, dlib's default 0.25.
    """

    name = "dlib_resnet_v1"
    dim = 128
    same_person_threshold = dlib_cosine_threshold()

    def __init__(self, *, device: str = "cpu", model_dir: str | os.PathLike[str] | None = None,
                 num_jitters: int = 0, padding: float = 0.25) -> None:
        if device != "cpu":
            raise ValueError(f"the dlib embedder runs on 'cpu' only (dlib-bin has no CUDA), got {device!r}")
        if isinstance(num_jitters, bool) or not isinstance(num_jitters, int) or num_jitters < 0:
            raise ValueError(f"num_jitters: expected an int >= 0, got {num_jitters!r}")
        if not 0.0 <= float(padding) <= 1.0:
            raise ValueError(f"padding: expected a value in [0, 1], got {padding}")
        dlib, paths = dlib_model_files(model_dir)
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(paths[SHAPE_PREDICTOR_FILE]))
        self._net = dlib.face_recognition_model_v1(str(paths[DESCRIPTOR_FILE]))
        self.num_jitters = num_jitters
        self.padding = float(padding)
        self.device = device
        logger.debug("dlib descriptor loaded from %s", paths[DESCRIPTOR_FILE])

    def raw_descriptors(self, rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """dlib's un-normalised descriptors ``(N, 128)`` float64 (what the L2 < 0.6 rule is about)."""
        from portraitsr4k.faces.detector import check_rgb

        return self._embed_batch(check_rgb(rgb), list(faces))

    def _embed_batch(self, rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        out = np.empty((len(faces), self.dim), dtype=np.float64)
        for i, face in enumerate(faces):
            x1, y1, x2, y2 = (int(round(v)) for v in face.bbox)
            shape = self._shape(rgb, self._dlib.rectangle(x1, y1, x2, y2))
            out[i] = np.asarray(self._net.compute_face_descriptor(rgb, shape, self.num_jitters, self.padding))
        return out
