"""Stable per-sample seeds: results never depend on worker count, input order or ``PYTHONHASHSEED``.

Every random draw of the builder comes from a generator seeded by
``(build seed, sample id, stage name)`` through SHA-256 (never Python's ``hash()``, which is
salted per process).
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

__all__ = ["stable_hash", "sample_seed", "torch_generator", "numpy_generator"]

_SEED_BITS = 63  # torch.Generator.manual_seed accepts up to 2**64 - 1; 63 bits also fit int64 columns.


def stable_hash(*parts: object) -> int:
    """A 64-bit integer from the SHA-256 of ``parts`` (each converted with ``str``).

    Parts are joined with a separator that cannot occur in their text form, so
    ``("ab", "c")`` and ``("a", "bc")`` hash differently.
    """
    if not parts:
        raise ValueError("stable_hash needs at least one part, got none")
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def sample_seed(build_seed: int, sample_id: str, stage: str) -> int:
    """The seed of one stage of one sample: a non-negative int below ``2**63``."""
    if not isinstance(build_seed, int) or isinstance(build_seed, bool):
        raise TypeError(f"build_seed must be an int, got {type(build_seed).__name__}")
    if not sample_id or not stage:
        raise ValueError(f"sample_id and stage must be non-empty, got {sample_id!r}, {stage!r}")
    return stable_hash(build_seed, sample_id, stage) & ((1 << _SEED_BITS) - 1)


def torch_generator(build_seed: int, sample_id: str, stage: str) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with :func:`sample_seed`."""
    return torch.Generator().manual_seed(sample_seed(build_seed, sample_id, stage))


def numpy_generator(build_seed: int, sample_id: str, stage: str) -> np.random.Generator:
    """A ``numpy.random.Generator`` (PCG64) seeded with :func:`sample_seed`."""
    return np.random.default_rng(sample_seed(build_seed, sample_id, stage))
