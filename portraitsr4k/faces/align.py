"""FFHQ-style face alignment: similarity transform from 5 landmarks, warp, and paste back.

The same matrix ``M`` is applied to SR and HR images, so aligned-face metrics compare the same
pixels; :func:`paste_back` inverts it to put a restored face back into the full image (the
"blend" baseline), with a feathered or a hard-edged mask.

Coordinates follow OpenCV: ``M`` maps image pixel (x, y) to crop pixel ``M @ (x, y, 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from portraitsr4k.faces.detector import check_rgb
from portraitsr4k.faces.types import Face

__all__ = ["FFHQ_TEMPLATE_512", "alignment_matrix", "warp_face", "paste_back", "face_region_mask",
           "template_for", "similarity_to"]

#: 5-point FFHQ template for 512x512 crops (left eye, right eye, nose, left mouth, right mouth),
#: the layout GFPGAN/CodeFormer are trained on (facexlib's ``face_template`` at 512).
FFHQ_TEMPLATE_512 = np.array(
    [[192.98138, 239.94708], [318.90277, 240.19360], [256.63416, 314.01935],
     [201.26117, 371.41043], [313.08905, 371.15118]], dtype=np.float64)
FFHQ_TEMPLATE_512.setflags(write=False)

_INTERP = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA,
           "nearest": cv2.INTER_NEAREST, "lanczos": cv2.INTER_LANCZOS4}
_BORDER = {"constant": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT_101,
           "replicate": cv2.BORDER_REPLICATE}


def _check_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 16:
        raise ValueError(f"size: expected an int >= 16 (crop side in pixels), got {size!r}")
    return int(size)


def _check_matrix(M: np.ndarray) -> np.ndarray:
    M = np.asarray(M, dtype=np.float64)
    if M.shape != (2, 3) or not np.all(np.isfinite(M)):
        raise ValueError(f"M: expected a finite (2, 3) affine matrix, got shape {M.shape}")
    if abs(np.linalg.det(M[:, :2])) < 1e-12:
        raise ValueError("M: the affine matrix is singular (degenerate landmarks?)")
    return M


def template_for(size: int) -> np.ndarray:
    """FFHQ template scaled to a ``size`` x ``size`` crop, ``(5, 2)`` float64."""
    return FFHQ_TEMPLATE_512 * (_check_size(size) / 512.0)


def similarity_to(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform ``(2, 3)`` float64 taking points ``src`` onto ``dst``.

    Both ``(K, 2)`` float; rotation + uniform scale + translation, reflections excluded
    (closed form of Umeyama 1991).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ValueError(f"expected two (K, 2) point sets with K >= 2, got {src.shape} and {dst.shape}")
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    src_var = (src_c ** 2).sum() / len(src)
    if src_var < 1e-9:
        raise ValueError("landmarks: all points coincide; cannot align")
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1.0  # forbid reflections
    rot = u @ np.diag(d) @ vt
    scale = (s * d).sum() / src_var
    M = np.empty((2, 3), dtype=np.float64)
    M[:, :2] = scale * rot
    M[:, 2] = dst_mean - M[:, :2] @ src_mean
    return M


def alignment_matrix(landmarks5: Face | Sequence[Sequence[float]] | np.ndarray,
                     size: int = 512) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, translation; no reflection)
    taking the 5 landmarks onto the FFHQ template at ``size``.

    Args:
        landmarks5: a :class:`Face`, or ``(5, 2)`` (x, y) points in image pixels.
        size: crop side in pixels.

    Returns:
        ``(2, 3)`` float64 matrix ``M`` (image -> crop), usable with ``cv2.warpAffine``.

    Closed form (Umeyama 1991) instead of ``cv2.estimateAffinePartial2D``: no RANSAC/LMEDS
    randomness, so the same landmarks always give the same matrix.
    """
    src = np.asarray(landmarks5.landmarks if isinstance(landmarks5, Face) else landmarks5, dtype=np.float64)
    if src.shape != (5, 2) or not np.all(np.isfinite(src)):
        raise ValueError(f"landmarks5: expected 5 finite (x, y) points, shape (5, 2); got {src.shape}")
    return similarity_to(src, template_for(size))


