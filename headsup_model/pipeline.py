"""HeadsUp ×s inference on images of any size (4K included), the one path shared by
``headsup-sr`` and the benchmark method ``headsup``.

Steps (as OSEDiff's ``test_osediff.py``, written from scratch):
1. bicubic-resize the LQ to the target size, pad to a multiple of 8 (replicate);
2. prompt embedding (fixed prompt, or ``"{tags}, {prompt},"`` from a tagger on the LQ);
3. face mask and reference canvas (faces given in output pixels; reference = FFHQ-aligned face);
4. VAE encoder in overlapping tiles → latent;
5. one UNet step in Gaussian-weighted overlapping latent tiles;
6. frozen VAE decoder in overlapping tiles, clamp;
7. colour fix (AdaIN or wavelet) against the resized LQ, crop, ``uint8``.
fp16 on CUDA, float32 on CPU.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from headsup_model.colorfix import color_fix
from headsup_model.facecrop import box_mask, reference_canvas
from headsup_model.model import HeadsUpModel
from headsup_model.models.text import DEFAULT_PROMPT, PromptEncoder, Tagger, build_prompt
from headsup_model.tiling import tiled_apply

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TilingConfig:
    """Tile sizes (OSEDiff defaults): latent tiles of 96 with overlap 32 latents; VAE encoder
    tiles of 1024 px, decoder tiles of 224 latents, each with 1/8 overlap."""

    latent_tile: int = 96
    latent_overlap: int = 32
    vae_encoder_tile: int = 1024
    vae_decoder_tile: int = 224
    vae_overlap_frac: float = 0.125

    def __post_init__(self) -> None:
        if self.latent_tile % 8 or self.vae_encoder_tile % 8:
            raise ValueError(f"latent_tile/vae_encoder_tile must be multiples of 8, got {self.latent_tile}, "
                             f"{self.vae_encoder_tile}")
        if not 0 <= self.latent_overlap < self.latent_tile:
            raise ValueError(f"latent_overlap: expected 0 <= overlap < {self.latent_tile}, got {self.latent_overlap}")
        if not 0.0 <= self.vae_overlap_frac < 0.5:
            raise ValueError(f"vae_overlap_frac: expected [0, 0.5), got {self.vae_overlap_frac}")


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 → ``(1, 3, H, W)`` float32 in ``[-1, 1]``."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 127.5 - 1


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` in ``[-1, 1]`` → ``(H, W, 3)`` uint8."""
    return ((x[0].float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


class HeadsUpPipeline:
    """Super-resolve ``(h, w, 3)`` uint8 images with a trained HeadsUp model.

    Args:
        model: a :class:`HeadsUpModel` (weights loaded).
        prompt_encoder: the base model's CLIP prompt encoder.
        prompt: the fixed prompt (or the user part after the tags when ``tagger`` is set).
        tagger: optional tag source (RAM/DAPE-like), run on the resized LQ.
        tiling: tile sizes.
        color_fix: ``adain`` (default, OSEDiff), ``wavelet`` or ``none``.
        device: torch device; fp16 is used on CUDA unless ``fp16=False``.
    """

    def __init__(self, *, model: HeadsUpModel, prompt_encoder: PromptEncoder, prompt: str = DEFAULT_PROMPT,
                 tagger: Tagger | None = None, tiling: TilingConfig = TilingConfig(), color_fix: str = "adain",
                 device: str = "cpu", fp16: bool | None = None, progress: bool = False) -> None:
        if color_fix not in ("adain", "wavelet", "none"):
            raise ValueError(f"color_fix: expected 'adain', 'wavelet' or 'none', got {color_fix!r}")
        self.device = torch.device(device)
        use_fp16 = self.device.type == "cuda" if fp16 is None else bool(fp16)
        self.dtype = torch.float16 if use_fp16 else torch.float32
        self.model = model.eval().to(self.device, self.dtype)
        self.prompt_encoder = prompt_encoder.to(self.device)
        self.prompt, self.tagger, self.tiling, self.color_fix = prompt, tagger, tiling, color_fix
        self.progress = progress
        self._prompt_cache: dict[str, torch.Tensor] = {}

    @classmethod
    def from_checkpoint(cls, directory: str | Path, **kwargs: Any) -> HeadsUpPipeline:
        """Rebuild base model + trained weights from a ``headsup-train`` checkpoint folder."""
        from headsup_model.weights_io import build_base, load_trained, read_config

        components = build_base(read_config(directory)["base"])
        model = load_trained(directory, components=components)
        return cls(model=model, prompt_encoder=components.prompt_encoder, **kwargs)

    def _embed(self, lq_resized: torch.Tensor) -> torch.Tensor:
        text = build_prompt(self.tagger, (lq_resized[0] + 1) / 2 if self.tagger else None, self.prompt)
        if text not in self._prompt_cache:
            self._prompt_cache[text] = self.prompt_encoder([text])
        return self._prompt_cache[text].to(self.device, self.dtype)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        t = self.tiling
        return tiled_apply(self.model.encode, x, tile=t.vae_encoder_tile,
                           overlap=int(t.vae_encoder_tile * t.vae_overlap_frac) // 8 * 8, scale=1 / 8,
                           progress=self.progress, desc="VAE encode", align=8)

    @torch.no_grad()
    def __call__(self, lq: np.ndarray, *, scale: int = 4, faces: Sequence[dict[str, Any]] = (),
                 reference: np.ndarray | None = None, reference_face: int = 0) -> np.ndarray:
        """Super-resolve one image.

        Args:
            lq: ``(h, w, 3)`` uint8 RGB.
            scale: integer factor; output is ``(h*scale, w*scale, 3)`` uint8.
            faces: faces in *output* pixels, ``{"bbox": [x1, y1, x2, y2], "landmarks": 5×[x, y]}``
                (e.g. a dataset sample's HR-frame faces); they set the face-mask channel.
            reference: FFHQ-aligned ``(S, S, 3)`` uint8 face of the same person, or None.
            reference_face: which entry of ``faces`` the reference belongs to.
        """
        if not isinstance(lq, np.ndarray) or lq.dtype != np.uint8 or lq.ndim != 3 or lq.shape[2] != 3:
            raise TypeError(f"lq: expected an (h, w, 3) uint8 array, got {getattr(lq, 'shape', type(lq))}")
        if not isinstance(scale, int) or scale < 1:
            raise ValueError(f"scale: expected an int >= 1, got {scale!r}")
        if reference is not None and not faces:
            raise ValueError("reference given but no faces: the reference is placed on a face (faces=[...])")
        if reference is not None and not 0 <= reference_face < len(faces):
            raise ValueError(f"reference_face: expected 0 <= index < {len(faces)}, got {reference_face}")
        h, w = lq.shape[0] * scale, lq.shape[1] * scale
        ph, pw = -h % 8, -w % 8
        # 1. resize + pad
        x = F.interpolate(to_tensor(lq).to(self.device), size=(h, w), mode="bicubic", align_corners=False).clamp(-1, 1)
        x = F.pad(x, (0, pw, 0, ph), mode="replicate").to(self.dtype)
        # 2. prompt
        prompt_embeds = self._embed(x)
        # 3. faces
        use_ref = self.model.config.use_reference
        mask = canvas = None
        if use_ref and faces:
            mask = box_mask([f["bbox"] for f in faces], h + ph, w + pw)[None].to(self.device, self.dtype)
            if reference is not None:
                ref = to_tensor(reference).to(self.device)
                lm = np.asarray(faces[reference_face]["landmarks"], dtype=np.float64)[None]
                canvas = reference_canvas(ref, lm, (h + ph, w + pw)).to(self.dtype)
        # 4. encode
        z_lq = self._encode(x)
        lat_hw = z_lq.shape[-2:]
        mask_lat = z_ref = None
        if mask is not None:
            mask_lat = F.interpolate(mask, size=lat_hw, mode="area")
            if canvas is not None:
                z_ref = self._encode(canvas) * mask_lat
        # 5. one step, latent tiles
        t = self.tiling
        if use_ref:
            unet_in = torch.cat([z_lq, z_ref if z_ref is not None else torch.zeros_like(z_lq),
                                 mask_lat if mask_lat is not None else torch.zeros_like(z_lq[:, :1])], dim=1)

            def step(tile: torch.Tensor) -> torch.Tensor:
                return self.model.denoise(tile[:, :4], prompt_embeds, tile[:, 4:8], tile[:, 8:9])
        else:
            unet_in = z_lq

            def step(tile: torch.Tensor) -> torch.Tensor:
                return self.model.denoise(tile, prompt_embeds)

        latent = tiled_apply(step, unet_in, tile=t.latent_tile, overlap=t.latent_overlap, out_channels=4,
                             progress=self.progress, desc="UNet")
        # 6. decode
        out = tiled_apply(self.model.decode, latent, tile=t.vae_decoder_tile,
                          overlap=max(1, int(t.vae_decoder_tile * t.vae_overlap_frac)), scale=8,
                          progress=self.progress, desc="VAE decode")
        # 7. colour fix, crop
        out = color_fix(out.float(), x.float(), self.color_fix).clamp(-1, 1)
        return to_uint8(out[:, :, :h, :w])
