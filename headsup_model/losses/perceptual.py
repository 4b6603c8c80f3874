"""LPIPS (VGG) for the full-image (×2) and face (×0.8) perceptual losses, as OSEDiff
(``lpips.LPIPS(net='vgg')``).

The ``lpips`` package ships only its linear heads; the VGG16 ImageNet backbone is a separate
file (``vgg16-397923af.pth``) that cannot be fetched offline. :class:`LPIPSLoss` loads it through
``portraitsr4k.weights`` (``MissingWeightsError`` naming ``portraitsr4k-weights fetch
torchvision_vgg16`` when absent). ``random_backbone=True`` builds LPIPS with a random backbone
(``pnet_rand=True``): a **smoke-test setting only** (the loss is then not perceptual), logged
as a warning and never chosen silently.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

logger = logging.getLogger(__name__)

# lpips' vgg16 wrapper splits torchvision's ``features`` into five slices at these indices.
_VGG_SLICES = ((0, 4), (4, 9), (9, 16), (16, 23), (23, 30))


def _vgg_features_to_lpips(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename torchvision ``features.N.*`` keys to lpips ``sliceK.N.*`` keys (classifier dropped)."""
    out = {}
    for key, value in state.items():
        if not key.startswith("features."):
            continue
        idx = int(key.split(".")[1])
        for k, (lo, hi) in enumerate(_VGG_SLICES, start=1):
            if lo <= idx < hi:
                out[f"slice{k}.{key.removeprefix('features.')}"] = value
    return out


class LPIPSLoss(nn.Module):
    """Mean LPIPS-VGG distance between ``(B, 3, H, W)`` images in ``[-1, 1]`` (frozen network).

    Args:
        backbone_path: explicit VGG16 weight file or folder (else the weights registry searches).
        random_backbone: smoke tests only, see the module docstring.
    """

    def __init__(self, *, backbone_path: str | Path | None = None, random_backbone: bool = False) -> None:
        super().__init__()
        try:
            import lpips
        except ImportError as exc:
            raise ImportError("LPIPS needs the `lpips` package: pip install 'portraitsr4k[train]'") from exc
        # pnet_rand=True: never let lpips try a download; real weights are loaded below.
        self.net = lpips.LPIPS(net="vgg", pretrained=True, pnet_rand=True, verbose=False)
        self.random_backbone = random_backbone
        if random_backbone:
            logger.warning("LPIPS built with a RANDOM VGG backbone (smoke-test setting): the loss is not perceptual")
        else:
            from portraitsr4k.weights import resolve

            file = resolve("torchvision_vgg16", backbone_path)
            state = torch.load(file, map_location="cpu", weights_only=True)
            self.net.net.load_state_dict(_vgg_features_to_lpips(state), strict=True)
            logger.info("LPIPS-VGG backbone loaded from %s", file)
        self.net.eval().requires_grad_(False)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(x.float(), y.float(), normalize=False).mean()
