"""Small PatchGAN discriminator for the face adversarial loss.

The paper does not give the face-GAN discriminator; we chose a pix2pix-style patch
discriminator with spectral normalisation (stable with the non-saturating loss and no extra
penalty), run on the aligned face crops. Input ``(B, 3, S, S)`` in ``[-1, 1]``; output
``(B, 1, S/2^n, S/2^n)`` real/fake logits per patch.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import spectral_norm


class PatchDiscriminator(nn.Module):
    """Args: ``base_channels`` of the first conv; ``n_layers`` stride-2 convs (channels doubling, capped at 8×)."""

    def __init__(self, *, in_channels: int = 3, base_channels: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        if n_layers < 1 or base_channels < 1:
            raise ValueError(f"expected n_layers >= 1 and base_channels >= 1, got {n_layers}, {base_channels}")
        layers: list[nn.Module] = [spectral_norm(nn.Conv2d(in_channels, base_channels, 4, 2, 1)), nn.LeakyReLU(0.2)]
        ch = base_channels
        for i in range(1, n_layers):
            nxt = base_channels * min(2 ** i, 8)
            layers += [spectral_norm(nn.Conv2d(ch, nxt, 4, 2, 1)), nn.LeakyReLU(0.2)]
            ch = nxt
        layers += [spectral_norm(nn.Conv2d(ch, ch, 3, 1, 1)), nn.LeakyReLU(0.2), nn.Conv2d(ch, 1, 3, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
