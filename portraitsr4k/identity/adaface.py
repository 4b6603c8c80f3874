"""AdaFace / CVLFace IR-50 and IR-101 (torch), loading a local checkpoint.

Architecture: the "IR" ResNet of AdaFace (``BasicBlockIR`` units, input 112x112, 512-D output),
written here so no research code is imported. Parameter names follow AdaFace's ``net.py``, so
its checkpoints load with ``strict=True``:

- AdaFace repo ``.ckpt`` (e.g. ``adaface_ir101_webface12m.ckpt``, Google Drive): a Lightning
  checkpoint whose ``state_dict`` holds ``model.*`` keys (the ``head.*`` margin head is dropped);
- a plain state dict (``.pt``/``.pth``) of the backbone, optionally prefixed ``model.``/``net.``;
- CVLFace ``model.safetensors`` (HF ``minchul/cvlface_adaface_ir101_webface12m``), keys ``net.*``.

Input convention (AdaFace ``inference.py``): the face aligned to the 112x112 ArcFace template,
**BGR**, scaled to [-1, 1]. Same-person threshold 0.65 (cosine), as for ArcFace-class models.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from portraitsr4k.faces.types import Face
from portraitsr4k.identity.embedder import FaceEmbedder
from portraitsr4k.weights import resolve

__all__ = ["AdaFaceEmbedder", "build_ir_backbone", "load_adaface_state_dict", "IR_UNITS",
           "ARCFACE_112_TEMPLATE"]

logger = logging.getLogger(__name__)

#: residual units per stage for each depth (AdaFace ``get_blocks``).
IR_UNITS: dict[int, tuple[int, int, int, int]] = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 14, 3),
                                                  100: (3, 13, 30, 3)}
_STAGE_CHANNELS = (64, 64, 128, 256, 512)

#: ArcFace 112x112 5-point template (the layout AdaFace/CVLFace are trained on).
ARCFACE_112_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                                 [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)


def build_ir_backbone(depth: int = 100, embedding_size: int = 512):
    """AdaFace IR backbone, ``(B, 3, 112, 112)`` float32 in [-1, 1] (BGR) -> ``(B, D)`` features.

    ``depth``: 18, 34, 50 or 100 ("IR-101" is depth 100: 3 + 13 + 30 + 3 units).
    """
    import torch
    from torch import nn

    if depth not in IR_UNITS:
        raise ValueError(f"depth: expected one of {sorted(IR_UNITS)}, got {depth!r}")

    class BasicBlockIR(nn.Module):
        def __init__(self, in_channel: int, depth_: int, stride: int) -> None:
            super().__init__()
            if in_channel == depth_:
                self.shortcut_layer = nn.MaxPool2d(1, stride)
            else:
                self.shortcut_layer = nn.Sequential(nn.Conv2d(in_channel, depth_, 1, stride, bias=False),
                                                    nn.BatchNorm2d(depth_))
            self.res_layer = nn.Sequential(
                nn.BatchNorm2d(in_channel), nn.Conv2d(in_channel, depth_, 3, 1, 1, bias=False),
                nn.BatchNorm2d(depth_), nn.PReLU(depth_), nn.Conv2d(depth_, depth_, 3, stride, 1, bias=False),
                nn.BatchNorm2d(depth_))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.res_layer(x) + self.shortcut_layer(x)

    class IRBackbone(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input_layer = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64),
                                             nn.PReLU(64))
            units = []
            for stage, count in enumerate(IR_UNITS[depth]):
                cin, cout = _STAGE_CHANNELS[stage], _STAGE_CHANNELS[stage + 1]
                units.append(BasicBlockIR(cin, cout, 2))
                units.extend(BasicBlockIR(cout, cout, 1) for _ in range(count - 1))
            self.body = nn.Sequential(*units)
            self.output_layer = nn.Sequential(nn.BatchNorm2d(512), nn.Dropout(0.4), nn.Flatten(),
                                              nn.Linear(512 * 7 * 7, embedding_size),
                                              nn.BatchNorm1d(embedding_size, affine=False))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.output_layer(self.body(self.input_layer(x)))

    return IRBackbone()


def load_adaface_state_dict(path: str | os.PathLike[str]) -> dict:
    """Backbone state dict from an AdaFace ``.ckpt``, a plain ``.pt``/``.pth`` or CVLFace safetensors.

    Loads with ``weights_only=True`` (no code is unpickled); strips ``model.``/``net.`` prefixes
    and drops the training-only margin ``head.*``.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        import torch

        state = torch.load(str(path), map_location="cpu", weights_only=True)
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
    if not isinstance(state, dict) or not state:
        raise ValueError(f"{path}: expected a non-empty state dict, got {type(state).__name__}")
    out = {}
    for key, value in state.items():
        for prefix in ("model.", "net.", "module."):
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        if key.startswith("head."):
            continue
        out[key] = value
    return out


