"""Real-ESRGAN inference with our own RRDBNet / SRVGGNetCompact and the official checkpoints."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from benchmarks.methods.base import MethodUnavailable, SRMethod, check_lq
from benchmarks.methods.tiling import tiled_forward

logger = logging.getLogger(__name__)

__all__ = ["RealESRGANMethod", "build_arch", "load_official_state_dict"]


def build_arch(arch: str, *, scale: int, num_feat: int, num_block: int, num_grow_ch: int, num_conv: int) -> nn.Module:
    """``rrdb`` -> :class:`RRDBNet`, ``srvgg`` -> :class:`SRVGGNetCompact` with these sizes."""
    if arch == "rrdb":
        from benchmarks.methods.archs.rrdbnet import RRDBNet

        return RRDBNet(scale=scale, num_feat=num_feat, num_block=num_block, num_grow_ch=num_grow_ch)
    if arch == "srvgg":
        from benchmarks.methods.archs.srvgg import SRVGGNetCompact

        return SRVGGNetCompact(num_feat=num_feat, num_conv=num_conv, upscale=scale)
    raise ValueError(f"arch must be 'rrdb' or 'srvgg', got {arch!r}")


def load_official_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The state dict of an official Real-ESRGAN ``.pth``: ``params_ema`` if present, else
    ``params``, else the file itself (a bare state dict)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict):
        raise ValueError(f"{path}: expected a dict checkpoint, got {type(ckpt).__name__}")
    for key in ("params_ema", "params"):
        if key in ckpt:
            return ckpt[key]
    return ckpt


class RealESRGANMethod(SRMethod):
    """Real-ESRGAN (``RealESRGAN_x4plus`` RRDBNet or ``realesr-general-x4v3`` compact net).

    Args:
        name: method name.
        arch: ``rrdb`` or ``srvgg``.
        weights: catalog name (``realesrgan_x4plus``, ``realesr_general_x4v3``) resolved through
            :func:`portraitsr4k.weights.resolve`; missing -> :class:`MethodUnavailable`.
        model_path: explicit checkpoint file (searched before the catalog locations).
        net_scale: the network's own scale (4). Other dataset scales are reached by resizing
            the network output with PIL Lanczos (Real-ESRGAN's ``--outscale``).
        num_feat / num_block / num_grow_ch / num_conv: architecture sizes (official defaults).
        tile / tile_pad: tiled inference in LQ pixels (``tile=0``: whole image).
        half: fp16 inference (CUDA only).
        device: torch device.
    """

    def __init__(self, *, name: str = "realesrgan", arch: str = "rrdb", weights: str | None = "realesrgan_x4plus",
                 model_path: str | None = None, net_scale: int = 4, num_feat: int = 64, num_block: int = 23,
                 num_grow_ch: int = 32, num_conv: int = 32, tile: int = 512, tile_pad: int = 32,
                 half: bool = False, device: str = "cpu") -> None:
        super().__init__(name=name, device=device)
        if arch not in ("rrdb", "srvgg"):
            raise ValueError(f"arch must be 'rrdb' or 'srvgg', got {arch!r}")
        if weights is None and model_path is None:
            raise ValueError("give `weights` (a catalog name) or `model_path`")
        if not isinstance(tile, int) or tile < 0 or not isinstance(tile_pad, int) or tile_pad < 0:
            raise ValueError(f"tile and tile_pad must be ints >= 0, got {tile!r}, {tile_pad!r}")
        self.arch, self.weights, self.model_path = arch, weights, model_path
        self.net_scale = int(net_scale)
        self.sizes = {"num_feat": num_feat, "num_block": num_block, "num_grow_ch": num_grow_ch, "num_conv": num_conv}
        self.tile, self.tile_pad, self.half = tile, tile_pad, bool(half)
        self._net: nn.Module | None = None
        self._path: Path | None = None

    def config(self) -> dict[str, Any]:
        return {"arch": self.arch, "weights": self.weights, "net_scale": self.net_scale, **self.sizes,
                "tile": self.tile, "tile_pad": self.tile_pad, "half": self.half}

    def weight_path(self) -> Path:
        """The checkpoint file; raises :class:`MethodUnavailable` naming it when missing."""
        if self._path is None:
            if self.weights is None:
                p = Path(self.model_path).expanduser()
                if not p.is_file():
                    raise MethodUnavailable(f"{self.name}: checkpoint {p} does not exist", str(p))
                self._path = p
            else:
                from portraitsr4k.weights import MissingWeightsError, resolve

                try:
                    self._path = resolve(self.weights, self.model_path)
                except MissingWeightsError as err:
                    raise MethodUnavailable(f"{self.name}: {err}", getattr(err, "filename", self.weights)) from err
        return self._path

    def weight_files(self) -> dict[str, Path]:
        try:
            return {self.weights or "checkpoint": self.weight_path()}
        except MethodUnavailable:
            return {}

    def check_available(self) -> None:
        self.weight_path()

    @property
    def net(self) -> nn.Module:
        if self._net is None:
            net = build_arch(self.arch, scale=self.net_scale, **self.sizes)
            state = load_official_state_dict(self.weight_path())
            net.load_state_dict(state, strict=True)
            net.eval().to(self.device)
            if self.half:
                net.half()
            self._net = net
        return self._net

    def upscale_batch(self, lqs: Any, *, scale: int, samples: Any = None) -> list[np.ndarray]:
        """Same-size images run as one ``(B, 3, h, w)`` batch (GPU throughput); else one by one."""
        lqs = [check_lq(lq) for lq in lqs]
        if len(lqs) < 2 or len({lq.shape for lq in lqs}) != 1:
            return super().upscale_batch(lqs, scale=scale, samples=samples)
        return self._run(np.stack(lqs), scale)

    def upscale(self, lq: np.ndarray, *, scale: int, sample: Any = None) -> np.ndarray:
        """``(h, w, 3) uint8`` -> ``(h*scale, w*scale, 3) uint8`` through the network (tiled)."""
        return self._run(check_lq(lq)[None], scale)[0]

    @torch.no_grad()
    def _run(self, lqs: np.ndarray, scale: int) -> list[np.ndarray]:
        """``(B, h, w, 3) uint8`` -> list of ``(h*scale, w*scale, 3) uint8``."""
        h, w = lqs.shape[1:3]
        x = torch.from_numpy(np.ascontiguousarray(lqs)).permute(0, 3, 1, 2).float().div(255.0).to(self.device)
        if self.half:
            x = x.half()
        # RRDBNet at scale 2/1 pixel-unshuffles: pad to a multiple of the unshuffle factor.
        mod = {4: 1, 2: 2, 1: 4}[self.net_scale] if self.arch == "rrdb" else 1
        ph, pw = (-h) % mod, (-w) % mod
        if ph or pw:
            x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="reflect")
        y = tiled_forward(self.net, x, scale=self.net_scale, tile=self.tile, pad=self.tile_pad)
        y = y[..., : h * self.net_scale, : w * self.net_scale]
        batch = (y.float().clamp_(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255.0).round().astype(np.uint8)
        outs = []
        for out in batch:
            if scale != self.net_scale:
                out = np.asarray(Image.fromarray(out).resize((w * scale, h * scale), Image.Resampling.LANCZOS))
            outs.append(np.ascontiguousarray(out))
        return outs
