"""Face restorers for the blend baseline: aligned ``(S, S, 3) uint8`` face in, restored face out.

- :class:`TorchFaceRestorer` with ``arch="tiny"``: a small residual conv net
  (:class:`TinyRestorerNet`) loading a checkpoint file (safetensors, or ``.pth`` with
  ``params_ema``/``params``/bare state dict). Tests save random weights in that format; it is
  the smallest real restorer the blend pipeline can run end to end.
- :class:`GFPGANRestorer`: GFPGAN v1.3/v1.4 (``GFPGANv1Clean`` from the ``gfpgan`` package,
  official ``params_ema`` checkpoint).
- :class:`CodeFormerRestorer`: CodeFormer (arch from the ``codeformer-pip`` package, official
  ``params_ema`` checkpoint, fidelity weight ``w``).

The GFPGAN and CodeFormer architectures are large third-party networks used through their
packages (``gfpgan==1.3.8``, ``codeformer-pip==0.0.4``, installed ``--no-deps`` by the Makefile);
without a package or the weight file the restorer reports itself unavailable, naming what is
missing. Tests run both architectures with random weights saved in the official layout
(``tests/bench/test_face_restorer_archs.py``).
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks.methods.base import MethodUnavailable

__all__ = ["FaceRestorer", "TinyRestorerNet", "TorchFaceRestorer", "GFPGANRestorer", "CodeFormerRestorer",
           "load_checkpoint"]


def load_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """State dict from ``.safetensors`` or a ``.pth`` (``params_ema`` > ``params`` > bare dict)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict):
        raise ValueError(f"{path}: expected a dict checkpoint, got {type(ckpt).__name__}")
    for key in ("params_ema", "params", "state_dict"):
        if key in ckpt:
            return ckpt[key]
    return ckpt


def _resolve(name: str | None, model_path: str | None, who: str) -> Path:
    if model_path is not None and Path(model_path).expanduser().is_file():
        return Path(model_path).expanduser()
    if name is None:
        raise MethodUnavailable(f"{who}: checkpoint {model_path} does not exist", str(model_path))
    from portraitsr4k.weights import MissingWeightsError, resolve

    try:
        return resolve(name, model_path)
    except MissingWeightsError as err:
        raise MethodUnavailable(f"{who}: {err}", getattr(err, "filename", name)) from err


def _to_tensor(face: np.ndarray, device: str) -> torch.Tensor:
    """``(S, S, 3) uint8`` -> ``(1, 3, S, S) float32 in [-1, 1]``."""
    t = torch.from_numpy(np.ascontiguousarray(face)).permute(2, 0, 1)[None].float().div(127.5).sub(1.0)
    return t.to(device)


def _to_uint8(t: torch.Tensor) -> np.ndarray:
    """``(1, 3, S, S)`` in [-1, 1] -> ``(S, S, 3) uint8``."""
    x = t.float().clamp(-1, 1).add(1.0).mul(127.5)[0].permute(1, 2, 0).cpu().numpy()
    return np.rint(x).astype(np.uint8)


class FaceRestorer(abc.ABC):
    """Restores one FFHQ-aligned face crop."""

    #: side of the aligned crops the network expects.
    size: int = 512

    def __init__(self, *, device: str = "cpu") -> None:
        self.device = device

    def config(self) -> dict[str, Any]:
        """Parameters that change outputs (part of the blend method's config hash)."""
        return {"class": type(self).__name__}

    def weight_files(self) -> dict[str, Path]:
        return {}

    def check_available(self) -> None:
        """Raise :class:`MethodUnavailable` when the package or weight file is missing."""

    @abc.abstractmethod
    def restore(self, face: np.ndarray) -> np.ndarray:
        """``(S, S, 3) uint8`` aligned face -> ``(S, S, 3) uint8`` restored face."""


class TinyRestorerNet(nn.Module):
    """Three 3x3 convs with a residual connection: ``x + f(x)`` on ``(B, 3, S, S)`` in [-1, 1]."""

    def __init__(self, *, channels: int = 16) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, channels, 3, 1, 1)
        self.conv_mid = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv_out = nn.Conv2d(channels, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv_in(x))
        h = torch.relu(self.conv_mid(h))
        return x + self.conv_out(h)


class TorchFaceRestorer(FaceRestorer):
    """A restorer network defined here (``arch="tiny"``) loaded from ``model_path``.

    Args:
        arch: ``tiny`` (:class:`TinyRestorerNet`).
        model_path: checkpoint file (safetensors or .pth).
        channels: width of the tiny net (must match the checkpoint).
        size: aligned crop side it runs on.
    """

    def __init__(self, *, arch: str = "tiny", model_path: str | None = None, channels: int = 16,
                 size: int = 512, device: str = "cpu") -> None:
        super().__init__(device=device)
        if arch != "tiny":
            raise ValueError(f"TorchFaceRestorer arch must be 'tiny', got {arch!r}")
        if model_path is None:
            raise ValueError("TorchFaceRestorer needs model_path (a safetensors/.pth checkpoint)")
        self.arch, self.model_path, self.channels, self.size = arch, str(model_path), int(channels), int(size)
        self._net: nn.Module | None = None

    def config(self) -> dict[str, Any]:
        return {"class": type(self).__name__, "arch": self.arch, "channels": self.channels, "size": self.size}

    def weight_files(self) -> dict[str, Path]:
        return {"restorer": Path(self.model_path)}

    def check_available(self) -> None:
        if not Path(self.model_path).is_file():
            raise MethodUnavailable(f"face restorer checkpoint {self.model_path} does not exist", self.model_path)

    @torch.no_grad()
    def restore(self, face: np.ndarray) -> np.ndarray:
        if self._net is None:
            self.check_available()
            net = TinyRestorerNet(channels=self.channels)
            net.load_state_dict(load_checkpoint(Path(self.model_path)), strict=True)
            self._net = net.eval().to(self.device)
        return _to_uint8(self._net(_to_tensor(face, self.device)))


