"""Our numpy GMSD and FSIM against pyiqa's ``gmsd`` / ``fsim`` (CPU, float32 torch) on real photos.

Published calibration values: chaofengc/IQA-PyTorch ``ResultsCalibra/calibration_summary.csv``
(commit 065c2b73eecc7fbfc5dde75cccb5328bf62f3cc6), column ``I04.bmp``: ``gmsd(ours)`` = 0.0005,
``fsim(ours)`` = 0.9702 (4 decimals). ``I04.bmp`` and its reference ship with pyiqa
(``sample_rgb("pyiqa_i04_dist")`` / ``"pyiqa_i04_ref"``).

Tolerances: pyiqa computes in float32, whose rounding (~6e-8 relative per operation) limits how
well any float64 implementation can agree with it. FSIM: measured |ours - pyiqa| <= 3e-7 on these
images; allowed 2e-6. GMSD: the std of GMS values near 1, which float32 holds to ~6e-8
absolute, so pyiqa's value carries an absolute error of about 1e-7 (relative 1e-4 on a 5x4
image whose GMSD is 6e-4, 3e-7 relative on larger ones); allowed 2e-6 relative + 2e-7.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from benchmarks.metrics.fsim import FSIM, filter_bank, phase_congruency, pool_factor, pooled_yiq
from benchmarks.metrics.gmsd import GMSD, _deficit_bands, gms_deficit, gms_map, pooled_luma, pyiqa_luma255

TOL = 2e-6
GMSD_ABS = 2e-7  # float32 resolution of GMS values near 1 (module docstring)


def _t(rgb: np.ndarray) -> torch.Tensor:
    """``(H, W, 3) uint8`` -> ``(1, 3, H, W) float32 in [0, 1]``, as the benchmark feeds pyiqa."""
    return torch.from_numpy(np.array(rgb)).permute(2, 0, 1)[None].float().div_(255.0)


@pytest.fixture(scope="module")
def pyiqa_metrics() -> dict[str, torch.nn.Module]:
    import pyiqa

    return {name: pyiqa.create_metric(name, device="cpu", as_loss=False) for name in ("gmsd", "fsim")}


def _pyiqa(metrics: dict[str, torch.nn.Module], name: str, sr: np.ndarray, hr: np.ndarray) -> float:
    with torch.no_grad():
        return float(metrics[name](_t(sr), _t(hr)).item())


def _jpeg(rgb: np.ndarray, quality: int = 20) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as img:
        return np.asarray(img.convert("RGB"))


def _blur(rgb: np.ndarray, radius: float = 1.5) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(radius)))


def _resized(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BICUBIC))


# --------------------------------------------------------------------------------------------
# GMSD


def test_luma_is_bit_equal_to_pyiqa_on_every_half_way_colour() -> None:
    """Colours whose exact luma*255 ends in .5 round by float32 noise; ours must round the same."""
    from pyiqa.utils.color_util import to_y_channel

    v = np.arange(256, dtype=np.int32)
    exact = 299 * v[:, None, None] + 587 * v[None, :, None] + 114 * v[None, None, :]  # luma * 255000
    colours = np.stack(np.nonzero(exact % 1000 == 500), -1).astype(np.uint8)  # (n, 3) RGB
    side = int(np.ceil(np.sqrt(len(colours))))
    img = np.zeros((side * side, 3), np.uint8)
    img[:len(colours)] = colours
    img = img.reshape(side, side, 3)
    expected = to_y_channel(_t(img), 255).numpy()[0, 0]
    ours = pyiqa_luma255(img)
    assert len(colours) > 10000 and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, expected)
    # Crops of a larger image (non-contiguous views) give the same luma as copies.
    np.testing.assert_array_equal(pyiqa_luma255(img[3:50, 7:61]), expected[3:50, 7:61])


def test_gmsd_on_i04_matches_pyiqa_and_its_published_value(sample_rgb, pyiqa_metrics) -> None:
    ref, dist = sample_rgb("pyiqa_i04_ref"), sample_rgb("pyiqa_i04_dist")
    ours = GMSD().compute(dist, ref)
    assert ours == pytest.approx(_pyiqa(pyiqa_metrics, "gmsd", dist, ref), rel=TOL, abs=GMSD_ABS)
    assert round(ours, 4) == 0.0005  # calibration_summary.csv, gmsd(ours), I04.bmp


@pytest.mark.parametrize("size", [(301, 517), (256, 256), (5, 4), (600, 512)])
@pytest.mark.parametrize("degrade", ["jpeg", "blur"])
def test_gmsd_matches_pyiqa_on_grace_hopper(sample_rgb, pyiqa_metrics, size, degrade) -> None:
    h, w = size
    hr = np.ascontiguousarray(sample_rgb("grace_hopper")[:h, :w])
    sr = _jpeg(hr) if degrade == "jpeg" else _blur(hr)
    expected = _pyiqa(pyiqa_metrics, "gmsd", sr, hr)
    assert expected > 0.0
    assert GMSD().compute(sr, hr) == pytest.approx(expected, rel=TOL, abs=GMSD_ABS)


def test_gmsd_matches_pyiqa_on_synthetic_kinds(make_image, pyiqa_metrics) -> None:
    for kind in ("photo", "checker", "gradient"):
        hr = make_image(97, 130, kind, seed=1)
        sr = _jpeg(make_image(97, 130, kind, seed=1), quality=30)
        assert GMSD().compute(sr, hr) == pytest.approx(_pyiqa(pyiqa_metrics, "gmsd", sr, hr), rel=TOL, abs=GMSD_ABS)


def test_gmsd_bands_do_not_change_the_map(sample_rgb) -> None:
    """The band-wise luma/pooling/Prewitt (cache-sized passes) equals whole-image passes."""
    hr = np.ascontiguousarray(sample_rgb("grace_hopper")[:301, :257])
    sr = _jpeg(hr)
    np.testing.assert_array_equal(pooled_luma(hr, chunk_rows=6), pooled_luma(hr, chunk_rows=400))
    whole = np.concatenate(list(_deficit_bands(sr, hr, 170.0, band_rows=1000)))
    thin = np.concatenate(list(_deficit_bands(sr, hr, 170.0, band_rows=3)))
    np.testing.assert_array_equal(thin, whole)
    np.testing.assert_array_equal(gms_deficit(sr, hr), whole)
    assert whole.shape == (150, 128)
    q = 1.0 - whole
    assert GMSD().compute(sr, hr) == pytest.approx(float(np.std(q, ddof=1)), rel=1e-12)


def test_gmsd_perfect_score_and_direction(sample_rgb) -> None:
    hr = sample_rgb("grace_hopper")
    metric = GMSD()
    assert metric.compute(hr, hr.copy()) == 0.0
    np.testing.assert_array_equal(gms_map(hr, hr), 1.0)
    mild, strong = _jpeg(hr, 90), _jpeg(hr, 10)
    assert 0.0 < metric.compute(mild, hr) < metric.compute(strong, hr)
    assert metric.lower_better is True and metric.supports_mask is False


def test_gmsd_bad_inputs_raise(sample_rgb) -> None:
    hr = sample_rgb("grace_hopper")[:64, :64]
    metric = GMSD()
    with pytest.raises(ValueError, match="same shape"):
        metric.compute(hr[:32], hr)
    with pytest.raises(ValueError, match="uint8"):
        metric.compute(hr.astype(np.float32), hr)
    with pytest.raises(ValueError, match="too small"):
        metric.compute(hr[:3, :3], hr[:3, :3])
    with pytest.raises(ValueError, match="where\\(mask, sr, hr\\)"):
        metric.compute(hr, hr, np.ones(hr.shape[:2], bool))
    with pytest.raises(ValueError, match="positive"):
        GMSD(t=0)
    with pytest.raises(ValueError, match="even"):
        pooled_luma(hr, chunk_rows=5)
    with pytest.raises(ValueError, match="uint8"):
        pyiqa_luma255(hr[..., :2])
    with pytest.raises(ValueError, match="empty"):
        gms_map(hr[:1], hr[:1])


# --------------------------------------------------------------------------------------------
# FSIM


def test_pool_factor_rounds_half_to_even_like_pyiqa() -> None:
    # round(min_side / 256): 383 -> 1.496 -> 1; 384 -> 1.5 -> 2; 640 -> 2.5 -> 2; 641 -> 3;
    # 896 -> 3.5 -> 4; 2160 (4K) -> 8.4 -> 8; tiny images are not pooled.
    sides = {10: 1, 383: 1, 384: 2, 639: 2, 640: 2, 641: 3, 896: 4, 2160: 8}
    for side, k in sides.items():
        assert pool_factor(side, side + 100) == k
        assert pool_factor(side + 7, side) == k


@pytest.mark.parametrize("k", [1, 2, 3, 8, 17])
def test_pooled_yiq_is_the_block_mean_in_yiq(sample_rgb, k) -> None:
    """Integer block sums (uint16 up to k = 16, uint32 beyond) equal the float64 block means."""
    yiq = np.array([[0.299, 0.587, 0.114], [0.5959, -0.2746, -0.3213], [0.2115, -0.5227, 0.3112]])  # pyiqa rgb2yiq
    rgb = np.ascontiguousarray(sample_rgb("grace_hopper")[:9 * k + 5, :7 * k + 3])
    h, w = rgb.shape[0] // k, rgb.shape[1] // k
    mean = rgb[:h * k, :w * k].astype(np.float64).reshape(h, k, w, k, 3).mean(axis=(1, 3))
    expected = np.moveaxis(mean @ yiq.T, -1, 0)
    ours = pooled_yiq(rgb, k)
    assert ours.shape == (3, h, w)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-10)


def test_fsim_on_i04_matches_pyiqa_and_its_published_value(sample_rgb, pyiqa_metrics) -> None:
    ref, dist = sample_rgb("pyiqa_i04_ref"), sample_rgb("pyiqa_i04_dist")
    ours = FSIM().compute(dist, ref)
    assert abs(ours - _pyiqa(pyiqa_metrics, "fsim", dist, ref)) < TOL
    assert round(ours, 4) == 0.9702  # calibration_summary.csv, fsim(ours), I04.bmp


@pytest.mark.parametrize("size", [(301, 517), (383, 420), (384, 400), (640, 520), (7, 9)])
def test_fsim_matches_pyiqa_across_pooling_boundaries(sample_rgb, pyiqa_metrics, size) -> None:
    h, w = size
    photo = sample_rgb("grace_hopper")
    hr = np.ascontiguousarray(photo[:h, :w]) if h <= photo.shape[0] and w <= photo.shape[1] else _resized(photo, h, w)
    sr = _jpeg(hr)
    expected = _pyiqa(pyiqa_metrics, "fsim", sr, hr)
    assert expected < 0.999
    assert abs(FSIM().compute(sr, hr) - expected) < TOL


def test_fsim_matches_pyiqa_blurred_grey_and_synthetic(sample_rgb, make_image, pyiqa_metrics) -> None:
    import pyiqa

    hr = np.ascontiguousarray(sample_rgb("astronaut")[::2, ::2])  # 256x256
    sr = _blur(hr)
    assert abs(FSIM().compute(sr, hr) - _pyiqa(pyiqa_metrics, "fsim", sr, hr)) < TOL
    grey = pyiqa.create_metric("fsim", device="cpu", as_loss=False, chromatic=False)
    with torch.no_grad():
        expected = float(grey(_t(sr), _t(hr)).item())
    assert abs(FSIM(chromatic=False).compute(sr, hr) - expected) < TOL
    for kind in ("photo", "checker"):
        a, b = make_image(120, 90, kind, seed=2), make_image(120, 90, kind, seed=3)
        assert abs(FSIM().compute(a, b) - _pyiqa(pyiqa_metrics, "fsim", a, b)) < TOL


@pytest.mark.parametrize("shape", [(37, 50), (48, 31)])
def test_filter_bank_noise_constants_equal_pyiqas_spatial_sums(shape) -> None:
    """The Parseval shortcut equals pyiqa's sums over real(ifft2(filter)) * sqrt(H W)."""
    h, w = shape
    bank = filter_bank(h, w)
    filters = bank.filters()  # (O, S, H, W)
    spatial = np.fft.ifft2(filters).real * np.sqrt(h * w)
    sum_an2 = (spatial ** 2).sum(axis=(1, 2, 3))
    sum_ai_aj = sum((spatial[:, s] * spatial[:, t]).sum(axis=(1, 2))
                    for s in range(filters.shape[1]) for t in range(s + 1, filters.shape[1]))
    np.testing.assert_allclose(bank.sum_an2, sum_an2, rtol=1e-12)
    np.testing.assert_allclose(bank.sum_ai_aj, sum_ai_aj, rtol=1e-12)
    np.testing.assert_allclose(bank.em_n, (filters[:, 0] ** 2).sum(axis=(1, 2)), rtol=1e-12)
    # pyiqa's transfer functions, rebuilt from its own code on a float64 grid.
    from pyiqa.archs.fsim_arch import _construct_filters

    theirs = _construct_filters(torch.zeros(1, 1, h, w, dtype=torch.float64)).numpy()[0]
    np.testing.assert_allclose(filters.reshape(theirs.shape), theirs, atol=1e-6)


