"""The face-embedder interface: one L2-normalised identity vector per face."""

from __future__ import annotations

import abc
from collections.abc import Sequence

import numpy as np

from portraitsr4k.faces.detector import check_rgb
from portraitsr4k.faces.types import Face

__all__ = ["FaceEmbedder", "l2_normalize", "cosine_similarity"]


def l2_normalize(vectors: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows of ``vectors`` ``(N, D)`` (or one ``(D,)`` vector) scaled to unit L2 norm, float32."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, eps)).astype(np.float32)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings ``(D,)`` (normalised or not), in [-1, 1]."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"embeddings differ in size: {a.shape} vs {b.shape}")
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    if denom == 0:
        raise ValueError("cosine similarity of a zero vector is undefined")
    return float(np.clip(a @ b / denom, -1.0, 1.0))


class FaceEmbedder(abc.ABC):
    """Maps a face (image + its 5 landmarks) to an identity embedding.

    Subclasses set :attr:`name`, :attr:`dim`, :attr:`same_person_threshold` and implement
    :meth:`_embed_batch`; each aligns the face itself from the landmarks the way its model was
    trained, so callers only pass the image and the :class:`Face`.
    """

    #: model name used in metric names (``identity_<name>``), e.g. ``dlib_resnet_v1``.
    name: str = "embedder"
    #: embedding size D.
    dim: int = 0
    #: cosine similarity at or above which two faces count as the same person.
    same_person_threshold: float = 1.0

    @abc.abstractmethod
    def _embed_batch(self, rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Raw embeddings ``(N, D)`` for faces of one validated ``(H, W, 3)`` uint8 RGB image."""

    def embed_many(self, rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Embeddings of ``faces`` in ``rgb`` ``(H, W, 3)`` uint8: ``(N, D)`` float32, unit L2 rows."""
        rgb = check_rgb(rgb)
        faces = list(faces)
        for i, face in enumerate(faces):
            if not isinstance(face, Face):
                raise TypeError(f"faces[{i}]: expected a portraitsr4k.faces.Face, got {type(face).__name__}")
        if not faces:
            return np.zeros((0, self.dim), dtype=np.float32)
        raw = np.asarray(self._embed_batch(rgb, faces), dtype=np.float64).reshape(len(faces), -1)
        if raw.shape[1] != self.dim:
            raise ValueError(f"{self.name}: model returned {raw.shape[1]}-D embeddings, expected {self.dim}")
        if not np.all(np.isfinite(raw)):
            raise ValueError(f"{self.name}: model returned non-finite embeddings")
        return l2_normalize(raw)

    def embed(self, rgb: np.ndarray, face: Face) -> np.ndarray:
        """Embedding of one face: ``(D,)`` float32 with unit L2 norm."""
        return self.embed_many(rgb, [face])[0]

    def same_person(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether two embeddings of this model count as the same person."""
        return cosine_similarity(a, b) >= self.same_person_threshold

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"
