"""Face blending baseline: general SR for the whole image + a face restorer pasted back.

The paper's baseline family (GFPGAN's ``--bg_upsampler``, CodeFormer's CLI, DiffBIR's
unaligned mode): ``base`` upscales the whole LQ image; each face is cut out of the LQ with the
FFHQ 5-point similarity transform (scaled to LQ pixels, so the restorer sees the degraded face
as those pipelines do), restored at ``aligned_size`` and pasted into the base output through the
inverse transform with a ``feather`` (soft) or ``hard`` mask
(:func:`portraitsr4k.faces.align.paste_back`).

Faces come from ``face_source``:

- ``detect`` (default, what a real pipeline does): a detector (``portraitsr4k.faces``) runs on
  the base output; detections below ``min_interocular`` output pixels are skipped.
- ``dataset``: the sample's annotated faces (HR pixels). This uses annotations an external
  method would not have: use it to isolate the restorer/blending from detection errors.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.methods.base import MethodUnavailable, SRMethod, check_lq
from benchmarks.methods.face_restorers import FaceRestorer

logger = logging.getLogger(__name__)

__all__ = ["BlendMethod"]


class BlendMethod(SRMethod):
    """General SR + face restorer pasted back.

    Args:
        name: method name (e.g. ``realesrgan+gfpgan``).
        base: the general SR method for the whole image.
        restorer: the face restorer for aligned crops.
        face_source: ``detect`` or ``dataset`` (module docstring).
        detector: detector name for ``portraitsr4k.faces.build_detector`` (``mtcnn`` works offline).
        mask: ``feather`` or ``hard`` paste-back mask.
        feather: feather width as a fraction of the aligned crop side.
        min_interocular: skip faces smaller than this (output pixels between the eyes).
    """

    def __init__(self, *, name: str = "blend", base: SRMethod, restorer: FaceRestorer,
                 face_source: str = "detect", detector: str = "mtcnn", mask: str = "feather",
                 feather: float = 0.1, min_interocular: float = 10.0, device: str = "cpu") -> None:
        super().__init__(name=name, device=device)
        if not isinstance(base, SRMethod):
            raise TypeError(f"base must be an SRMethod, got {type(base).__name__}")
        if not isinstance(restorer, FaceRestorer):
            raise TypeError(f"restorer must be a FaceRestorer, got {type(restorer).__name__}")
        if face_source not in ("detect", "dataset"):
            raise ValueError(f"face_source must be 'detect' or 'dataset', got {face_source!r}")
        if mask not in ("feather", "hard"):
            raise ValueError(f"mask must be 'feather' or 'hard', got {mask!r}")
        if not 0.0 < float(feather) <= 0.5:
            raise ValueError(f"feather must be in (0, 0.5], got {feather!r}")
        self.base, self.restorer = base, restorer
        self.face_source, self.detector_name = face_source, detector
        self.mask, self.feather, self.min_interocular = mask, float(feather), float(min_interocular)
        self._detector: Any = None
        self._checked = False
        #: faces pasted / skipped in the last ``upscale`` call (for logs and tests).
        self.last_counts: dict[str, int] = {}

    def config(self) -> dict[str, Any]:
        return {"base": {"name": self.base.name, "hash": self.base.config_hash()},
                "restorer": self.restorer.config(), "face_source": self.face_source,
                "detector": self.detector_name if self.face_source == "detect" else None,
                "mask": self.mask, "feather": self.feather, "min_interocular": self.min_interocular,
                "aligned_size": self.restorer.size}

    def weight_files(self) -> dict[str, Path]:
        files = {f"base/{k}": v for k, v in self.base.weight_files().items()}
        files.update({f"restorer/{k}": v for k, v in self.restorer.weight_files().items()})
        return files

    def check_available(self) -> None:
        self.base.check_available()
        self.restorer.check_available()

    def _faces(self, bg: np.ndarray, sample: Any) -> list[np.ndarray]:
        """5-point landmarks ``(5, 2)`` in output pixels of the faces to restore."""
        if self.face_source == "dataset":
            if sample is None:
                raise TypeError("blend with face_source='dataset' needs the dataset sample")
            faces = [np.asarray(f["landmarks"], np.float64) for f in sample.faces]
        else:
            if self._detector is None:
                from portraitsr4k.faces import build_detector

                try:
                    self._detector = build_detector(self.detector_name, device=self.device)
                except ImportError as err:
                    raise MethodUnavailable(f"{self.name}: detector {self.detector_name}: {err}") from err
            faces = [np.asarray(f.landmarks, np.float64) for f in self._detector.detect(bg)]
        keep = [lm for lm in faces if np.linalg.norm(lm[1] - lm[0]) >= self.min_interocular]
        self.last_counts = {"faces": len(faces), "pasted": len(keep), "too_small": len(faces) - len(keep)}
        return keep

    def upscale(self, lq: np.ndarray, *, scale: int, sample: Any = None) -> np.ndarray:
        """``(h, w, 3) uint8`` -> ``(h*scale, w*scale, 3) uint8``: base SR with restored faces."""
        from portraitsr4k.faces.align import alignment_matrix, paste_back, warp_face

        lq = check_lq(lq)
        if not self._checked:
            # Even an image without faces must not yield a "blend" output when the restorer
            # cannot run: that output would silently be the base method's.
            self.check_available()
            self._checked = True
        out = self.base.upscale(lq, scale=scale, sample=sample)
        size = self.restorer.size
        for landmarks in self._faces(out, sample):
            m = alignment_matrix(landmarks, size=size)  # output (HR) pixels -> aligned crop
            m_lq = m.copy()
            m_lq[:, :2] *= scale  # LQ pixel p is output pixel p * scale
            face_lq = warp_face(lq, m_lq, size)
            restored = self.restorer.restore(face_lq)
            out = paste_back(out, restored, m, mask=self.mask, feather=self.feather)
        return out
