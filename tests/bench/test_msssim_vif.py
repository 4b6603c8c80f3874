"""Our float64 MS-SSIM and VIF against pyiqa's ``ms_ssim`` / ``vif`` on real shipped photos.

Published values: chaofengc/IQA-PyTorch ``ResultsCalibra/calibration_summary.csv`` (commit
065c2b73eecc7fbfc5dde75cccb5328bf62f3cc6), rows ``ms_ssim(ours)`` = 0.9996 and ``vif(ours)`` =
0.9891 for ``I04.bmp`` (4 decimals), the pair pyiqa ships as ``ResultsCalibra/{ref,dist}_dir``.

Tolerances, measured on these photos:

- MS-SSIM: pyiqa runs in float64 after a float32 colour conversion and with a float32-rounded
  11x11 window; the difference to our exact value is <= 6e-8 relative on these photos
  (2.2e-7 on a synthetic 1080p pair). We allow 5e-7.
- VIF: pyiqa runs entirely in float32 (pyramid convolutions, box statistics, the 9x9
  covariances over millions of products). Running pyiqa's own code in float64 reproduces our
  value to 2e-16 on I04 and 1.4e-7 on JPEG'd crops; its float32 result differs from it by
  4.9e-6 on I04 and up to 7e-4 relative on a heavily JPEG'd photo. We allow 1e-5 on I04 and
  1.5e-3 elsewhere, and check our building blocks against brute-force float64 references at
  1e-10, which is what makes the value exact.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from benchmarks.metrics.msssim import MIN_SIDE as MSSSIM_MIN
from benchmarks.metrics.msssim import MSSSIM, avg_pool2
from benchmarks.metrics.pixel import luma255
from benchmarks.metrics.vif import MIN_SIDE as VIF_MIN
from benchmarks.metrics.vif import VIF, _neighbourhood_cov, steerable_bands


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(a)).permute(2, 0, 1)[None].float() / 255.0


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def _blur(rgb: np.ndarray, radius: float) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(radius)))


@pytest.fixture(scope="module")
def pyiqa_metrics() -> dict:
    import pyiqa

    return {name: pyiqa.create_metric(name, device="cpu", as_loss=False) for name in ("ms_ssim", "vif")}


@pytest.fixture(scope="module")
def grace() -> np.ndarray:
    from portraitsr4k import sample_photos

    with Image.open(sample_photos.locate("grace_hopper")) as img:
        return np.asarray(img.convert("RGB"))


def _pairs(grace: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(distorted, reference) pairs: JPEG'd and blurred photos, odd sizes, the minimum size."""
    jpeg = _jpeg(grace, 30)
    blurred = _jpeg(_blur(grace, 1.5), 70)
    return {"jpeg": (jpeg, grace), "odd_301x511": (blurred[7:308, :511], grace[7:308, :511]),
            "odd_299x503": (blurred[3:302, 1:504], grace[3:302, 1:504]),
            "min_161": (jpeg[100:261, 50:211], grace[100:261, 50:211])}


def test_i04_equals_pyiqa_and_its_published_values(sample_rgb, pyiqa_metrics) -> None:
    ref, dist = sample_rgb("pyiqa_i04_ref"), sample_rgb("pyiqa_i04_dist")
    ms = MSSSIM().compute(dist, ref)
    vif = VIF().compute(dist, ref)
    assert round(ms, 4) == 0.9996
    assert round(vif, 4) == 0.9891
    assert ms == pytest.approx(pyiqa_metrics["ms_ssim"](_t(dist), _t(ref)).item(), rel=5e-7, abs=0)
    assert vif == pytest.approx(pyiqa_metrics["vif"](_t(dist), _t(ref)).item(), rel=1e-5, abs=0)


def test_grace_hopper_pairs_equal_pyiqa(grace, pyiqa_metrics) -> None:
    for name, (dist, ref) in _pairs(grace).items():
        ours_ms = MSSSIM().compute(dist, ref)
        ref_ms = pyiqa_metrics["ms_ssim"](_t(dist), _t(ref)).item()
        assert ours_ms == pytest.approx(ref_ms, rel=5e-7, abs=0), name
        ours_vif = VIF().compute(dist, ref)
        ref_vif = pyiqa_metrics["vif"](_t(dist), _t(ref)).item()
        assert ours_vif == pytest.approx(ref_vif, rel=1.5e-3, abs=0), name
        assert 0.0 < ours_vif < 1.0 and 0.0 < ours_ms < 1.0


