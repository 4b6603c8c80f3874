"""Calibration of our exact PSNR/SSIM against pyiqa, BasicSR and scikit-image on real photos.

pyiqa's published calibration values for TID2013 I04 (the pair shipped in pyiqa's
``ResultsCalibra``) come from chaofengc/IQA-PyTorch ``ResultsCalibra/calibration_summary.csv``
(rows ``psnr(ours)`` = 20.9872, ``ssim(ours)`` = 0.9978 for ``I04.bmp``; 4 decimals).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from benchmarks.metrics.pixel import PSNR, SSIM, to_luma


def _degraded(rgb: np.ndarray, seed: int = 0) -> np.ndarray:
    h, w = rgb.shape[:2]
    small = Image.fromarray(rgb).resize((w // 4, h // 4), Image.Resampling.BICUBIC)
    up = np.asarray(small.resize((w, h), Image.Resampling.BICUBIC), np.float64)
    noise = np.random.default_rng(seed).normal(0, 3, up.shape)
    return np.clip(np.rint(up + noise), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    from portraitsr4k import sample_photos

    with Image.open(sample_photos.locate("grace_hopper")) as img:
        hr = np.asarray(img.convert("RGB"))[:596, :512]
    return _degraded(hr), hr


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(a)).permute(2, 0, 1)[None].double() / 255.0


def test_pyiqa_published_calibration_values_on_i04(sample_rgb) -> None:
    ref, dist = sample_rgb("pyiqa_i04_ref"), sample_rgb("pyiqa_i04_dist")
    assert round(PSNR(name="psnr").compute(dist, ref), 4) == 20.9872
    assert round(SSIM(name="ssim").compute(dist, ref), 4) == 0.9978


@pytest.mark.parametrize("kw", [{}, {"color": "y", "color_space": "ycbcr"}, {"color": "y", "color_space": "yiq"}])
def test_psnr_equals_pyiqa(pair, kw) -> None:
    import pyiqa

    sr, hr = pair
    opts = {"test_y_channel": kw.get("color") == "y", "color_space": kw.get("color_space", "yiq")}
    ref = pyiqa.create_metric("psnr", device="cpu", **opts)(_t(sr), _t(hr)).item()
    assert abs(PSNR(**kw).compute(sr, hr) - ref) < 1e-4  # pyiqa runs in float32


@pytest.mark.parametrize("kw", [{}, {"color_space": "ycbcr"}, {"color": "rgb"}])
def test_ssim_equals_pyiqa(pair, kw) -> None:
    import pyiqa

    sr, hr = pair
    name = "ssimc" if kw.get("color") == "rgb" else "ssim"
    opts = {} if name == "ssimc" else {"color_space": kw.get("color_space", "yiq")}
    ref = pyiqa.create_metric(name, device="cpu", **opts)(_t(sr).float(), _t(hr).float()).item()
    assert abs(SSIM(**kw).compute(sr, hr) - ref) < 1e-5


@pytest.mark.parametrize("crop,y", [(0, False), (4, True), (4, False)])
def test_psnr_ssim_equal_basicsr(pair, crop, y) -> None:
    from basicsr.metrics.psnr_ssim import calculate_psnr, calculate_ssim

    sr, hr = pair
    bgr = lambda a: np.ascontiguousarray(a[..., ::-1])  # noqa: E731  basicsr works on BGR
    ref_p = calculate_psnr(bgr(sr), bgr(hr), crop_border=crop, test_y_channel=y)
    ref_s = calculate_ssim(bgr(sr), bgr(hr), crop_border=crop, test_y_channel=y)
    color = "y" if y else "rgb"
    ours_p = PSNR(color=color, color_space="ycbcr", crop_border=crop, eps=0.0).compute(sr, hr)
    ours_s = SSIM(color=color, color_space="ycbcr", crop_border=crop, round_y=False, clamp_cs=False).compute(sr, hr)
    assert abs(ours_p - ref_p) < 1e-4  # basicsr converts to Y in float32
    assert abs(ours_s - ref_s) < 1e-6


def test_psnr_ssim_equal_skimage(pair) -> None:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    sr, hr = pair
    assert abs(PSNR(eps=0.0).compute(sr, hr) - peak_signal_noise_ratio(hr, sr, data_range=255)) < 1e-9
    y_sr = to_luma(sr / 255.0, "ycbcr") * 255
    y_hr = to_luma(hr / 255.0, "ycbcr") * 255
    ref = structural_similarity(y_hr, y_sr, data_range=255, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False)
    ours = SSIM(color_space="ycbcr", round_y=False, clamp_cs=False).compute(sr, hr)
    # skimage averages over the image minus a 5 px border ('valid' window centres), like ours;
    # its Gaussian is truncated at 3.5 sigma (11 taps at sigma 1.5): the same window.
    assert abs(ours - ref) < 1e-6


@pytest.mark.parametrize("tile_rows", [16, 37, 100])
def test_tiled_equals_untiled(pair, tile_rows) -> None:
    sr, hr = pair
    for cls, kw in ((PSNR, {"color": "y"}), (SSIM, {}), (SSIM, {"color": "rgb"})):
        whole = cls(tile_rows=4096, **kw).compute(sr, hr)
        tiled = cls(tile_rows=tile_rows, **kw).compute(sr, hr)
        assert abs(whole - tiled) < 1e-9, (cls.__name__, kw, whole, tiled)


def test_masked_psnr_counts_only_masked_pixels(pair) -> None:
    sr, hr = pair
    mask = np.zeros(hr.shape[:2], bool)
    mask[100:200, 50:300] = True
    assert PSNR().compute(sr, hr, mask) == pytest.approx(PSNR().compute(sr[100:200, 50:300], hr[100:200, 50:300]),
                                                         abs=1e-9)
    broken = sr.copy()
    broken[~mask] = 0  # pixels outside the mask do not matter
    assert PSNR().compute(broken, hr, mask) == PSNR().compute(sr, hr, mask)


def test_identical_images_and_bad_inputs(pair) -> None:
    _, hr = pair
    assert math.isinf(PSNR(eps=0.0).compute(hr, hr))
    assert PSNR(eps=1e-8).compute(hr, hr) == pytest.approx(80.0)
    assert SSIM().compute(hr, hr) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        PSNR().compute(hr, hr[:-1])
    with pytest.raises(ValueError, match="uint8"):
        PSNR().compute(hr.astype(np.float32), hr)
    with pytest.raises(ValueError, match="color"):
        PSNR(color="lab")


def test_masked_ssim_skips_empty_tiles_without_changing_the_value(pair) -> None:
    """A thin ring mask leaves most small tiles empty; they are skipped, the value is unchanged."""
    sr, hr = pair
    h, w = hr.shape[:2]
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    ring = (r > min(h, w) * 0.3) & (r < min(h, w) * 0.3 + 6)
    tiled = SSIM(color_space="ycbcr", tile_rows=16, tile_cols=16).compute(sr, hr, ring)
    whole = SSIM(color_space="ycbcr", tile_rows=4096, tile_cols=4096).compute(sr, hr, ring)
    assert tiled == pytest.approx(whole, rel=1e-12, abs=1e-12)
    assert tiled != pytest.approx(SSIM(color_space="ycbcr").compute(sr, hr), abs=1e-9)
