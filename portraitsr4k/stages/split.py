"""Split: train/test disjoint by identity cluster, deterministic from the build seed.

Split units (identity clusters; a photo without embeddings is its own unit) are ordered by a
stable hash of (build seed, unit key) and assigned to ``test`` until it holds the target number
of photos; everything else is ``train``. The target is ``test_size`` photos when given, else
``max(1, round(test_fraction * n))`` (for n >= 2 photos and a positive fraction); with two or more
units both splits get at least one unit whenever the target is > 0 (so a 4-photo demo still has
a test split). Because whole clusters move, the
test split may overshoot the target by less than one cluster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from portraitsr4k.build.seeds import stable_hash

__all__ = ["SplitSettings", "assign_splits"]


@dataclass(frozen=True)
class SplitSettings:
    """``test_fraction`` of photos go to test unless ``test_size`` (a photo count) is set."""

    test_fraction: float = 0.1
    test_size: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in [0, 1), got {self.test_fraction}")
        if self.test_size is not None and self.test_size < 0:
            raise ValueError(f"test_size must be >= 0 or null, got {self.test_size}")


def assign_splits(units: Mapping[str, str], settings: SplitSettings, seed: int) -> dict[str, str]:
    """``{photo id: "train" | "test"}`` from ``units`` (photo id -> split-unit key)."""
    members: dict[str, list[str]] = defaultdict(list)
    for photo in sorted(units):
        members[units[photo]].append(photo)
    n = len(units)
    if settings.test_size is not None:
        target = settings.test_size
    else:
        # A positive fraction always yields at least one test photo (a 4-photo demo included).
        target = max(1, round(settings.test_fraction * n)) if settings.test_fraction > 0 and n > 1 else 0
    target = min(target, n)
    order = sorted(members, key=lambda unit: (stable_hash(seed, "split", unit), unit))
    splits: dict[str, str] = {}
    in_test = 0
    for position, unit in enumerate(order):
        remaining_units = len(order) - position
        to_test = target > 0 and in_test < target
        # Keep at least one unit for train when there are two or more units.
        if to_test and remaining_units == 1 and in_test > 0:
            to_test = False
        for photo in members[unit]:
            splits[photo] = "test" if to_test else "train"
        in_test += len(members[unit]) if to_test else 0
    return splits
