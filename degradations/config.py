"""Structured configuration of a degradation preset (what may be drawn, with which odds).

A preset is a :class:`DegradationConfig`: an optional unsharp mask of the HR, up to two
:class:`StageConfig` (blur -> resize -> noise -> JPEG; Real-ESRGAN's "first" and "second"
degradation are the same structure used twice) and a :class:`FinalConfig` (resize to the LQ
size, optional sinc, optional JPEG, in a random order). All ranges use Real-ESRGAN's units:
sigma in HR pixels, noise sigma in 0-255 units, JPEG quality 1-100, angles in radians.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from degradations._validate import (
    check_choice,
    check_int,
    check_number,
    check_probs,
    check_range,
    did_you_mean,
)

KERNEL_KINDS = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso")
RESIZE_MODES = ("area", "bilinear", "bicubic")
#: How Poisson counts are drawn (``NoiseConfig.poisson_sampler``, ``NoiseParams.sampler``).
POISSON_SAMPLERS = ("inverse_cdf", "torch")


def _odd_size_range(what: str, value: object) -> tuple[int, int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"{what} must be a (smallest, largest) pair of odd ints, got {value!r}")
    lo, hi = (check_int(f"{what}[{i}]", v, low=1) for i, v in enumerate(value))
    if lo % 2 == 0 or hi % 2 == 0 or lo > hi:
        raise ValueError(f"{what} must be odd sizes with smallest <= largest, got {value!r}")
    return lo, hi


@dataclass(frozen=True)
class KernelConfig:
    """Random blur kernel (Real-ESRGAN ``random_mixed_kernels`` + ``circular_lowpass_kernel``).

    ``sizes``: odd kernel sizes drawn uniformly from ``range(sizes[0], sizes[1] + 1, 2)``.
    ``sinc_prob``: chance of a circular low-pass (sinc) kernel instead of a Gaussian-family one;
    its cut-off is drawn from ``sinc_cutoff_small`` when the size is below ``sinc_small_below``,
    else from ``sinc_cutoff_large`` (radians, pi is the Nyquist limit).
    ``beta`` of generalized/plateau kernels is drawn from ``[low, 1]`` or ``[1, high]`` with
    probability 1/2 each, as in basicsr.
    """

    kinds: tuple[str, ...] = KERNEL_KINDS
    probs: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    sizes: tuple[int, int] = (7, 21)
    sigma_range: tuple[float, float] = (0.2, 3.0)
    betag_range: tuple[float, float] = (0.5, 4.0)
    betap_range: tuple[float, float] = (1.0, 2.0)
    rotation_range: tuple[float, float] = (-math.pi, math.pi)
    sinc_prob: float = 0.1
    sinc_cutoff_small: tuple[float, float] = (math.pi / 3, math.pi)
    sinc_cutoff_large: tuple[float, float] = (math.pi / 5, math.pi)
    sinc_small_below: int = 13

    def __post_init__(self) -> None:
        if isinstance(self.kinds, str) or not isinstance(self.kinds, Sequence) or not self.kinds:
            raise TypeError(f"kinds must be a non-empty sequence of {KERNEL_KINDS}, got {self.kinds!r}")
        object.__setattr__(
            self, "kinds", tuple(check_choice("kernel kind", k, KERNEL_KINDS) for k in self.kinds)
        )
        object.__setattr__(self, "probs", check_probs("kernel probs", self.probs, len(self.kinds)))
        object.__setattr__(self, "sizes", _odd_size_range("kernel sizes", self.sizes))
        object.__setattr__(
            self, "sigma_range", check_range("sigma_range", self.sigma_range, low=0, low_open=True)
        )
        object.__setattr__(
            self, "betag_range", check_range("betag_range", self.betag_range, low=0, low_open=True)
        )
        object.__setattr__(
            self, "betap_range", check_range("betap_range", self.betap_range, low=0, low_open=True)
        )
        for name in ("betag_range", "betap_range"):
            lo, hi = getattr(self, name)
            if not lo <= 1.0 <= hi:
                raise ValueError(f"{name} must contain 1 (beta is drawn below or above 1), got {(lo, hi)}")
        object.__setattr__(self, "rotation_range", check_range("rotation_range", self.rotation_range))
        object.__setattr__(self, "sinc_prob", check_number("sinc_prob", self.sinc_prob, low=0, high=1))
        for name in ("sinc_cutoff_small", "sinc_cutoff_large"):
            value = check_range(name, getattr(self, name), low=0, high=math.pi, low_open=True)
            object.__setattr__(self, name, value)
        object.__setattr__(
            self, "sinc_small_below", check_int("sinc_small_below", self.sinc_small_below, low=1)
        )


@dataclass(frozen=True)
class ResizeConfig:
    """Random resize: direction (up, down, keep) with ``probs``, then a factor and a mode.

    ``scale_range=(low, high)``: up draws ``U(1, high)``, down draws ``U(low, 1)`` (or, with
    ``down_uniform_in="factor"``, a divisor ``d ~ U(1/min(high, 1), 1/low)`` and scale ``1/d``,
    as CodeFormer draws its down-sampling factor). ``relative_to="input"`` sizes the output as
    ``int(h * scale)`` of the current image (Real-ESRGAN stage 1); ``"target"`` as
    ``int(H / sr_scale * scale)`` of the original HR (Real-ESRGAN stage 2).
    """

    probs: tuple[float, float, float] = (0.2, 0.7, 0.1)
    scale_range: tuple[float, float] = (0.15, 1.5)
    modes: tuple[str, ...] = RESIZE_MODES
    relative_to: str = "input"
    down_uniform_in: str = "scale"

    def __post_init__(self) -> None:
        object.__setattr__(self, "probs", check_probs("resize probs (up, down, keep)", self.probs, 3))
        object.__setattr__(
            self, "scale_range", check_range("scale_range", self.scale_range, low=0, low_open=True)
        )
        if isinstance(self.modes, str) or not isinstance(self.modes, Sequence) or not self.modes:
            raise TypeError(f"modes must be a non-empty sequence of {RESIZE_MODES}, got {self.modes!r}")
        object.__setattr__(
            self, "modes", tuple(check_choice("resize mode", m, RESIZE_MODES) for m in self.modes)
        )
        check_choice("relative_to", self.relative_to, ("input", "target"))
        check_choice("down_uniform_in", self.down_uniform_in, ("scale", "factor"))


@dataclass(frozen=True)
class NoiseConfig:
    """Gaussian noise with probability ``gaussian_prob`` (sigma in 0-255 units), else Poisson
    noise scaled by a factor from ``poisson_scale_range``; gray (same on all channels) with
    probability ``gray_prob``. ``poisson_sampler`` picks how the Poisson counts are drawn
    (:data:`POISSON_SAMPLERS`): ``inverse_cdf`` (table inversion on the CPU, the same field on
    every device, ~3-6x cheaper) or ``torch`` (``torch.poisson`` on the image's device, the
    sampler of records made before ``inverse_cdf`` existed). Both draw the same distribution."""

    gaussian_prob: float = 0.5
    sigma_range: tuple[float, float] = (1.0, 30.0)
    poisson_scale_range: tuple[float, float] = (0.05, 3.0)
    gray_prob: float = 0.4
    poisson_sampler: str = "inverse_cdf"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "gaussian_prob", check_number("gaussian_prob", self.gaussian_prob, low=0, high=1)
        )
        object.__setattr__(self, "sigma_range", check_range("sigma_range", self.sigma_range, low=0))
        object.__setattr__(
            self, "poisson_scale_range", check_range("poisson_scale_range", self.poisson_scale_range, low=0)
        )
        object.__setattr__(self, "gray_prob", check_number("gray_prob", self.gray_prob, low=0, high=1))
        check_choice("poisson_sampler", self.poisson_sampler, POISSON_SAMPLERS)


def _jpeg_range(value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    lo, hi = check_range("jpeg_range", value, low=1, high=100)
    if lo != int(lo) or hi != int(hi):
        raise ValueError(f"jpeg_range must hold integer qualities, got {value!r}")
    return int(lo), int(hi)


@dataclass(frozen=True)
class StageConfig:
    """One degradation stage: blur (with probability ``blur_prob``) -> resize -> noise
    (with probability ``noise_prob``) -> JPEG (when ``jpeg_range`` is set; quality is an
    integer drawn uniformly, both ends included)."""

    kernel: KernelConfig = KernelConfig()
    blur_prob: float = 1.0
    resize: ResizeConfig = ResizeConfig()
    noise: NoiseConfig = NoiseConfig()
    noise_prob: float = 1.0
    jpeg_range: tuple[int, int] | None = (30, 95)

    def __post_init__(self) -> None:
        for name, cls in (("kernel", KernelConfig), ("resize", ResizeConfig), ("noise", NoiseConfig)):
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"{name} must be a {cls.__name__}, got {type(getattr(self, name)).__name__}")
        object.__setattr__(self, "blur_prob", check_number("blur_prob", self.blur_prob, low=0, high=1))
        object.__setattr__(self, "noise_prob", check_number("noise_prob", self.noise_prob, low=0, high=1))
        object.__setattr__(self, "jpeg_range", _jpeg_range(self.jpeg_range))


@dataclass(frozen=True)
class FinalConfig:
    """Last step: resize to exactly ``(H // scale, W // scale)`` (+ optional sinc) and an
    optional JPEG; the resize+sinc group comes first with probability ``resize_first_prob``.
    ``antialias`` turns on antialiased resizing (the plain ``bicubic`` preset)."""

    resize_first_prob: float = 0.5
    resize_modes: tuple[str, ...] = RESIZE_MODES
    antialias: bool = False
    sinc_prob: float = 0.8
    sinc_sizes: tuple[int, int] = (7, 21)
    sinc_cutoff: tuple[float, float] = (math.pi / 3, math.pi)
    jpeg_range: tuple[int, int] | None = (30, 95)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "resize_first_prob",
            check_number("resize_first_prob", self.resize_first_prob, low=0, high=1),
        )
        if (
            isinstance(self.resize_modes, str)
            or not isinstance(self.resize_modes, Sequence)
            or not self.resize_modes
        ):
            raise TypeError(
                f"resize_modes must be a non-empty sequence of {RESIZE_MODES}, got {self.resize_modes!r}"
            )
        object.__setattr__(
            self,
            "resize_modes",
            tuple(check_choice("resize mode", m, RESIZE_MODES) for m in self.resize_modes),
        )
        if not isinstance(self.antialias, bool):
            raise TypeError(f"antialias must be a bool, got {self.antialias!r}")
        object.__setattr__(self, "sinc_prob", check_number("sinc_prob", self.sinc_prob, low=0, high=1))
        object.__setattr__(self, "sinc_sizes", _odd_size_range("sinc_sizes", self.sinc_sizes))
        object.__setattr__(
            self,
            "sinc_cutoff",
            check_range("sinc_cutoff", self.sinc_cutoff, low=0, high=math.pi, low_open=True),
        )
        object.__setattr__(self, "jpeg_range", _jpeg_range(self.jpeg_range))


@dataclass(frozen=True)
class UsmConfig:
    """Unsharp mask of the HR (basicsr ``USMSharp``): Gaussian blur of size ``radius`` (made
    odd; sigma from OpenCV's rule for sigma=0), ``out = img + mask * (clip(img + weight *
    (img - blur)) - img)`` where ``mask`` is the blurred indicator ``|img - blur| * 255 >
    threshold``."""

    radius: int = 50
    weight: float = 0.5
    threshold: float = 10.0

    def __post_init__(self) -> None:
        check_int("usm radius", self.radius, low=1)
        object.__setattr__(self, "weight", check_number("usm weight", self.weight, low=0))
        object.__setattr__(self, "threshold", check_number("usm threshold", self.threshold, low=0))


@dataclass(frozen=True)
class DegradationConfig:
    """A whole preset. ``first``/``second`` may be ``None`` (stage skipped), ``usm`` ``None``
    (no sharpening).

    4K awareness: the published ranges were tuned on 256-512 px crops. Every kernel's sigma
    and size are multiplied, and sinc cut-offs divided, by a factor ``f`` recorded in the
    parameters as ``kernel_scale``: ``f = kernel_scale`` when ``reference_resolution`` is
    ``None``, else ``f = kernel_scale * max(1, min(H, W) / reference_resolution)``. Resize
    factors, noise, JPEG and USM are unchanged (they are relative or per-pixel already).
    """

    name: str
    first: StageConfig | None = StageConfig()
    second: StageConfig | None = None
    final: FinalConfig = FinalConfig()
    usm: UsmConfig | None = None
    kernel_scale: float = 1.0
    reference_resolution: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty str, got {self.name!r}")
        for name in ("first", "second"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, StageConfig):
                raise TypeError(f"{name} must be a StageConfig or None, got {type(value).__name__}")
        if not isinstance(self.final, FinalConfig):
            raise TypeError(f"final must be a FinalConfig, got {type(self.final).__name__}")
        if self.usm is not None and not isinstance(self.usm, UsmConfig):
            raise TypeError(f"usm must be a UsmConfig or None, got {type(self.usm).__name__}")
        object.__setattr__(
            self, "kernel_scale", check_number("kernel_scale", self.kernel_scale, low=0, low_open=True)
        )
        if self.reference_resolution is not None:
            check_int("reference_resolution", self.reference_resolution, low=1)


_NESTED: dict[tuple[type, str], type] = {
    (DegradationConfig, "first"): StageConfig,
    (DegradationConfig, "second"): StageConfig,
    (DegradationConfig, "final"): FinalConfig,
    (DegradationConfig, "usm"): UsmConfig,
    (StageConfig, "kernel"): KernelConfig,
    (StageConfig, "resize"): ResizeConfig,
    (StageConfig, "noise"): NoiseConfig,
}


def _plain(value: Any) -> Any:
    """Lists (also OmegaConf ListConfig) become tuples so frozen configs stay hashable."""
    if isinstance(value, (str, bytes)) or isinstance(value, Mapping):
        return value
    if isinstance(value, Sequence):
        return tuple(_plain(v) for v in value)
    return value


def with_overrides(config: Any, overrides: Mapping[str, Any], *, where: str = "") -> Any:
    """Return a copy of a config dataclass with ``overrides`` applied.

    Nested configs take nested mappings (``{"first": {"noise": {"sigma_range": (1, 10)}}}``);
    a mapping for a stage that is ``None`` builds it from the class defaults; ``None``
    removes an optional part. Unknown keys raise ``ValueError`` with a suggestion.
    """
    fields = {f.name for f in dataclasses.fields(config)}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in fields:
            raise ValueError(
                f"unknown option {where}{key!r} for {type(config).__name__}; "
                f"expected one of {sorted(fields)}.{did_you_mean(str(key), fields)}"
            )
        nested = _NESTED.get((type(config), key))
        if nested is not None and isinstance(value, Mapping):
            current = getattr(config, key)
            base = current if current is not None else nested()
            changes[key] = with_overrides(base, value, where=f"{where}{key}.")
        else:
            changes[key] = _plain(value)
    return dataclasses.replace(config, **changes)
