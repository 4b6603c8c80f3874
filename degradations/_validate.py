"""Boundary checks shared by the degradation modules (images, numbers, names)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence

import torch


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A " Did you mean 'x'?" suffix for error messages, or "" when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_choice(what: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise a ValueError naming both."""
    if not isinstance(value, str) or value not in choices:
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        raise ValueError(f"{what} must be one of {list(choices)}, got {value!r}.{hint}")
    return value


def check_number(
    what: str, value: object, *, low: float | None = None, high: float | None = None, low_open: bool = False
) -> float:
    """Return ``value`` as float after checking it is a finite real number within bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number!r}")
    if low is not None and (number < low or (low_open and number == low)):
        bound = f"> {low}" if low_open else f">= {low}"
        raise ValueError(f"{what} must be {bound}, got {number!r}")
    if high is not None and number > high:
        raise ValueError(f"{what} must be <= {high}, got {number!r}")
    return number


def check_int(what: str, value: object, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` after checking it is an int (not bool) within bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__} {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{what} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{what} must be <= {high}, got {value}")
    return value


def check_range(
    what: str, value: object, *, low: float | None = None, high: float | None = None, low_open: bool = False
) -> tuple[float, float]:
    """Return ``value`` as a ``(lo, hi)`` float pair with ``lo <= hi``, both within bounds."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"{what} must be a (low, high) pair, got {value!r}")
    lo = check_number(f"{what}[0]", value[0], low=low, high=high, low_open=low_open)
    hi = check_number(f"{what}[1]", value[1], low=low, high=high, low_open=low_open)
    if lo > hi:
        raise ValueError(f"{what} must have low <= high, got {value!r}")
    return lo, hi


def check_probs(what: str, value: object, length: int) -> tuple[float, ...]:
    """Return ``value`` as a tuple of ``length`` probabilities that sum to 1 (within 1e-6)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != length:
        raise TypeError(f"{what} must be a sequence of {length} probabilities, got {value!r}")
    probs = tuple(check_number(f"{what}[{i}]", p, low=0.0, high=1.0) for i, p in enumerate(value))
    if abs(sum(probs) - 1.0) > 1e-6:
        raise ValueError(f"{what} must sum to 1, got {probs} (sum {sum(probs)})")
    return probs


def check_images(hr: object, scale: int) -> tuple[torch.Tensor, bool]:
    """Validate an HR input and return it as a batch.

    Args:
        hr: ``(3, H, W)`` or ``(B, 3, H, W)`` float32 tensor in [0, 1]; H and W multiples of ``scale``.
        scale: the super-resolution factor.

    Returns:
        ``(batch, was_batched)`` where ``batch`` is ``(B, 3, H, W)`` (a view, no copy).
    """
    if not isinstance(hr, torch.Tensor):
        raise TypeError(f"hr must be a torch.Tensor (3, H, W) or (B, 3, H, W), got {type(hr).__name__}")
    if hr.dtype != torch.float32:
        raise TypeError(f"hr must be float32 in [0, 1], got dtype {hr.dtype}")
    if hr.ndim not in (3, 4) or hr.shape[-3] != 3:
        raise ValueError(f"hr must have shape (3, H, W) or (B, 3, H, W), got {tuple(hr.shape)}")
    height, width = hr.shape[-2:]
    if height % scale or width % scale:
        raise ValueError(
            f"HR size {height}x{width} (HxW) is not a multiple of scale {scale}; crop it to "
            f"{height - height % scale}x{width - width % scale} first"
        )
    if height < scale or width < scale:
        raise ValueError(f"HR size {height}x{width} is smaller than scale {scale}")
    if hr.numel():
        low, high = torch.aminmax(hr)
        low_v, high_v = float(low), float(high)
        if not (math.isfinite(low_v) and math.isfinite(high_v)) or low_v < 0.0 or high_v > 1.0:
            raise ValueError(f"hr values must be finite and in [0, 1], got min {low_v} max {high_v}")
    batched = hr.ndim == 4
    return (hr if batched else hr.unsqueeze(0)), batched
