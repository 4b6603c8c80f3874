"""Face identity embeddings (dlib default, insightface ArcFace, AdaFace/CVLFace).

``build_embedder("dlib" | "arcface" | "adaface", device=...)`` returns a :class:`FaceEmbedder`:
``embed(rgb, face)`` -> ``(D,)`` float32 unit vector (the embedder aligns the face from its
landmarks), ``embed_many(rgb, faces)`` -> ``(N, D)``, ``name`` for metric names and
``same_person_threshold`` (cosine) for reference pairs.
"""

from portraitsr4k.identity.build import EMBEDDER_NAMES, build_embedder, check_embedder
from portraitsr4k.identity.embedder import FaceEmbedder, cosine_similarity, l2_normalize

__all__ = ["FaceEmbedder", "build_embedder", "check_embedder", "EMBEDDER_NAMES", "cosine_similarity", "l2_normalize"]