class GFPGANRestorer(FaceRestorer):
    """GFPGAN v1.3/v1.4 through the ``gfpgan`` package's ``GFPGANv1Clean`` architecture.

    Args:
        weights: catalog name of the checkpoint (``gfpgan_v1_4``).
        model_path: explicit checkpoint file (searched first).
        narrow: ``GFPGANv1Clean``'s channel-width factor; the official v1.3/v1.4 checkpoints
            are ``1``, smaller values build the same architecture thinner (tests save random
            weights of a ``narrow=0.125`` net in the official ``params_ema`` layout).
    """

    def __init__(self, *, weights: str | None = "gfpgan_v1_4", model_path: str | None = None,
                 narrow: float = 1.0, device: str = "cpu") -> None:
        super().__init__(device=device)
        if not 0.0 < float(narrow) <= 1.0:
            raise ValueError(f"narrow must be in (0, 1], got {narrow!r}")
        self.weights, self.model_path, self.narrow = weights, model_path, float(narrow)
        self._net: nn.Module | None = None

    def config(self) -> dict[str, Any]:
        return {"class": type(self).__name__, "weights": self.weights, "narrow": self.narrow}

    def weight_files(self) -> dict[str, Path]:
        try:
            return {self.weights or "gfpgan": _resolve(self.weights, self.model_path, "GFPGAN")}
        except MethodUnavailable:
            return {}

    def _arch(self) -> type:
        try:
            from gfpgan.archs.gfpganv1_clean_arch import GFPGANv1Clean
        except ImportError as err:
            raise MethodUnavailable(
                f"GFPGAN restorer needs the `gfpgan` package (pip install --no-deps gfpgan==1.3.8): {err}",
                "gfpgan") from err
        return GFPGANv1Clean

    def check_available(self) -> None:
        self._arch()
        _resolve(self.weights, self.model_path, "GFPGAN")

    @torch.no_grad()
    def restore(self, face: np.ndarray) -> np.ndarray:
        if self._net is None:
            arch = self._arch()
            net = arch(out_size=512, num_style_feat=512, channel_multiplier=2, decoder_load_path=None,
                       fix_decoder=False, num_mlp=8, input_is_latent=True, different_w=True,
                       narrow=self.narrow, sft_half=True)
            net.load_state_dict(load_checkpoint(_resolve(self.weights, self.model_path, "GFPGAN")), strict=True)
            self._net = net.eval().to(self.device)
        return _to_uint8(self._net(_to_tensor(face, self.device), return_rgb=False)[0])


class CodeFormerRestorer(FaceRestorer):
    """CodeFormer through the ``codeformer-pip`` package's architecture.

    Args:
        fidelity: ``w`` in [0, 1] (0 = quality, 1 = fidelity; the CLI default is 0.5).
        weights / model_path: checkpoint (catalog ``codeformer``).
        dim_embd, codebook_size, n_head, n_layers: the transformer's size; the official
            ``codeformer.pth`` is 512 / 1024 / 8 / 9 (tests use a smaller transformer with
            random weights; the VQGAN around it has a fixed width).
    """

    def __init__(self, *, fidelity: float = 0.5, weights: str | None = "codeformer", model_path: str | None = None,
                 dim_embd: int = 512, codebook_size: int = 1024, n_head: int = 8, n_layers: int = 9,
                 device: str = "cpu") -> None:
        super().__init__(device=device)
        if not 0.0 <= float(fidelity) <= 1.0:
            raise ValueError(f"fidelity must be in [0, 1], got {fidelity!r}")
        for what, value in (("dim_embd", dim_embd), ("codebook_size", codebook_size), ("n_head", n_head),
                            ("n_layers", n_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be an int >= 1, got {value!r}")
        if dim_embd % n_head:
            raise ValueError(f"dim_embd ({dim_embd}) must be divisible by n_head ({n_head})")
        self.fidelity, self.weights, self.model_path = float(fidelity), weights, model_path
        self.arch_size = {"dim_embd": dim_embd, "codebook_size": codebook_size, "n_head": n_head, "n_layers": n_layers}
        self._net: nn.Module | None = None

    def config(self) -> dict[str, Any]:
        return {"class": type(self).__name__, "weights": self.weights, "fidelity": self.fidelity, **self.arch_size}

    def weight_files(self) -> dict[str, Path]:
        try:
            return {self.weights or "codeformer": _resolve(self.weights, self.model_path, "CodeFormer")}
        except MethodUnavailable:
            return {}

    def _arch(self) -> type:
        try:
            from codeformer.basicsr.archs.codeformer_arch import CodeFormer
        except ImportError as err:
            raise MethodUnavailable(
                f"CodeFormer restorer needs the `codeformer-pip` package (pip install --no-deps codeformer-pip): "
                f"{err}", "codeformer-pip") from err
        return CodeFormer

    def check_available(self) -> None:
        self._arch()
        _resolve(self.weights, self.model_path, "CodeFormer")

    @torch.no_grad()
    def restore(self, face: np.ndarray) -> np.ndarray:
        if self._net is None:
            arch = self._arch()
            net = arch(**self.arch_size, connect_list=["32", "64", "128", "256"])
            net.load_state_dict(load_checkpoint(_resolve(self.weights, self.model_path, "CodeFormer")), strict=True)
            self._net = net.eval().to(self.device)
        return _to_uint8(self._net(_to_tensor(face, self.device), w=self.fidelity, adain=True)[0])