def warp_face(rgb: np.ndarray, M: np.ndarray, size: int = 512, *, interpolation: str = "linear",
              border: str = "constant") -> np.ndarray:
    """Crop the aligned face: ``(size, size, 3)`` uint8, same dtype/range as ``rgb``.

    Args:
        rgb: ``(H, W, 3)`` uint8 image.
        M: ``(2, 3)`` matrix from :func:`alignment_matrix` (for this ``size``).
        interpolation: ``linear`` (default), ``cubic``, ``area``, ``nearest`` or ``lanczos``.
        border: how pixels outside the image are filled: ``constant`` (black), ``reflect``,
            ``replicate``. Use the same settings for SR and HR so metrics see the same pixels.
    """
    rgb = check_rgb(rgb)
    size, M = _check_size(size), _check_matrix(M)
    if interpolation not in _INTERP:
        raise ValueError(f"interpolation: expected one of {sorted(_INTERP)}, got {interpolation!r}")
    if border not in _BORDER:
        raise ValueError(f"border: expected one of {sorted(_BORDER)}, got {border!r}")
    return cv2.warpAffine(rgb, M, (size, size), flags=_INTERP[interpolation],
                          borderMode=_BORDER[border], borderValue=(0, 0, 0))


def _crop_mask(size: int, kind: str, feather: float) -> np.ndarray:
    """Mask in crop coordinates, ``(size, size)`` float32 in [0, 1]."""
    if kind == "hard":
        return np.ones((size, size), dtype=np.float32)
    if kind != "feather":
        raise ValueError(f"kind: expected 'feather' or 'hard', got {kind!r}")
    if not 0.0 < feather <= 0.5:
        raise ValueError(f"feather: expected a fraction of the crop side in (0, 0.5], got {feather}")
    # Ramp from 0 at the crop edge to 1 at `feather * size` inside, smoothstep-shaped so the
    # blend has no kink. Defined in crop coordinates, so its width scales with the face size.
    coords = np.arange(size, dtype=np.float64) + 0.5
    edge = np.minimum(coords, size - coords)
    dist = np.minimum(edge[:, None], edge[None, :])
    t = np.clip(dist / (feather * size), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def face_region_mask(shape_hw: tuple[int, int], M: np.ndarray, size: int = 512, kind: str = "feather",
                     feather: float = 0.1) -> np.ndarray:
    """Where a pasted-back aligned crop lands in the image: ``(H, W)`` float32 in [0, 1].

    Args:
        shape_hw: ``(H, W)`` of the full image.
        M: ``(2, 3)`` image -> crop matrix for ``size``.
        kind: ``feather`` (soft edge whose width is ``feather * size`` crop pixels, i.e. scaled
            to the face) or ``hard`` (1 inside the crop square, 0 outside; a deliberately bad
            seam for tests and the seam metric).
        feather: feather width as a fraction of the crop side, in (0, 0.5].
    """
    if len(shape_hw) < 2 or int(shape_hw[0]) <= 0 or int(shape_hw[1]) <= 0:
        raise ValueError(f"shape_hw: expected (H, W) > 0, got {shape_hw!r}")
    height, width = int(shape_hw[0]), int(shape_hw[1])
    size, M = _check_size(size), _check_matrix(M)
    crop = _crop_mask(size, kind, float(feather))
    inverse = cv2.invertAffineTransform(M)
    flags = cv2.INTER_NEAREST if kind == "hard" else cv2.INTER_LINEAR
    mask = cv2.warpAffine(crop, inverse, (width, height), flags=flags, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=0.0)
    return np.clip(mask, 0.0, 1.0).astype(np.float32)


def paste_back(background_rgb: np.ndarray, face_rgb: np.ndarray, M: np.ndarray, mask: str = "feather",
               feather: float = 0.1) -> np.ndarray:
    """Paste an aligned (e.g. restored) face crop back into the full image.

    Args:
        background_rgb: ``(H, W, 3)`` uint8 full image (e.g. the general-SR output).
        face_rgb: ``(S, S, 3)`` uint8 aligned face; ``M`` must be the matrix for size ``S``.
        M: ``(2, 3)`` image -> crop matrix used to make the crop.
        mask: ``feather`` or ``hard`` (see :func:`face_region_mask`).
        feather: feather width as a fraction of ``S``.

    Returns:
        ``(H, W, 3)`` uint8: ``mask * inverse_warp(face) + (1 - mask) * background``.
    """
    background_rgb = check_rgb(background_rgb, "background_rgb")
    face_rgb = check_rgb(face_rgb, "face_rgb")
    if face_rgb.shape[0] != face_rgb.shape[1]:
        raise ValueError(f"face_rgb: expected a square aligned crop, got {face_rgb.shape}")
    size = face_rgb.shape[0]
    M = _check_matrix(M)
    height, width = background_rgb.shape[:2]
    inverse = cv2.invertAffineTransform(M)
    warped = cv2.warpAffine(face_rgb, inverse, (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    alpha = face_region_mask((height, width), M, size=size, kind=mask, feather=feather)[..., None]
    out = alpha * warped.astype(np.float32) + (1.0 - alpha) * background_rgb.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