def test_msssim_ycbcr_option_equals_pyiqa(grace) -> None:
    import pyiqa

    net = pyiqa.create_metric("ms_ssim", device="cpu", as_loss=False, color_space="ycbcr")
    dist, ref = _jpeg(grace, 50)[:320, :400], grace[:320, :400]
    ours = MSSSIM(color_space="ycbcr").compute(dist, ref)
    assert ours == pytest.approx(net(_t(dist), _t(ref)).item(), rel=5e-7, abs=0)
    assert ours != MSSSIM().compute(dist, ref)


def test_minimum_sizes(grace, pyiqa_metrics) -> None:
    ref = grace[:MSSSIM_MIN, :MSSSIM_MIN + 3]
    dist = _jpeg(ref, 40)
    assert MSSSIM().compute(dist, ref) == pytest.approx(
        pyiqa_metrics["ms_ssim"](_t(dist), _t(ref)).item(), rel=5e-7, abs=0)
    with pytest.raises(ValueError, match="161px"):
        MSSSIM().compute(dist[:-1], ref[:-1])
    with pytest.raises(RuntimeError):  # pyiqa itself cannot run one row below the minimum
        pyiqa_metrics["ms_ssim"](_t(dist[:-1]), _t(ref[:-1]))
    ref_v, dist_v = ref[:VIF_MIN, :VIF_MIN], dist[:VIF_MIN, :VIF_MIN]
    assert VIF().compute(dist_v, ref_v) == pytest.approx(
        pyiqa_metrics["vif"](_t(dist_v), _t(ref_v)).item(), rel=1.5e-3, abs=0)
    with pytest.raises(ValueError, match="65px"):
        VIF().compute(dist_v[:-1], ref_v[:-1])


def test_identical_images_score_one_and_degradation_lowers_scores(grace) -> None:
    assert MSSSIM().compute(grace, grace) == pytest.approx(1.0, abs=1e-12)
    assert VIF().compute(grace, grace) == pytest.approx(1.0, abs=1e-9)
    mild, strong = _blur(grace, 0.8), _blur(grace, 3.0)
    assert MSSSIM().compute(strong, grace) < MSSSIM().compute(mild, grace) < 1.0
    assert VIF().compute(strong, grace) < VIF().compute(mild, grace) < 1.0


@pytest.mark.parametrize("tile", [(16, 16), (37, 100), (128, 256), (4096, 4096)])
def test_msssim_does_not_depend_on_tiling(grace, tile) -> None:
    dist, ref = _jpeg(grace, 30)[:301, :511], grace[:301, :511]
    whole = MSSSIM(tile_rows=4096, tile_cols=4096).compute(dist, ref)
    tiled = MSSSIM(tile_rows=tile[0], tile_cols=tile[1]).compute(dist, ref)
    assert abs(whole - tiled) < 1e-12


def test_avg_pool_matches_torch_with_pyiqa_padding(make_image) -> None:
    for h, w in ((8, 10), (9, 10), (8, 11), (13, 7)):
        plane = make_image(h, w, "noise", seed=h * w)[..., 0]
        pad = (h % 2, w % 2)
        expected = torch.nn.functional.avg_pool2d(torch.from_numpy(plane.astype(np.float64))[None, None], 2,
                                                  padding=pad)[0, 0].numpy()
        np.testing.assert_array_equal(avg_pool2(plane), expected)


@pytest.mark.parametrize("color_space", ["yiq", "ycbcr"])
def test_luma_is_exactly_rounded_for_every_colour(color_space) -> None:
    """All 2^24 colours: rounded luma equals integer arithmetic with ties to even."""
    weights, denom, offset = ((299, 587, 114), 1000, 0) if color_space == "yiq" else \
        ((65481, 128553, 24966), 255000, 16)
    g, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    ties = 0
    for r in range(0, 256, 32):
        rgb = np.stack(np.broadcast_arrays(np.arange(r, r + 32)[:, None, None], g, b), axis=-1)
        rgb = rgb.reshape(32 * 256, 256, 3).astype(np.uint8)
        n = rgb.astype(np.int64) @ np.array(weights)
        q, rem = np.divmod(n, denom)
        expected = offset + q + (2 * rem > denom) + ((2 * rem == denom) & (q % 2 == 1))
        ties += int((2 * rem == denom).sum())
        np.testing.assert_array_equal(luma255(rgb, color_space, rounded=True), expected)
        exact = offset + n / denom
        np.testing.assert_allclose(luma255(rgb, color_space, rounded=False), exact, rtol=0, atol=1e-12)
    assert ties > 0  # the tie rule was exercised


