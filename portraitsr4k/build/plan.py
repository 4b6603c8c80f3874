"""Shard plan: which rows of a split go into which ``data/<split>-NNNNN-of-MMMMM.parquet``.

Rows are taken in id order and cut greedily when a shard would pass ``max_rows`` rows or
``max_bytes`` bytes of image payload (HR + LQ; the default 500 MB is the ``datasets``/Hub
shard size). The plan depends only on the (id, size) list, never on timing or worker count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portraitsr4k.dataset.writer import shard_name

__all__ = ["ShardSettings", "PlannedShard", "plan_shards"]


@dataclass(frozen=True)
class ShardSettings:
    """Caps per shard: ``max_rows`` rows and ``max_bytes`` of image payload."""

    max_rows: int = 1000
    max_bytes: int = 500_000_000

    def __post_init__(self) -> None:
        if self.max_rows < 1 or self.max_bytes < 1:
            raise ValueError(f"max_rows and max_bytes must be >= 1, got {self.max_rows}, {self.max_bytes}")


@dataclass(frozen=True)
class PlannedShard:
    """``name`` (file name under ``data/``) and the ``ids`` it holds, in order."""

    split: str
    name: str
    ids: tuple[str, ...]


def plan_shards(split: str, rows: Sequence[tuple[str, int]], settings: ShardSettings) -> list[PlannedShard]:
    """Plan the shards of ``split`` from ``(id, payload bytes)`` pairs (any order; sorted by id)."""
    groups: list[list[str]] = []
    size = 0
    for row_id, nbytes in sorted(rows):
        if not groups or len(groups[-1]) >= settings.max_rows or (groups[-1] and size + nbytes > settings.max_bytes):
            groups.append([])
            size = 0
        groups[-1].append(row_id)
        size += nbytes
    total = len(groups)
    return [PlannedShard(split, shard_name(split, i, total), tuple(g)) for i, g in enumerate(groups)]
