"""Weights registry: one catalog of every weight file, how to find it, and how to fetch it.

``resolve(name)`` returns a local path or raises :class:`MissingWeightsError` naming the file,
every place looked, the download URL and ``portraitsr4k-weights fetch NAME``.
"""

from portraitsr4k.weights.catalog import WEIGHTS, WeightFile, by_name
from portraitsr4k.weights.resolve import (
    ChecksumError,
    MissingWeightsError,
    candidates,
    resolve,
    sha256_of,
    verify_checksum,
    weights_home,
)

__all__ = ["WeightFile", "WEIGHTS", "by_name", "resolve", "candidates", "weights_home",
           "MissingWeightsError", "ChecksumError", "sha256_of", "verify_checksum"]
