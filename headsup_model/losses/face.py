"""HeadsUp's face-region losses on aligned face crops of the SR output and the HR target.

Stated weights (paper via secondary sources): face MSE ×1, face LPIPS ×0.8, identity ×4.
Face GAN weight: not recovered; a config value (default 0.1, our choice), as are the crop
sizes. Identity = ``1 − cos(ArcFace(SR face), ArcFace(HR face))`` on the aligned face resized
to 112 (GFPGAN's habit of resizing the whole aligned crop; our choice).
Adversarial loss: non-saturating (softplus) on the patch discriminator's logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from headsup_model.losses.perceptual import LPIPSLoss


@dataclass(frozen=True)
class FaceLossWeights:
    mse: float = 1.0
    lpips: float = 0.8
    identity: float = 4.0
    gan: float = 0.1

    def __post_init__(self) -> None:
        for name in ("mse", "lpips", "identity", "gan"):
            if getattr(self, name) < 0:
                raise ValueError(f"face loss weight {name}: expected >= 0, got {getattr(self, name)}")


def generator_gan_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss ``softplus(−D(fake))``."""
    return F.softplus(-fake_logits).mean()


def discriminator_gan_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``softplus(−D(real)) + softplus(D(fake))``."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


class FaceLosses(nn.Module):
    """Weighted face losses. ``identity_net``/``discriminator`` may be None when their weight is 0.

    ``forward(sr_faces, hr_faces)``: ``(N, 3, S, S)`` aligned crops in ``[-1, 1]`` (N ≥ 1) →
    dict of the weighted terms (``face_mse``, ``face_lpips``, ``identity``, ``face_gan``).
    """

    def __init__(self, *, weights: FaceLossWeights, lpips: LPIPSLoss | None, identity_net: nn.Module | None,
                 discriminator: nn.Module | None) -> None:
        super().__init__()
        for name, needed, part in (("lpips", weights.lpips, lpips), ("identity", weights.identity, identity_net),
                                   ("gan", weights.gan, discriminator)):
            if needed > 0 and part is None:
                raise ValueError(f"face loss weight {name} = {needed} > 0 needs its network (got None)")
        self.weights = weights
        self.lpips = lpips
        self.identity_net = identity_net.eval().requires_grad_(False) if identity_net is not None else None
        self.discriminator = discriminator

    def forward(self, sr_faces: torch.Tensor, hr_faces: torch.Tensor) -> dict[str, torch.Tensor]:
        w = self.weights
        out = {"face_mse": w.mse * F.mse_loss(sr_faces.float(), hr_faces.float())}
        if w.lpips > 0:
            out["face_lpips"] = w.lpips * self.lpips(sr_faces, hr_faces)
        if w.identity > 0:
            sr112 = F.interpolate(sr_faces.float(), size=(112, 112), mode="bilinear", align_corners=False, antialias=True)
            hr112 = F.interpolate(hr_faces.float(), size=(112, 112), mode="bilinear", align_corners=False, antialias=True)
            with torch.no_grad():
                target = self.identity_net(hr112)
            out["identity"] = w.identity * (1 - F.cosine_similarity(self.identity_net(sr112), target, dim=1)).mean()
        if w.gan > 0:
            self.discriminator.requires_grad_(False)
            out["face_gan"] = w.gan * generator_gan_loss(self.discriminator(sr_faces.float()))
            self.discriminator.requires_grad_(True)
        return out

    def discriminator_loss(self, sr_faces: torch.Tensor, hr_faces: torch.Tensor) -> torch.Tensor:
        """Loss for the discriminator's own optimiser (SR faces detached)."""
        return discriminator_gan_loss(self.discriminator(hr_faces.float()), self.discriminator(sr_faces.detach().float()))
