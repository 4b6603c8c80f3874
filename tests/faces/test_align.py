"""FFHQ alignment, warping and paste-back (pure geometry, synthetic images + one real face)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from portraitsr4k.faces import Face
from portraitsr4k.faces.align import (
    FFHQ_TEMPLATE_512,
    alignment_matrix,
    face_region_mask,
    paste_back,
    similarity_to,
    template_for,
    warp_face,
)


def apply(M: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ M[:, :2].T + M[:, 2]


def similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    return np.array([[scale * np.cos(a), -scale * np.sin(a), tx], [scale * np.sin(a), scale * np.cos(a), ty]])


def test_template_maps_to_itself() -> None:
    M = alignment_matrix(FFHQ_TEMPLATE_512, size=512)
    assert np.allclose(M, [[1, 0, 0], [0, 1, 0]], atol=1e-9)
    assert np.allclose(template_for(256), FFHQ_TEMPLATE_512 / 2)


@pytest.mark.parametrize("angle, scale, tx, ty",
                         [(0, 0.25, 100, 40), (17, 1.7, -30, 500), (-40, 3.0, 900, 10)])
def test_recovers_a_known_similarity(angle: float, scale: float, tx: float, ty: float) -> None:
    # landmarks = template moved into the image by a known transform; alignment must undo it
    forward = similarity(angle, scale, tx, ty)
    landmarks = apply(forward, FFHQ_TEMPLATE_512)
    M = alignment_matrix(landmarks, size=512)
    assert np.allclose(apply(M, landmarks), FFHQ_TEMPLATE_512, atol=1e-6)
    assert M.dtype == np.float64 and M.shape == (2, 3)


def test_never_reflects() -> None:
    mirrored = FFHQ_TEMPLATE_512 * np.array([-1.0, 1.0]) + np.array([600.0, 0.0])
    M = similarity_to(mirrored, FFHQ_TEMPLATE_512)
    assert np.linalg.det(M[:, :2]) > 0


def test_alignment_validation() -> None:
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        alignment_matrix(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="coincide"):
        alignment_matrix(np.ones((5, 2)))
    with pytest.raises(ValueError, match="size"):
        alignment_matrix(FFHQ_TEMPLATE_512, size=4)


def test_warp_face_shapes_and_accepts_face(make_image: Callable[..., np.ndarray]) -> None:
    img = make_image(300, 400)
    face = Face(bbox=(100, 50, 300, 280), landmarks=tuple(map(tuple, apply(similarity(5, 0.4, 120, 60),
                                                                         FFHQ_TEMPLATE_512))), score=1.0)
    M = alignment_matrix(face, size=256)
    crop = warp_face(img, M, size=256)
    assert crop.shape == (256, 256, 3) and crop.dtype == np.uint8
    with pytest.raises(ValueError, match="interpolation"):
        warp_face(img, M, size=256, interpolation="bogus")
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        warp_face(img, np.eye(3), size=256)


def test_paste_back_of_unchanged_crop_restores_the_image(sample_rgb: Callable[[str], np.ndarray]) -> None:
    img = sample_rgb("grace_hopper")
    # grace_hopper's MTCNN landmarks (probe values); face ~ 90 px between the eyes, crop 512
    landmarks = np.array([[222, 192], [310, 186], [269, 239], [233, 280], [307, 276]], dtype=np.float64)
    M = alignment_matrix(landmarks, size=512)
    crop = warp_face(img, M, size=512)
    out = paste_back(img, crop, M, mask="feather")
    mask = face_region_mask(img.shape[:2], M, size=512, kind="feather")
    inner = mask > 0.99
    assert inner.sum() > 10_000
    # the crop is upsampled ~2.6x then resampled back: small interpolation error only
    diff = np.abs(out.astype(int) - img.astype(int))[inner]
    assert diff.mean() < 4.0
    assert np.array_equal(out[mask == 0], img[mask == 0])  # outside untouched


def test_masks_range_and_hard_is_binary(make_image: Callable[..., np.ndarray]) -> None:
    M = alignment_matrix(apply(similarity(10, 0.3, 50, 20), FFHQ_TEMPLATE_512), size=512)
    soft = face_region_mask((240, 320), M, size=512, kind="feather", feather=0.1)
    hard = face_region_mask((240, 320), M, size=512, kind="hard")
    assert soft.dtype == np.float32 and hard.dtype == np.float32
    assert 0.0 <= soft.min() and soft.max() <= 1.0 and soft.max() > 0.99
    assert set(np.unique(hard)) <= {0.0, 1.0}
    assert ((soft > 0) & (soft < 1)).sum() > 0
    assert soft[hard == 0].max() < 0.05  # the feather stays inside the crop square (up to resampling)
    with pytest.raises(ValueError, match="kind"):
        face_region_mask((10, 10), M, kind="round")
    with pytest.raises(ValueError, match="feather"):
        face_region_mask((10, 10), M, feather=0.0)


def test_feather_width_scales_with_face_size() -> None:
    def ramp_width(scale: float) -> int:
        M = alignment_matrix(apply(similarity(0, scale, 20, 20), FFHQ_TEMPLATE_512), size=512)
        mask = face_region_mask((1200, 1200), M, size=512, kind="feather", feather=0.1)
        row = mask[mask.shape[0] // 2 if scale > 1 else int(20 + 256 * scale)]
        return int(((row > 0.01) & (row < 0.99)).sum())

    small, big = ramp_width(0.5), ramp_width(2.0)
    assert big == pytest.approx(4 * small, rel=0.2)


def test_hard_paste_leaves_a_stronger_seam_than_feather(make_image: Callable[..., np.ndarray]) -> None:
    """What the benchmark's seam metric relies on: hard edges show, feathered ones do not."""
    background = make_image(256, 256, "gradient")
    M = alignment_matrix(apply(similarity(0, 0.3, 50, 40), FFHQ_TEMPLATE_512), size=512)
    face = np.clip(warp_face(background, M, 512).astype(int) + 60, 0, 255).astype(np.uint8)  # brighter face
    hard = paste_back(background, face, M, mask="hard").astype(float)
    soft = paste_back(background, face, M, mask="feather", feather=0.15).astype(float)

    def max_step(img: np.ndarray) -> float:
        return max(np.abs(np.diff(img, axis=0)).max(), np.abs(np.diff(img, axis=1)).max())

    assert max_step(hard) >= 55
    assert max_step(soft) < 0.5 * max_step(hard)


def test_paste_back_validation(make_image: Callable[..., np.ndarray]) -> None:
    bg = make_image(64, 64)
    M = alignment_matrix(FFHQ_TEMPLATE_512 / 8, size=64)
    with pytest.raises(ValueError, match="square"):
        paste_back(bg, make_image(64, 32), M)
    with pytest.raises(TypeError, match="face_rgb"):
        paste_back(bg, np.zeros((64, 64, 3), np.float32), M)