class AdaFaceEmbedder(FaceEmbedder):
    """AdaFace IR-101 (default) or IR-50 from a local checkpoint.

    Args:
        device: torch device string.
        model_path: checkpoint file (see the module docstring for the accepted layouts);
            default: the registry entry ``adaface_ir101_webface12m`` in the weights home.
        depth: 100 (IR-101) or 50 (IR-50); 18/34 also build.
        name: model name for metric names (default ``adaface_ir101``).
        same_person_threshold: cosine threshold (default 0.65).
        batch_size: faces per forward pass.
    """

    dim = 512

    def __init__(self, *, device: str = "cpu", model_path: str | os.PathLike[str] | None = None,
                 depth: int = 100, name: str | None = None, same_person_threshold: float = 0.65,
                 batch_size: int = 16) -> None:
        import torch

        if depth not in IR_UNITS:
            raise ValueError(f"depth: expected one of {sorted(IR_UNITS)}, got {depth!r}")
        if not -1.0 <= float(same_person_threshold) <= 1.0:
            raise ValueError("same_person_threshold: expected a cosine in [-1, 1], "
                             f"got {same_person_threshold}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size: expected an int >= 1, got {batch_size!r}")
        weights = resolve("adaface_ir101_webface12m", model_path)
        net = build_ir_backbone(depth)
        try:
            net.load_state_dict(load_adaface_state_dict(weights), strict=True)
        except RuntimeError as exc:
            raise ValueError(f"{weights}: not an AdaFace IR-{'101' if depth == 100 else depth} "
                             f"checkpoint ({str(exc).splitlines()[0]}); pass depth=50 for IR-50") from exc
        self._net = net.to(torch.device(device)).eval()
        self.device = str(device)
        self.depth = depth
        self.name = name or f"adaface_ir{101 if depth == 100 else depth}"
        self.same_person_threshold = float(same_person_threshold)
        self.batch_size = batch_size
        self.weights_path = weights
        logger.info("AdaFace IR-%s loaded from %s on %s", depth, weights, device)

    @staticmethod
    def align(rgb: np.ndarray, face: Face) -> np.ndarray:
        """The 112x112 aligned crop ``(112, 112, 3)`` uint8 RGB the network sees."""
        import cv2

        from portraitsr4k.faces.align import similarity_to

        M = similarity_to(np.asarray(face.landmarks, dtype=np.float64), ARCFACE_112_TEMPLATE)
        return cv2.warpAffine(rgb, M, (112, 112), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    def _embed_batch(self, rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        import torch

        crops = np.stack([self.align(rgb, face) for face in faces])[..., ::-1]  # RGB -> BGR
        # AdaFace input: BGR scaled to [-1, 1]
        x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        feats = []
        with torch.inference_mode():
            for start in range(0, len(x), self.batch_size):
                feats.append(self._net(x[start:start + self.batch_size].to(self.device)).float().cpu())
        return torch.cat(feats).numpy().astype(np.float64)
