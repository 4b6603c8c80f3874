"""Dedup: drop exact and near-duplicate photos deterministically (a global step).

Exact duplicates share the sample id (sha256 of the bytes); near duplicates have 64-bit
perceptual hashes (ImageHash ``phash`` of the detector-sized decode) within ``max_distance``
bits. Candidates are visited in lexicographic id order and a photo is kept only when no
already-kept photo is that close, so the kept one of a duplicate group is always the smallest id,
whatever the input order or worker count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["DedupSettings", "near_duplicates"]


@dataclass(frozen=True)
class DedupSettings:
    """``max_distance``: largest Hamming distance (bits of 64) that still counts as a duplicate;
    ``enabled``: switch the near-duplicate check off (exact duplicates are always dropped)."""

    enabled: bool = True
    max_distance: int = 6

    def __post_init__(self) -> None:
        if not 0 <= self.max_distance <= 64:
            raise ValueError(f"max_distance must be in [0, 64] bits, got {self.max_distance}")


def _popcount64(values: np.ndarray) -> np.ndarray:
    return np.unpackbits(values.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)


def near_duplicates(phashes: Mapping[str, str], settings: DedupSettings) -> dict[str, str]:
    """``{dropped id: kept id}`` for every photo within ``max_distance`` of a smaller kept id.

    Args:
        phashes: sample id -> 16 hex digit perceptual hash.
    """
    if not settings.enabled or not phashes:
        return {}
    ids = sorted(phashes)
    hashes = np.array([int(phashes[i], 16) for i in ids], dtype=np.uint64)
    kept_idx: list[int] = []
    kept_hashes = np.empty(0, dtype=np.uint64)
    dropped: dict[str, str] = {}
    for index, value in enumerate(hashes):
        if kept_hashes.size:
            distances = _popcount64(np.bitwise_xor(kept_hashes, value))
            close = np.flatnonzero(distances <= settings.max_distance)
            if close.size:
                dropped[ids[index]] = ids[kept_idx[int(close[0])]]
                continue
        kept_idx.append(index)
        kept_hashes = np.append(kept_hashes, value)
    return dropped
