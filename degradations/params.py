"""Drawn degradation parameters: frozen, validated, JSON-serialisable, self-contained.

A :class:`DegradationParams` record holds every value that :func:`degradations.apply_params`
needs (kernel types and their final sizes/sigmas/betas/angles/cut-offs, resize modes and
factors, noise kind/strength/gray flag/seed, JPEG qualities, order of the final step, USM
settings, the 4K kernel factor), so a stored record reproduces the LQ bit-exactly on the same
device without the preset that drew it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from degradations._validate import check_choice, check_int, check_number, did_you_mean
from degradations.config import KERNEL_KINDS, POISSON_SAMPLERS, RESIZE_MODES

FORMAT = "portraitsr4k.degradation/1"
KERNEL_PARAM_KINDS = (*KERNEL_KINDS, "sinc")
FINAL_ORDERS = ("resize_then_jpeg", "jpeg_then_resize")
NOISE_KINDS = ("gaussian", "poisson")
MAX_SEED = 2**63 - 1


def _optional_number(what: str, value: object, **bounds: Any) -> float | None:
    return None if value is None else check_number(what, value, **bounds)


def _check_type(what: str, value: object, cls: type) -> None:
    if not isinstance(value, cls):
        raise TypeError(f"{what} must be a {cls.__name__}, got {type(value).__name__} {value!r}")


@dataclass(frozen=True)
class KernelParams:
    """One blur kernel. ``size`` is the final odd size (after any 4K scaling).

    Gaussian-family kinds need ``sigma_x``, ``sigma_y``, ``theta`` (isotropic kinds store
    ``sigma_y == sigma_x`` and ``theta == 0``); generalized/plateau kinds also ``beta``;
    ``sinc`` needs only ``cutoff`` (radians, in (0, pi]).
    """

    kind: str
    size: int
    sigma_x: float | None = None
    sigma_y: float | None = None
    theta: float | None = None
    beta: float | None = None
    cutoff: float | None = None

    def __post_init__(self) -> None:
        check_choice("kernel kind", self.kind, KERNEL_PARAM_KINDS)
        check_int("kernel size", self.size, low=1)
        if self.size % 2 == 0:
            raise ValueError(f"kernel size must be odd, got {self.size}")
        for name in ("sigma_x", "sigma_y", "theta", "beta", "cutoff"):
            object.__setattr__(self, name, _optional_number(f"kernel {name}", getattr(self, name)))
        if self.kind == "sinc":
            if self.cutoff is None or not 0 < self.cutoff <= math.pi:
                raise ValueError(f"sinc kernel needs a cutoff in (0, pi], got {self.cutoff!r}")
            extra = [n for n in ("sigma_x", "sigma_y", "theta", "beta") if getattr(self, n) is not None]
            if extra:
                raise ValueError(f"sinc kernel takes only size and cutoff, got also {extra}")
            return
        for name in ("sigma_x", "sigma_y", "theta"):
            if getattr(self, name) is None:
                raise ValueError(f"{self.kind} kernel needs {name}")
        if self.sigma_x <= 0 or self.sigma_y <= 0:
            raise ValueError(f"kernel sigmas must be > 0, got {self.sigma_x}, {self.sigma_y}")
        if self.kind.endswith("iso") and not self.kind.endswith("aniso"):
            if self.sigma_y != self.sigma_x or self.theta != 0.0:
                raise ValueError(
                    f"{self.kind} kernel needs sigma_y == sigma_x and theta == 0, got "
                    f"{self.sigma_x}, {self.sigma_y}, {self.theta}"
                )
        needs_beta = self.kind.startswith(("generalized", "plateau"))
        if needs_beta and (self.beta is None or self.beta <= 0):
            raise ValueError(f"{self.kind} kernel needs beta > 0, got {self.beta!r}")
        if not needs_beta and self.beta is not None:
            raise ValueError(f"{self.kind} kernel takes no beta, got {self.beta!r}")
        if self.cutoff is not None:
            raise ValueError(f"{self.kind} kernel takes no cutoff, got {self.cutoff!r}")


@dataclass(frozen=True)
class ResizeParams:
    """A resize. ``relative_to="input"``: output ``(int(h * scale), int(w * scale))`` of the
    current image; ``"target"``: ``(int(H / sr_scale * scale), ...)`` of the original HR
    (``scale == 1`` gives exactly the LQ size). Sizes are clamped to at least 1 pixel."""

    mode: str
    scale: float
    relative_to: str
    antialias: bool = False

    def __post_init__(self) -> None:
        check_choice("resize mode", self.mode, RESIZE_MODES)
        object.__setattr__(self, "scale", check_number("resize scale", self.scale, low=0, low_open=True))
        check_choice("resize relative_to", self.relative_to, ("input", "target"))
        _check_type("resize antialias", self.antialias, bool)


@dataclass(frozen=True)
class NoiseParams:
    """Additive noise. ``gaussian``: ``sigma`` in 0-255 units. ``poisson``: ``poisson_scale``
    multiplies Real-ESRGAN's shot noise, its counts drawn by ``sampler`` (``torch``: records
    made before the ``inverse_cdf`` sampler existed have no ``sampler`` key and mean this).
    ``gray``: one field shared by the 3 channels. ``seed`` seeds the generator that makes the
    noise field in ``apply``."""

    kind: str
    gray: bool
    seed: int
    sigma: float | None = None
    poisson_scale: float | None = None
    sampler: str = "torch"

    def __post_init__(self) -> None:
        check_choice("noise kind", self.kind, NOISE_KINDS)
        _check_type("noise gray", self.gray, bool)
        check_int("noise seed", self.seed, low=0, high=MAX_SEED)
        check_choice("noise sampler", self.sampler, POISSON_SAMPLERS)
        if self.kind == "gaussian" and self.sampler != "torch":
            raise ValueError(f"gaussian noise is drawn with torch; sampler must be 'torch', got {self.sampler!r}")
        object.__setattr__(self, "sigma", _optional_number("noise sigma", self.sigma, low=0))
        object.__setattr__(
            self, "poisson_scale", _optional_number("noise poisson_scale", self.poisson_scale, low=0)
        )
        wanted, unwanted = (
            ("sigma", "poisson_scale") if self.kind == "gaussian" else ("poisson_scale", "sigma")
        )
        if getattr(self, wanted) is None or getattr(self, unwanted) is not None:
            raise ValueError(
                f"{self.kind} noise needs {wanted} and no {unwanted}, got "
                f"sigma={self.sigma!r}, poisson_scale={self.poisson_scale!r}"
            )


def _check_quality(value: object) -> None:
    if value is not None:
        check_int("jpeg quality", value, low=1, high=100)


@dataclass(frozen=True)
class StageParams:
    """One stage as drawn: blur (``None`` = skipped) -> resize -> noise -> JPEG."""

    kernel: KernelParams | None
    resize: ResizeParams
    noise: NoiseParams | None
    jpeg_quality: int | None

    def __post_init__(self) -> None:
        if self.kernel is not None:
            _check_type("stage kernel", self.kernel, KernelParams)
        _check_type("stage resize", self.resize, ResizeParams)
        if self.noise is not None:
            _check_type("stage noise", self.noise, NoiseParams)
        _check_quality(self.jpeg_quality)


@dataclass(frozen=True)
class FinalParams:
    """Final step: ``resize`` (to the LQ size) then ``sinc`` then JPEG, or JPEG first."""

    order: str
    resize: ResizeParams
    sinc: KernelParams | None
    jpeg_quality: int | None

    def __post_init__(self) -> None:
        check_choice("final order", self.order, FINAL_ORDERS)
        _check_type("final resize", self.resize, ResizeParams)
        if self.resize.relative_to != "target" or self.resize.scale != 1.0:
            raise ValueError(
                f"final resize must go to the LQ size (relative_to='target', scale=1.0), got {self.resize}"
            )
        if self.sinc is not None:
            _check_type("final sinc", self.sinc, KernelParams)
        _check_quality(self.jpeg_quality)


@dataclass(frozen=True)
class UsmParams:
    """Unsharp-mask settings applied to the HR before degrading (see ``sharpen.usm_sharpen``)."""

    radius: int
    weight: float
    threshold: float

    def __post_init__(self) -> None:
        check_int("usm radius", self.radius, low=1)
        if self.radius % 2 == 0:
            raise ValueError(f"usm radius (kernel size) must be odd, got {self.radius}")
        object.__setattr__(self, "weight", check_number("usm weight", self.weight, low=0))
        object.__setattr__(self, "threshold", check_number("usm threshold", self.threshold, low=0))


_CHILDREN: dict[tuple[type, str], type] = {
    (StageParams, "kernel"): KernelParams,
    (StageParams, "resize"): ResizeParams,
    (StageParams, "noise"): NoiseParams,
    (FinalParams, "resize"): ResizeParams,
    (FinalParams, "sinc"): KernelParams,
}


@dataclass(frozen=True)
class DegradationParams:
    """Everything drawn for one sample. ``kernel_scale`` is the 4K factor already applied to
    the kernels' sizes and sigmas (1.0 when off); ``preset`` is informational."""

    preset: str
    scale: int
    kernel_scale: float
    usm: UsmParams | None
    first: StageParams | None
    second: StageParams | None
    final: FinalParams

    FORMAT: ClassVar[str] = FORMAT

    def __post_init__(self) -> None:
        _check_type("preset", self.preset, str)
        check_int("scale", self.scale, low=1)
        object.__setattr__(
            self, "kernel_scale", check_number("kernel_scale", self.kernel_scale, low=0, low_open=True)
        )
        if self.usm is not None:
            _check_type("usm", self.usm, UsmParams)
        for name in ("first", "second"):
            if getattr(self, name) is not None:
                _check_type(name, getattr(self, name), StageParams)
        _check_type("final", self.final, FinalParams)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable record (``json.dumps`` works) with a ``format`` tag."""
        return {"format": FORMAT, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> DegradationParams:
        """Rebuild (and re-validate) a record made by :meth:`to_dict`."""
        if not isinstance(record, Mapping):
            raise TypeError(
                f"record must be a mapping from DegradationParams.to_dict(), got {type(record).__name__}"
            )
        fmt = record.get("format")
        if fmt != FORMAT:
            raise ValueError(f"record format must be {FORMAT!r}, got {fmt!r}")
        body = {k: v for k, v in record.items() if k != "format"}
        return _build(cls, body, "")


def _build(cls: type, data: object, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise TypeError(
            f"{where or 'record'} must be a mapping for {cls.__name__}, got {type(data).__name__}"
        )
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(
            f"unknown keys {unknown} in {where or 'record'} ({cls.__name__}); expected "
            f"{names}.{did_you_mean(str(unknown[0]), names)}"
        )
    missing = [
        n
        for n in names
        if n not in data and dataclasses.fields(cls)[names.index(n)].default is dataclasses.MISSING
    ]
    if missing:
        raise ValueError(f"missing keys {missing} in {where or 'record'} ({cls.__name__})")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        child = _CHILDREN.get((cls, name)) or _TOP_CHILDREN.get((cls, name))
        kwargs[name] = _build(child, value, f"{where}{name}.") if child and value is not None else value
    return cls(**kwargs)


_TOP_CHILDREN: dict[tuple[type, str], type] = {
    (DegradationParams, "usm"): UsmParams,
    (DegradationParams, "first"): StageParams,
    (DegradationParams, "second"): StageParams,
    (DegradationParams, "final"): FinalParams,
}
