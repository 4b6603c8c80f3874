"""Gate: the cheapest reject, from the image header (or source metadata) alone.

Rules (``reference/paper-headsup-osediff.md`` §2): ``w * h >= 3840 * 2160`` and
``max(w, h) >= 3840`` ("at least 4K"), aspect ``0.6 <= w / h <= 1.6``, an allow-listed format,
and at most ``max_pixels`` (decompression-bomb limit; 120 MP by default, the same as
``portraitsr4k.image_io``'s decode limit, so nothing that passes the gate is refused later).
``relax_size`` turns off only the 4K size rule; the ``demo`` source sets it because the
portraits shipped in installed packages are 512-1280 px.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from portraitsr4k.stages.outcome import StageOutcome, ok, rejected

__all__ = ["GateSettings", "gate_size", "gate_header"]

STAGE = "gate"


@dataclass(frozen=True)
class GateSettings:
    """Thresholds of the gate stage (see module docstring)."""

    min_pixels: int = 3840 * 2160
    min_long_side: int = 3840
    min_aspect: float = 0.6
    max_aspect: float = 1.6
    formats: tuple[str, ...] = field(default=("JPEG", "MPO", "PNG", "WEBP", "BMP"))
    max_pixels: int = 120_000_000
    relax_size: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "formats", tuple(str(f).upper() for f in self.formats))
        if self.min_pixels < 0 or self.min_long_side < 0:
            raise ValueError(f"min_pixels/min_long_side must be >= 0, got {self.min_pixels}, {self.min_long_side}")
        if not 0 < self.min_aspect <= self.max_aspect:
            raise ValueError(f"need 0 < min_aspect <= max_aspect, got {self.min_aspect}, {self.max_aspect}")
        if self.max_pixels <= 0:
            raise ValueError(f"max_pixels must be > 0, got {self.max_pixels}")
        if not self.formats:
            raise ValueError("formats must name at least one allowed format")


def gate_size(width: int | None, height: int | None, settings: GateSettings) -> StageOutcome:
    """Size, aspect and bomb rules on known dimensions; unknown dimensions pass (checked later)."""
    start = time.perf_counter()
    if not width or not height:
        return ok(STAGE, "dimensions unknown before fetch", time.perf_counter() - start)
    pixels = width * height
    if pixels > settings.max_pixels:
        return rejected(STAGE, "too_large", f"{width}x{height} = {pixels} px > bomb limit {settings.max_pixels}")
    if not settings.relax_size and (pixels < settings.min_pixels or max(width, height) < settings.min_long_side):
        return rejected(
            STAGE, "too_small",
            f"{width}x{height}: need >= {settings.min_pixels} px and long side >= {settings.min_long_side}",
        )
    aspect = width / height
    if not settings.min_aspect <= aspect <= settings.max_aspect:
        return rejected(
            STAGE, "aspect", f"aspect {aspect:.3f} outside [{settings.min_aspect}, {settings.max_aspect}]"
        )
    note = "size rule relaxed" if settings.relax_size else ""
    return ok(STAGE, note, time.perf_counter() - start)


def gate_header(info: object, settings: GateSettings) -> StageOutcome:
    """Gate on an :class:`portraitsr4k.image_io.ImageInfo` from ``probe`` (no pixel decoded).

    A probe failure (truncated, unidentified, bomb, unsupported mode ...) is ``rejected:<probe
    status>``: the input is bad, the builder is fine.
    """
    start = time.perf_counter()
    if not getattr(info, "ok", False):
        status = str(getattr(info, "status", "unreadable"))
        reason = status.split(":", 1)[-1]
        return rejected(STAGE, reason, str(getattr(info, "message", "")), time.perf_counter() - start)
    fmt = str(getattr(info, "format", "") or "").upper()
    if fmt not in settings.formats:
        return rejected(STAGE, "format", f"format {fmt or 'unknown'} not in {list(settings.formats)}")
    outcome = gate_size(int(info.width), int(info.height), settings)  # type: ignore[attr-defined]
    return StageOutcome(STAGE, outcome.status, outcome.message, time.perf_counter() - start)