def test_pyramid_equals_direct_2d_correlation(grace) -> None:
    from pyiqa.archs.vif_arch import sp5_filters
    from scipy.ndimage import correlate

    luma = luma255(grace[:97, :131], "yiq", rounded=True)
    bands = steerable_bands(luma)
    f = sp5_filters()
    lo = correlate(luma, f["lo0filt"], mode="mirror")  # mirror == reflect-101 == torch 'reflect'
    for level in range(4):
        for b in (0, 3):
            direct = correlate(lo, f["bfilts"][:, b].reshape(7, 7).T, mode="mirror")
            np.testing.assert_allclose(bands[(level, b)], direct, rtol=0, atol=1e-10)
        lo = correlate(lo, f["lofilt"], mode="mirror")[::2, ::2]


def test_flat_reference_areas_follow_pyiqas_tolerance_rule(grace, pyiqa_metrics) -> None:
    """Flat windows (variance < 1e-12) get gain 0: a flat reference scores 0, like pyiqa.

    A float32 pyramid leaves ~1e-5 of noise in flat areas and scored 1.9e7 here.
    """
    flat = np.full((200, 300, 3), (120, 130, 140), np.uint8)
    noise = np.random.default_rng(0).integers(-3, 4, flat.shape)
    noisy = np.clip(flat.astype(int) + noise, 0, 255).astype(np.uint8)
    for dist, ref in ((noisy, flat), (flat, flat), (flat, noisy)):
        assert VIF().compute(dist, ref) == pyiqa_metrics["vif"](_t(dist), _t(ref)).item() == 0.0
    ref = grace[:320, :400].copy()
    ref[:120, :200] = 255  # a clipped highlight next to real texture
    dist = _jpeg(ref, 40)
    ours = VIF().compute(dist, ref)
    assert ours == pytest.approx(pyiqa_metrics["vif"](_t(dist), _t(ref)).item(), rel=1.5e-3, abs=0)
    assert 0.0 < ours < 1.0


def test_neighbourhood_covariance_equals_brute_force(make_image) -> None:
    band = make_image(30, 42, "photo", seed=3)[..., 1].astype(np.float64) - 120.0
    h2, w2 = band.shape[0] - 2, band.shape[1] - 2
    vectors = np.stack([band[k:k + h2, j:j + w2].ravel() for k in range(3) for j in range(3)], axis=1)
    centred = vectors - vectors.mean(axis=0)
    expected = centred.T @ centred / len(centred)
    np.testing.assert_allclose(_neighbourhood_cov(band), expected, rtol=1e-12, atol=1e-9)


def test_bad_inputs_and_mask(grace) -> None:
    for metric in (MSSSIM(), VIF()):
        with pytest.raises(ValueError, match="uint8"):
            metric.compute(grace.astype(np.float32), grace)
        with pytest.raises(ValueError, match="same shape"):
            metric.compute(grace, grace[:-1])
        with pytest.raises(ValueError, match="mask"):
            metric.compute(grace, grace, np.ones(grace.shape[:2], bool))
        assert metric.supports_mask is False
    with pytest.raises(ValueError, match="min_side"):
        MSSSIM(min_side=100)
    with pytest.raises(ValueError, match="color_space"):
        MSSSIM(color_space="lab")
    with pytest.raises(ValueError, match="tile_rows"):
        MSSSIM(tile_rows=4)
    with pytest.raises(ValueError, match="min_side"):
        VIF(min_side=10)


def test_configs_point_at_our_classes() -> None:
    from pathlib import Path

    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    conf = Path(__file__).resolve().parents[2] / "conf" / "metric"
    ms = instantiate(OmegaConf.load(conf / "ms_ssim.yaml"))
    vif = instantiate(OmegaConf.load(conf / "vif.yaml"))
    assert isinstance(ms, MSSSIM) and ms.name == "ms_ssim" and ms.min_side == 161
    assert isinstance(vif, VIF) and vif.name == "vif" and vif.min_side == 65
    for metric in (ms, vif):
        assert metric.lower_better is False and metric.regions == ("full", "face", "face_aligned")


def test_vif_luma_kernel_equals_luma255_for_every_colour() -> None:
    """The compiled luma (inside the lo0 filter) rounds all 2^24 colours like ``luma255``."""
    from benchmarks.metrics.vif_pyramid import luma_yiq255

    g, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    rgb = np.stack(np.broadcast_arrays(np.arange(256)[:, None, None], g, b), axis=-1)
    rgb = rgb.reshape(4096, 4096, 3).astype(np.uint8)
    out = np.empty((4096, 4096))
    luma_yiq255(rgb.reshape(4096, -1), out)
    np.testing.assert_array_equal(out, luma255(rgb, "yiq", rounded=True))


