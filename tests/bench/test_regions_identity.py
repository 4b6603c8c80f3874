"""Region geometry and identity scores on shipped portraits."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from benchmarks.metrics.identity import IdentitySimilarity
from benchmarks.metrics.seam import SeamGradient
from benchmarks.regions import RegionExtractor, face_box, seam_ring


def _blur(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    small = Image.fromarray(rgb).resize((w // 4, h // 4), Image.Resampling.BICUBIC)
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC))


def test_face_box_margin_and_clipping() -> None:
    assert face_box((10, 20, 50, 100), (200, 200), 0.25) == (0, 0, 60, 120)
    assert face_box((150, 150, 190, 190), (200, 200), 0.5) == (130, 130, 200, 200)


def test_crops_share_geometry(portrait_images, detected_faces) -> None:
    hr = portrait_images["grace"]
    faces = detected_faces(hr)
    sr = _blur(hr)
    ext = RegionExtractor(face_margin=0.25, seam_width=0.03)
    crops = {(c.region, c.face_index): c for c in ext.crops(sr, hr, faces, ["full", "face", "face_aligned", "seam"])}
    assert set(crops) == {("full", -1), ("face", 0), ("face_aligned", 0), ("seam", 0)}
    assert crops["face_aligned", 0].sr.shape == (512, 512, 3) == crops["face_aligned", 0].hr.shape
    x1, y1, x2, y2 = crops["face", 0].box
    np.testing.assert_array_equal(crops["face", 0].hr, hr[y1:y2, x1:x2])
    seam = crops["seam", 0]
    assert seam.mask.dtype == bool and seam.mask.shape == seam.sr.shape[:2] and 0 < seam.mask.mean() < 0.5
    # the aligned crop of the HR puts the eyes on the FFHQ template
    from portraitsr4k.faces.align import FFHQ_TEMPLATE_512

    m = ext.matrix(faces[0])
    eyes = np.asarray(faces[0]["landmarks"])[:2]
    mapped = eyes @ m[:, :2].T + m[:, 2]
    assert np.abs(mapped - FFHQ_TEMPLATE_512[:2]).max() < 15


def test_seam_ring_geometry() -> None:
    mask = np.zeros((100, 100), bool)
    mask[30:70, 30:70] = True
    ring = seam_ring(mask, 3)
    assert ring[30, 50] and ring[27, 50] and ring[32, 50] and not ring[50, 50] and not ring[10, 10]


@pytest.mark.parametrize("half", [1, 3, 7, 20])
def test_seam_ring_is_dilation_minus_erosion_by_the_euclidean_disc(half: int) -> None:
    """The distance-transform ring equals morphology with the exact digital disc."""
    rng = np.random.default_rng(half)
    mask = np.zeros((160, 190), np.uint8)
    cv2.fillPoly(mask, [np.array([[40, 30], [150, 45], [120, 140], [25, 110]])], 1)
    mask[rng.integers(0, 160, 40), rng.integers(0, 190, 40)] ^= 1  # ragged edges and holes
    mask[:, :5] = 1  # region touching the image edge
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    disc = (xx * xx + yy * yy <= half * half).astype(np.uint8)
    dilated = cv2.dilate(mask, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    eroded = cv2.erode(mask, disc, borderType=cv2.BORDER_CONSTANT, borderValue=1) > 0
    np.testing.assert_array_equal(seam_ring(mask.astype(bool), half), dilated & ~eroded)
    assert not seam_ring(np.ones((20, 20), bool), 3).any()
    assert not seam_ring(np.zeros((20, 20), bool), 3).any()


def test_seam_gradient_sees_a_hard_step(portrait_images) -> None:
    hr = portrait_images["grace"]
    pasted = hr.copy()
    pasted[60:160, 60:180] = np.clip(hr[60:160, 60:180].astype(int) + 40, 0, 255).astype(np.uint8)
    mask = np.zeros(hr.shape[:2], bool)
    mask[56:164, 56:184] = True
    mask[64:156, 64:176] = False
    # the same +40 offset faded in over 8 px instead of a step
    alpha = np.zeros(hr.shape[:2])
    alpha[60:160, 60:180] = 1.0
    import cv2

    alpha = cv2.blur(alpha, (9, 9))[..., None]
    feathered = np.clip(np.rint(hr + 40 * alpha), 0, 255).astype(np.uint8)
    metric = SeamGradient()
    assert metric.compute(hr, hr, mask) == 0.0
    hard, soft = metric.compute(pasted, hr, mask), metric.compute(feathered, hr, mask)
    assert hard > 2.0 and hard > 1.5 * soft, (hard, soft)


def test_identity_same_face_degraded_beats_other_person(portrait_images, detected_faces) -> None:
    """dlib: grace degraded vs grace HR scores higher than grace vs astronaut (a different person)."""
    grace, astro = portrait_images["grace"], portrait_images["astronaut"]
    f_grace, f_astro = detected_faces(grace)[0], detected_faces(astro)[0]
    metric = IdentitySimilarity(model="dlib")
    assert metric.name == "identity_dlib"
    same = metric.compute_face(_blur(grace), grace, f_grace)
    other = float(metric.embed(grace, f_grace) @ metric.embed(astro, f_astro))
    assert same > other + 0.03, (same, other)  # dlib cosines of strangers are high (~0.89)
    ref = IdentitySimilarity(model="dlib", reference=True)
    other_photo = portrait_images["grace_other"]
    to_ref = ref.compute_reference(_blur(grace), grace, f_grace, other_photo, detected_faces(other_photo))
    to_stranger = ref.compute_reference(_blur(grace), grace, f_grace, astro, [f_astro])
    assert to_ref > to_stranger


def test_arcface_without_model_is_unavailable() -> None:
    from benchmarks.metrics.base import MetricUnavailable

    metric = IdentitySimilarity(model="arcface")
    assert metric.name == "identity_arcface"
    with pytest.raises(MetricUnavailable, match="w600k_r50.onnx"):
        metric.check_available()


def test_auto_identity_model_falls_back_to_dlib_and_names_it() -> None:
    assert IdentitySimilarity(model="auto").name == "identity_dlib"  # no w600k_r50.onnx in tests
    assert IdentitySimilarity(model="auto", reference=True).name == "identity_dlib_ref"


def test_windowed_seam_ring_equals_full_frame_ring() -> None:
    """The seam ring is rasterised in a window around the face; same pixels as a full-frame ring."""
    from benchmarks.regions.extract import _matrix_scale
    from portraitsr4k.faces.align import face_region_mask

    ext = RegionExtractor()
    face = {"landmarks": [[100, 120], [160, 118], [130, 150], [108, 180], [155, 178]]}
    m = ext.matrix(face)
    half = max(2, int(round(0.03 * 512 / _matrix_scale(m))))
    full = seam_ring(face_region_mask((480, 500), m, 512, kind="hard") > 0.5, half)
    ring, (x1, y1, x2, y2) = ext.seam_mask(face, (480, 500))
    rebuilt = np.zeros_like(full)
    rebuilt[y1:y2, x1:x2] = ring
    np.testing.assert_array_equal(rebuilt, full)
