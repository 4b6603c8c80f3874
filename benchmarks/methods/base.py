"""The interface every benchmarked super-resolution method implements.

A method turns one low-quality image into a ``scale``-times larger one::

    class MyMethod(SRMethod):
        def __init__(self, *, name: str = "mine", checkpoint: str | None = None, device: str = "cpu"):
            super().__init__(name=name, device=device)
            self.checkpoint = checkpoint

        def config(self) -> dict:            # everything that changes the output pixels
            return {"checkpoint": self.checkpoint}

        def check_available(self) -> None:   # raise MethodUnavailable when weights are missing
            ...

        def upscale(self, lq, *, scale, sample=None):
            ...                              # (h, w, 3) uint8 -> (h*scale, w*scale, 3) uint8

and is registered by one YAML file in ``conf/method/<name>.yaml`` with ``_target_`` pointing at
the class; the runner instantiates it with ``hydra.utils.instantiate`` (so overrides such as
``method.headsup.checkpoint=DIR`` reach the constructor).

Contract (checked by the runner and by ``tests/bench/test_methods.py``):

- ``upscale`` receives ``lq`` as ``(h, w, 3) uint8`` RGB and returns ``(h*scale, w*scale, 3)
  uint8`` RGB. It must not keep state between images that changes results.
- ``sample`` is the dataset sample being processed (``portraitsr4k.dataset.reader.Sample``:
  ``id``, ``faces`` in HR pixels, ``references`` ids, ``degradation``), or ``None`` when a method
  is run outside a dataset. Methods that use it (face blending from annotated landmarks,
  reference-based methods) must say so in their docstring; the HR image is never passed.
- Missing weights or optional packages raise :class:`MethodUnavailable` (from
  ``check_available`` or from the first ``upscale``), naming the file or package and how to
  get it; the runner then records every cell of the method as ``status="unavailable"`` with that
  message, and never writes an output image.
- ``config_hash()`` changes whenever anything that changes the output pixels changes (class,
  ``config()``, weight file identity); the runner stores cached outputs under it, so editing a
  method's configuration invalidates its cached outputs and their metric records.
- ``upscale_batch`` may be overridden for GPU batching; the default loops over ``upscale``.
"""

from __future__ import annotations

import abc
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MethodUnavailable", "SRMethod", "check_lq", "check_sr", "file_identity"]


class MethodUnavailable(RuntimeError):
    """A method cannot run here (missing weight file or optional package).

    Args:
        reason: human-readable explanation, including how to get what is missing
            (e.g. ``portraitsr4k-weights fetch realesrgan_x4plus``).
        missing_file: the weight file or package that is missing, if any.
    """

    def __init__(self, reason: str, missing_file: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing_file = missing_file


def check_lq(lq: Any) -> np.ndarray:
    """Validate a method input: ``(h, w, 3) uint8``; raises ``TypeError``/``ValueError``."""
    if not isinstance(lq, np.ndarray):
        raise TypeError(f"expected lq as a numpy array (h, w, 3) uint8, got {type(lq).__name__}")
    if lq.dtype != np.uint8 or lq.ndim != 3 or lq.shape[2] != 3:
        raise ValueError(f"expected lq of shape (h, w, 3) and dtype uint8, got {lq.shape} {lq.dtype}")
    return lq


def check_sr(sr: Any, lq_shape: tuple[int, ...], scale: int, method: str) -> np.ndarray:
    """Validate a method output against the contract; raises ``ValueError`` naming the method."""
    expected = (lq_shape[0] * scale, lq_shape[1] * scale, 3)
    if not isinstance(sr, np.ndarray) or sr.dtype != np.uint8 or sr.shape != expected:
        got = f"{sr.shape} {sr.dtype}" if isinstance(sr, np.ndarray) else type(sr).__name__
        raise ValueError(f"method {method!r} must return {expected} uint8, got {got}")
    return sr


def file_identity(path: str | os.PathLike[str] | None) -> str | None:
    """A cheap identity of a weight file for config hashes: ``name:size:mtime_ns``.

    Hashing multi-GB checkpoints on every run would dominate a cached rerun; size plus mtime
    changes whenever a file is replaced. The manifest records full sha256 sums separately.
    """
    if path is None:
        return None
    p = Path(path)
    if not p.exists():
        return f"{p.name}:missing"
    st = p.stat()
    return f"{p.name}:{st.st_size}:{st.st_mtime_ns}"


class SRMethod(abc.ABC):
    """Base class of benchmarked SR methods (see the module docstring for the contract).

    Args:
        name: the method's name in records, output paths and leaderboards.
        device: torch device string for methods that run networks (``cpu``, ``cuda``, ``cuda:1``).
    """

    #: bump in a subclass when its algorithm changes, to invalidate cached outputs.
    version: str = "1"

    def __init__(self, *, name: str, device: str = "cpu") -> None:
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise ValueError(f"method name must be a non-empty string usable as a folder name, got {name!r}")
        if not isinstance(device, str):
            raise TypeError(f"device must be a string such as 'cpu' or 'cuda', got {type(device).__name__}")
        self.name = name
        self.device = device

    # -- identity -------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """JSON-serialisable parameters that change output pixels (not the device)."""
        return {}

    def weight_files(self) -> dict[str, Path]:
        """Weight files this method loads (name -> path), for the manifest's sha256 list."""
        return {}

    def config_hash(self) -> str:
        """12 hex digits identifying (class, version, config, weight-file identity)."""
        payload = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "version": self.version,
            "config": self.config(),
            "weights": {k: file_identity(v) for k, v in sorted(self.weight_files().items())},
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    # -- running --------------------------------------------------------------------------
    def check_available(self) -> None:
        """Raise :class:`MethodUnavailable` if weights or packages are missing (default: none)."""

    @abc.abstractmethod
    def upscale(self, lq: np.ndarray, *, scale: int, sample: Any = None) -> np.ndarray:
        """Super-resolve one image.

        Args:
            lq: ``(h, w, 3) uint8`` RGB low-quality image.
            scale: integer upscaling factor (the dataset's ``scale``).
            sample: the dataset sample (ids, faces, references) or ``None``.

        Returns:
            ``(h*scale, w*scale, 3) uint8`` RGB.
        """

    def upscale_batch(
        self, lqs: Sequence[np.ndarray], *, scale: int, samples: Sequence[Any] | None = None
    ) -> list[np.ndarray]:
        """Super-resolve several images; override to batch on a GPU. Same contract as ``upscale``."""
        samples = list(samples) if samples is not None else [None] * len(lqs)
        if len(samples) != len(lqs):
            raise ValueError(f"got {len(lqs)} images but {len(samples)} samples")
        return [self.upscale(lq, scale=scale, sample=s) for lq, s in zip(lqs, samples)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, config={self.config()!r})"