def test_vif_streamed_pyramid_and_covariance_equal_whole_plane_versions(grace) -> None:
    from benchmarks.metrics.vif import _filters, steerable_bands
    from benchmarks.metrics.vif_pyramid import band_pair, lo0_filter, lo0_from_rgb
    from benchmarks.metrics.vif_stats import cov_accumulate, cov_finish

    rgb = np.ascontiguousarray(grace[5:106, 3:140])
    h, w = rgb.shape[:2]
    luma = luma255(rgb, "yiq", rounded=True)
    from_rgb, from_luma = np.empty((h, w)), np.empty((h, w))
    lo0_from_rgb(rgb.reshape(h, 3 * w), _filters()["lo0"], from_rgb)
    lo0_filter(luma, _filters()["lo0"], from_luma)
    np.testing.assert_array_equal(from_rgb, from_luma)
    band = steerable_bands(luma)[(0, 3)]
    for start in (0, 37):  # a strip of band rows equals those rows of the whole band
        strip0, strip3 = np.empty((20, w)), np.empty((20, w))
        band_pair(from_luma, _filters()["b0"], start, strip0, strip3)
        np.testing.assert_array_equal(strip3, band[start:start + 20])
    whole = _neighbourhood_cov(band)
    for chunk in (1, 3, 5, 64):
        state = (np.zeros((13, w)), np.zeros((13, 4, w)), np.zeros(w), np.zeros((4, w)))
        for r0 in range(0, h, chunk):
            cov_accumulate(band[r0:], r0, min(chunk, h - r0), h, w, *state)
        np.testing.assert_allclose(cov_finish(h, w, *state), whole, rtol=1e-12, atol=1e-9)


def test_vif_subband_sums_equal_direct_per_block_formulas(make_image) -> None:
    """Box sums, tol cases, ``s = v^T C^+ v / 9`` and the log terms against a per-block loop."""
    from benchmarks.metrics.vif import TOL, SIGMA_NSQ, _gsm_params
    from benchmarks.metrics.vif_stats import subband_sums

    ref = make_image(57, 75, "photo", seed=5)[..., 0].astype(np.float64) - 100.0
    dist = 0.7 * ref + make_image(57, 75, "noise", seed=6)[..., 1] / 20.0
    ref[:20, :30] = 4.0  # flat reference windows
    dist[30:, 40:] = -2.0  # flat distorted windows
    dist[:12, 50:] = -ref[:12, 50:]  # negative gains
    cov = _neighbourhood_cov(ref)
    cpinv = np.linalg.pinv(cov, rcond=1e-15, hermitian=True)
    lam = np.linalg.eigvalsh(cov)
    for window in (3, 5, 9, 17):
        pad = window // 2
        off = -(-pad // 3)
        num = den = 0.0
        for i in range(off, 57 // 3 - off):
            for c in range(off, 75 // 3 - off):
                r0, c0 = 3 * i + 1 - pad, 3 * c + 1 - pad
                x = ref[r0:r0 + window, c0:c0 + window]
                y = dist[r0:r0 + window, c0:c0 + window]
                n = window * window
                ss_x = max(((x - x.mean()) ** 2).sum(), 0.0)
                ss_y = max(((y - y.mean()) ** 2).sum(), 0.0)
                cv = ((x - x.mean()) * (y - y.mean())).sum()
                g = cv / (ss_x + TOL)
                vv = (ss_y - g * cv) / n
                if ss_x < TOL:
                    g, vv = 0.0, ss_y
                if ss_y < TOL:
                    g, vv = 0.0, 0.0
                if g < 0:
                    g, vv = 0.0, ss_y
                vv = max(vv, TOL)
                v = ref[3 * i:3 * i + 3, 3 * c:3 * c + 3].ravel()
                s = v @ cpinv @ v / 9
                num += np.log2(1 + g * g * s * lam / (vv + SIGMA_NSQ)).sum()
                den += np.log2(1 + s * lam / SIGMA_NSQ).sum()
        ours = subband_sums(ref, dist, 0, off, 57 // 3 - off, 75, window, *_gsm_params(cov), SIGMA_NSQ, TOL)
        assert ours[0] == pytest.approx(num, rel=1e-9, abs=1e-9), window
        assert ours[1] == pytest.approx(den, rel=1e-9, abs=1e-9), window


def test_vif_does_not_depend_on_strip_size(grace) -> None:
    dist, ref = _jpeg(grace, 30)[:301, :511], grace[:301, :511]
    values = [VIF(strip_blocks=k).compute(dist, ref) for k in (1, 2, 7, 1000)]
    assert max(values) - min(values) < 1e-13
    with pytest.raises(ValueError, match="strip_blocks"):
        VIF(strip_blocks=0)