def test_fsim_single_and_double_precision_agree(sample_rgb) -> None:
    hr = sample_rgb("group_t1")
    hr = np.ascontiguousarray(hr[:min(hr.shape[0], 700), :min(hr.shape[1], 900)])
    sr = _jpeg(hr, 15)
    single, double = FSIM().compute(sr, hr), FSIM(precision="double").compute(sr, hr)
    assert 0.5 < double < 0.999
    assert abs(single - double) < 1e-6
    lum = pooled_yiq(hr, pool_factor(*hr.shape[:2]))[0][None]
    pc = phase_congruency(lum, "double")
    assert pc.shape == lum.shape and pc.min() >= 0.0 and pc.max() <= 1.0 + 1e-9


def test_fsim_perfect_score_and_direction(sample_rgb, pyiqa_metrics) -> None:
    hr = np.ascontiguousarray(sample_rgb("grace_hopper")[:300, :280])
    metric = FSIM()
    same = metric.compute(hr, hr.copy())
    # pyiqa's eps (float32 epsilon) in every similarity's denominator keeps this just below 1.
    assert 1.0 - 1e-6 < same <= 1.0
    assert abs(same - _pyiqa(pyiqa_metrics, "fsim", hr, hr)) < TOL
    assert metric.compute(_jpeg(hr, 10), hr) < metric.compute(_jpeg(hr, 90), hr) < same
    assert metric.lower_better is False and metric.supports_mask is False


