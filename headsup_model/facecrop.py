"""Differentiable face geometry for training and inference: aligned face crops, the face mask
and the reference canvas, all from 5-point landmarks via ``portraitsr4k.faces.align``.

Matrices follow OpenCV (``M`` maps image pixel (x, y) to crop pixel ``M @ (x, y, 1)``).
Warps use ``grid_sample`` so losses on face crops back-propagate into the SR image.

Choice (the paper does not say how faces are cropped for its losses): FFHQ-aligned crops from
the stored landmarks (the layout face restorers and face metrics use), at
``face_size`` for the face MSE/LPIPS/GAN losses and resized to 112 for the identity network.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from portraitsr4k.faces.align import alignment_matrix


def invert_affine(M: np.ndarray) -> np.ndarray:
    """Inverse of a ``(2, 3)`` affine matrix."""
    full = np.vstack([np.asarray(M, dtype=np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def warp_affine(src: torch.Tensor, dst_to_src: torch.Tensor, out_hw: tuple[int, int]) -> torch.Tensor:
    """Sample ``src`` ``(B, C, Hs, Ws)`` at ``dst_to_src @ (x, y, 1)`` for every output pixel.

    ``dst_to_src``: ``(B, 2, 3)`` maps output pixel coordinates to ``src`` pixel coordinates
    (pixel centres at integers). Bilinear, zeros outside ``src``. Differentiable in ``src``.
    """
    b, _, hs, ws = src.shape
    h, w = out_hw
    ys, xs = torch.meshgrid(torch.arange(h, device=src.device, dtype=torch.float32),
                            torch.arange(w, device=src.device, dtype=torch.float32), indexing="ij")
    ones = torch.ones_like(xs)
    pts = torch.stack([xs, ys, ones], dim=-1).reshape(1, -1, 3)  # (1, HW, 3)
    mapped = pts @ dst_to_src.to(src.device, torch.float32).transpose(1, 2)  # (B, HW, 2)
    gx = (mapped[..., 0] + 0.5) / ws * 2 - 1  # align_corners=False convention
    gy = (mapped[..., 1] + 0.5) / hs * 2 - 1
    grid = torch.stack([gx, gy], dim=-1).reshape(b, h, w, 2)
    return F.grid_sample(src.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False).to(src.dtype)


def crop_matrices(landmarks: np.ndarray, size: int) -> torch.Tensor:
    """``(B, 5, 2)`` landmarks (image pixels) → ``(B, 2, 3)`` crop→image matrices for :func:`warp_affine`."""
    mats = [invert_affine(alignment_matrix(np.asarray(lm, dtype=np.float64), size)) for lm in landmarks]
    return torch.from_numpy(np.stack(mats)).float()


def aligned_faces(images: torch.Tensor, landmarks: np.ndarray, size: int) -> torch.Tensor:
    """FFHQ-aligned ``(B, C, size, size)`` face crops of ``images`` ``(B, C, H, W)`` (differentiable)."""
    return warp_affine(images, crop_matrices(landmarks, size), (size, size))


def box_mask(boxes: list[list[float]] | np.ndarray, height: int, width: int, *, grow: float = 0.1) -> torch.Tensor:
    """``(1, H, W)`` float32 mask, 1 inside any face box (each side grown by ``grow`` × box size)."""
    mask = torch.zeros((1, height, width), dtype=torch.float32)
    for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        gx, gy = (x2 - x1) * grow, (y2 - y1) * grow
        c0, r0 = max(0, int(np.floor(x1 - gx))), max(0, int(np.floor(y1 - gy)))
        c1, r1 = min(width, int(np.ceil(x2 + gx))), min(height, int(np.ceil(y2 + gy)))
        if c1 > c0 and r1 > r0:
            mask[:, r0:r1, c0:c1] = 1.0
    return mask


def reference_canvas(reference_aligned: torch.Tensor, target_landmarks: np.ndarray, out_hw: tuple[int, int]) -> torch.Tensor:
    """Warp FFHQ-aligned reference faces onto the target faces' positions.

    Args:
        reference_aligned: ``(B, 3, S, S)`` in ``[-1, 1]``, aligned to the FFHQ template at ``S``.
        target_landmarks: ``(B, 5, 2)`` landmarks of the target faces in output pixels.
        out_hw: output (H, W).
    Returns:
        ``(B, 3, H, W)``: the reference where the aligned square lands, 0 elsewhere.
    """
    size = reference_aligned.shape[-1]
    img_to_crop = torch.from_numpy(np.stack([
        alignment_matrix(np.asarray(lm, dtype=np.float64), size) for lm in target_landmarks])).float()
    return warp_affine(reference_aligned, img_to_crop, out_hw)
