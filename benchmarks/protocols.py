"""Named evaluation protocols: presets that pin the conventions making numbers comparable.

A protocol (``conf/protocol/<name>.yaml``) lists metric configs (names in ``conf/metric/``) and
regions, and states its PSNR convention in words. The runner warns when the selected pixel
metrics mix conventions (e.g. RGB PSNR next to Y SSIM, or crop border 4 next to 0), because a
table mixing them is not comparable with any paper.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.metrics.base import REGIONS, Metric

logger = logging.getLogger(__name__)

__all__ = ["Protocol", "convention_conflicts"]


@dataclass
class Protocol:
    """A named preset.

    Attributes:
        name: protocol name, stored in every record.
        description: what it reproduces (paper, script).
        metrics: metric config names (``conf/metric/<name>.yaml``).
        regions: regions to evaluate.
        psnr_convention: the exact PSNR formula, in words (colour, crop, eps, precision).
        conventions: the pixel convention its full-reference metrics share
            (``color``, ``color_space``, ``crop_border``); the runner warns on deviations.
    """

    name: str
    description: str = ""
    metrics: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=lambda: list(REGIONS))
    psnr_convention: str = ""
    conventions: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"protocol name must be a non-empty string, got {self.name!r}")
        self.metrics, self.regions = list(self.metrics), list(self.regions)
        self.conventions = dict(self.conventions)
        bad = [r for r in self.regions if r not in REGIONS]
        if bad:
            raise ValueError(f"protocol {self.name}: unknown regions {bad}; expected some of {REGIONS}")
        if not self.metrics:
            raise ValueError(f"protocol {self.name}: needs at least one metric")


def convention_conflicts(metrics: Sequence[Metric], protocol: Protocol | None = None) -> list[str]:
    """Human-readable conflicts between the pixel conventions of ``metrics`` (and ``protocol``).

    Compares ``color``/``color_space``/``crop_border`` of every metric that declares a
    convention; each conflict is also logged as a warning.
    """
    declared = {m.name: m.convention() for m in metrics if m.convention()}
    problems: list[str] = []
    for key in ("color", "color_space", "crop_border"):
        values = {name: conv.get(key) for name, conv in declared.items()
                  if key in conv and conv.get(key) is not None}
        if len(set(map(json.dumps, values.values()))) > 1:
            problems.append(f"metrics disagree on {key}: {values}")
        if protocol is not None and key in protocol.conventions:
            want = protocol.conventions[key]
            off = {n: v for n, v in values.items() if v != want}
            if off:
                problems.append(f"protocol {protocol.name} uses {key}={want!r} but {off}")
    for p in problems:
        logger.warning("mixed conventions: %s; numbers in one table are not comparable", p)
    return problems