def test_fsim_bad_inputs_raise(sample_rgb) -> None:
    hr = sample_rgb("grace_hopper")[:64, :64]
    metric = FSIM()
    with pytest.raises(ValueError, match="same shape"):
        metric.compute(hr[:, :32], hr)
    with pytest.raises(ValueError, match="uint8"):
        metric.compute(hr[..., 0], hr[..., 0])
    with pytest.raises(ValueError, match="too small"):
        metric.compute(hr[:1], hr[:1])
    with pytest.raises(ValueError, match="where\\(mask, sr, hr\\)"):
        metric.compute(hr, hr, np.ones(hr.shape[:2], bool))
    with pytest.raises(ValueError, match="precision"):
        FSIM(precision="half")
    with pytest.raises(TypeError, match="chromatic"):
        FSIM(chromatic="yes")


def test_configs_point_at_our_classes() -> None:
    from pathlib import Path

    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    conf = Path(__file__).resolve().parents[2] / "conf" / "metric"
    gmsd = instantiate(OmegaConf.load(conf / "gmsd.yaml"))
    fsim = instantiate(OmegaConf.load(conf / "fsim.yaml"))
    assert isinstance(gmsd, GMSD) and gmsd.name == "gmsd" and gmsd.lower_better is True
    assert isinstance(fsim, FSIM) and fsim.name == "fsim" and fsim.lower_better is False
    assert fsim.chromatic is True and fsim.score_range == (0.0, 1.0)
    for metric in (gmsd, fsim):
        assert metric.kind == "fr" and metric.regions == ("full", "face", "face_aligned")
        assert len(metric.config_hash()) == 12


@pytest.mark.slow
def test_gmsd_and_fsim_match_pyiqa_on_a_4k_pair(sample_rgb, pyiqa_metrics) -> None:
    """Slow (pyiqa on a 3840x2160 pair: ~3 s CPU and ~1 GB of float32 tensors): parity at the
    size the speed target is about, where FSIM pools by 8 and GMSD runs over many bands. The
    fast tests above cover the same code paths on small images."""
    hr = _resized(sample_rgb("grace_hopper"), 2160, 3840)
    sr = _resized(_resized(hr, 540, 960), 2160, 3840)
    assert GMSD().compute(sr, hr) == pytest.approx(_pyiqa(pyiqa_metrics, "gmsd", sr, hr), rel=TOL, abs=GMSD_ABS)
    assert abs(FSIM().compute(sr, hr) - _pyiqa(pyiqa_metrics, "fsim", sr, hr)) < TOL
