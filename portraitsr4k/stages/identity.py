"""Identity: link same-person faces across photos, cluster photos, list reference pairs.

Faces of *different* photos are linked when the cosine similarity of their embeddings is at
least the embedder's ``same_person_threshold`` (0.65 for ArcFace/CVLFace-class models, paper
§2). Photos joined by any link form one identity cluster (connected components): a group photo
joins the clusters of everyone in it, which is what a split disjoint by person needs. Cluster
ids are 0..K-1 in the order of each cluster's smallest photo id, so they do not depend on input
order. Photos without embeddings get identity -1 (schema) but are their own split unit.

Every link (in both directions) is a reference pair: (photo, face) -> (other photo, face).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ReferencePair", "IdentityResult", "cluster_identities"]


@dataclass(frozen=True, order=True)
class ReferencePair:
    """``id``'s face ``face_index`` and ``reference_id``'s face ``reference_face_index`` show the
    same person with cosine ``similarity``."""

    id: str
    reference_id: str
    face_index: int
    reference_face_index: int
    similarity: float


@dataclass
class IdentityResult:
    """``identity``: photo id -> cluster id (-1 without embeddings); ``units``: photo id -> split
    unit key (the cluster's smallest photo id, or the photo id itself); ``pairs``: sorted pairs."""

    identity: dict[str, int]
    units: dict[str, str]
    pairs: list[ReferencePair]


def _find(parent: dict[str, str], x: str) -> str:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def cluster_identities(
    embeddings: Mapping[str, Sequence[Sequence[float]]], threshold: float
) -> IdentityResult:
    """Cluster photos by face similarity.

    Args:
        embeddings: photo id -> (N_faces, D) unit vectors (may be empty for a photo).
        threshold: cosine similarity at or above which two faces are the same person.
    """
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a cosine similarity in [-1, 1], got {threshold}")
    ids = sorted(embeddings)
    owners: list[tuple[str, int]] = []
    rows: list[np.ndarray] = []
    for photo in ids:
        vectors = np.asarray(embeddings[photo], dtype=np.float64)
        if vectors.size == 0:
            continue
        if vectors.ndim != 2:
            raise ValueError(f"embeddings[{photo!r}] must be (N, D), got shape {vectors.shape}")
        for k, vector in enumerate(vectors):
            owners.append((photo, k))
            rows.append(vector)
    parent = {photo: photo for photo in ids}
    pairs: list[ReferencePair] = []
    if rows:
        matrix = np.stack(rows)
        if len({r.shape[0] for r in rows}) != 1:
            raise ValueError("all embeddings must have the same dimension")
        sims = matrix @ matrix.T
        position = {photo: i for i, photo in enumerate(ids)}
        photo_of = np.array([position[p] for p, _ in owners])
        linked = (sims >= threshold) & (photo_of[:, None] != photo_of[None, :])
        for a, b in zip(*np.nonzero(linked)):
            (pa, fa), (pb, fb) = owners[a], owners[b]
            # float32 rounding keeps the stored similarity identical to what the Parquet column holds.
            pairs.append(ReferencePair(pa, pb, fa, fb, float(np.float32(sims[a, b]))))
            ra, rb = _find(parent, pa), _find(parent, pb)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    roots = {photo: _find(parent, photo) for photo in ids}
    has_faces = {p for p, _ in owners}
    cluster_of_root: dict[str, int] = {}
    for photo in ids:  # sorted, so a cluster's number follows its smallest id
        if photo in has_faces and roots[photo] not in cluster_of_root:
            cluster_of_root[roots[photo]] = len(cluster_of_root)
    identity = {p: (cluster_of_root[roots[p]] if p in has_faces else -1) for p in ids}
    return IdentityResult(identity=identity, units=roots, pairs=sorted(pairs))
