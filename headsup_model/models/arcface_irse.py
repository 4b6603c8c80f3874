"""ArcFace IR-SE50 face-recognition backbone (identity loss), written to load facexlib's
``recognition_arcface_ir_se50.pth`` (state-dict keys match facexlib's ``Backbone(50, 0.6, 'ir_se')``).

Input: ``(B, 3, 112, 112)`` float in ``[-1, 1]``, an aligned face. Output: ``(B, 512)``
L2-normalised embeddings. Architecture: 3×3 stem (64), 24 IR-SE bottlenecks in four stages
(3/4/14/3 units; 64/128/256/512 channels, stride 2 at each stage start), BN–dropout–flatten–
linear(512·7·7 → 512)–BN head.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

logger = logging.getLogger(__name__)

STAGES_IR50: tuple[tuple[int, int, int], ...] = ((64, 64, 3), (64, 128, 4), (128, 256, 14), (256, 512, 3))


class SqueezeExcite(nn.Module):
    """Channel attention: global average → 1×1 conv down → ReLU → 1×1 conv up → sigmoid gate."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        hidden = max(1, channels // reduction)  # >= 1 so tiny test networks stay valid
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))


class BottleneckIRSE(nn.Module):
    """Improved-residual unit with squeeze-excitation (BN-conv-PReLU-conv-BN-SE + shortcut)."""

    def __init__(self, in_channels: int, depth: int, stride: int) -> None:
        super().__init__()
        if in_channels == depth:
            self.shortcut_layer: nn.Module = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(nn.Conv2d(in_channels, depth, 1, stride, bias=False), nn.BatchNorm2d(depth))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channels), nn.Conv2d(in_channels, depth, 3, 1, 1, bias=False), nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False), nn.BatchNorm2d(depth), SqueezeExcite(depth, 16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


class ArcFaceIRSE50(nn.Module):
    """IR-SE50 embedding network. Args: ``drop_ratio`` of the head dropout (facexlib: 0.6);
    ``stages``: ``(in, out, units)`` per stage (the default is IR-50)."""

    def __init__(self, *, drop_ratio: float = 0.6,
                 stages: tuple[tuple[int, int, int], ...] = STAGES_IR50) -> None:
        super().__init__()
        stem = stages[0][0]
        self.input_layer = nn.Sequential(nn.Conv2d(3, stem, 3, 1, 1, bias=False), nn.BatchNorm2d(stem), nn.PReLU(stem))
        units = []
        for in_ch, depth, n in stages:
            units.append(BottleneckIRSE(in_ch, depth, 2))
            units.extend(BottleneckIRSE(depth, depth, 1) for _ in range(n - 1))
        self.body = nn.Sequential(*units)
        last = stages[-1][1]
        self.output_layer = nn.Sequential(nn.BatchNorm2d(last), nn.Dropout(drop_ratio), nn.Flatten(),
                                          nn.Linear(last * 7 * 7, 512), nn.BatchNorm1d(512))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        if faces.ndim != 4 or faces.shape[1:] != (3, 112, 112):
            raise ValueError(f"faces: expected (B, 3, 112, 112) in [-1, 1], got {tuple(faces.shape)}")
        emb = self.output_layer(self.body(self.input_layer(faces)))
        return nn.functional.normalize(emb, dim=1)

    @classmethod
    def from_facexlib(cls, path: str | Path | None = None) -> ArcFaceIRSE50:
        """Load facexlib's ``recognition_arcface_ir_se50.pth`` (found by ``portraitsr4k.weights``;
        ``MissingWeightsError`` naming ``portraitsr4k-weights fetch facexlib_arcface_ir_se50``
        when absent). Read with ``torch.load(weights_only=True)``: tensors only, no code."""
        from portraitsr4k.weights import resolve

        file = resolve("facexlib_arcface_ir_se50", path)
        state = torch.load(file, map_location="cpu", weights_only=True)
        state = {k.removeprefix("module."): v for k, v in state.items()}
        model = cls()
        model.load_state_dict(state, strict=True)
        logger.info("loaded ArcFace IR-SE50 from %s", file)
        return model.eval().requires_grad_(False)
