"""The exact CPU metrics give the same bits on any thread count; the SSIM kernel and the tiled
seam gradient equal their plain reference computations."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from benchmarks.metrics.fsim import FSIM
from benchmarks.metrics.msssim import MSSSIM
from benchmarks.metrics.parallel import ordered_map, resolve_threads, thread_buffer
from benchmarks.metrics.pixel import SSIM, ssim_map, ssim_sums
from benchmarks.metrics.seam import SeamGradient
from benchmarks.metrics.vif import VIF


@pytest.fixture(scope="module")
def photo_pair() -> tuple[np.ndarray, np.ndarray]:
    """(sr, hr): a shipped portrait (420x380 crop) and a blurred, noisy copy, uint8."""
    from portraitsr4k import sample_photos

    with Image.open(sample_photos.locate("astronaut")) as img:
        hr = np.asarray(img.convert("RGB"))[20:440, 60:440].copy()
    blurred = cv2.GaussianBlur(hr.astype(np.float64), (0, 0), 1.3)
    noise = np.random.default_rng(3).normal(0, 4, hr.shape)
    return np.clip(np.rint(blurred + noise), 0, 255).astype(np.uint8), hr


def _ring(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - h * 0.45, xx - w * 0.55)
    return (r > 90) & (r < 99)


@pytest.mark.parametrize("metric_cls, kw", [
    (SSIM, {"color_space": "ycbcr", "tile_rows": 32, "tile_cols": 48}),
    (SSIM, {"color": "rgb", "tile_rows": 40, "tile_cols": 40}),
    (MSSSIM, {"tile_rows": 32, "tile_cols": 64}),
    (VIF, {"strip_blocks": 3}),
    (SeamGradient, {}),
    (FSIM, {}),
])
def test_value_does_not_depend_on_thread_count(photo_pair, metric_cls, kw) -> None:
    sr, hr = photo_pair
    mask = _ring(hr.shape[:2]) if metric_cls.supports_mask else None
    values = {t: metric_cls(threads=t, **kw).compute(sr, hr, mask) for t in (1, 2, 3)}
    assert values[1] == values[2] == values[3], values  # the same bits, not just close
    assert 0.0 < values[1] < 1.0 or metric_cls is SeamGradient


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_ssim_kernel_sums_equal_the_five_filter_map(photo_pair, dtype) -> None:
    sr, hr = photo_pair
    x, y = sr[..., 1].astype(dtype), hr[..., 1].astype(dtype)
    ref = ssim_map(x.astype(np.float64), y.astype(np.float64), clamp_cs=True)
    cs_sum, ssim_sum, n = ssim_sums(x, y, clamp_cs=True)
    assert n == ref.size
    assert ssim_sum == pytest.approx(ref.sum(), rel=1e-11)
    mask = np.zeros(ref.shape, bool)
    mask[30:70, 100:260] = True
    _, masked_sum, n_masked = ssim_sums(x, y, clamp_cs=True, mask=mask)
    assert n_masked == int(mask.sum())
    assert masked_sum == pytest.approx(ref[mask].sum(), rel=1e-11)
    cs_only, nan_sum, _ = ssim_sums(x, y, luminance=False)
    assert cs_only == cs_sum and np.isnan(nan_sum)


def test_ssim_kernel_cs_clamp_and_bad_shapes() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 50)).astype(np.float64)
    y = 255.0 - x  # anti-correlated: cs < 0 nearly everywhere
    unclamped = ssim_map(x, y, clamp_cs=False)
    assert (unclamped < 0).mean() > 0.9
    assert ssim_sums(x, y, clamp_cs=False)[1] == pytest.approx(unclamped.sum(), rel=1e-11)
    assert ssim_sums(x, y, clamp_cs=True)[1] == pytest.approx(ssim_map(x, y, clamp_cs=True).sum(), abs=1e-9)
    with pytest.raises(ValueError, match="same shape"):
        ssim_sums(x, y[:-1])
    with pytest.raises(ValueError, match="mask"):
        ssim_sums(x, y, mask=np.ones((3, 3), bool))


def test_tiled_seam_gradient_equals_whole_image_formula(photo_pair) -> None:
    sr, hr = photo_pair
    mask = _ring(hr.shape[:2])
    mask[0, :40] = mask[-1, -30:] = True  # image borders: replicated edges must match too

    def grad(rgb: np.ndarray) -> np.ndarray:
        y = rgb.astype(np.float64) @ (np.array([65.481, 128.553, 24.966]) / 255.0) + 16.0
        gx = cv2.Sobel(y, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE) / 8.0
        gy = cv2.Sobel(y, cv2.CV_64F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE) / 8.0
        return np.hypot(gx, gy)

    expected = np.maximum(grad(sr) - grad(hr), 0.0)[mask].mean()
    assert SeamGradient().compute(sr, hr, mask) == pytest.approx(expected, rel=1e-12)
    assert SeamGradient().compute(sr, hr) == pytest.approx(np.maximum(grad(sr) - grad(hr), 0.0).mean(), rel=1e-12)
    with pytest.raises(ValueError, match="empty mask"):
        SeamGradient().compute(sr, hr, np.zeros(hr.shape[:2], bool))


def test_ordered_map_keeps_order_raises_and_validates() -> None:
    assert ordered_map(lambda i: i * i, range(20), 3) == [i * i for i in range(20)]

    def boom(i: int) -> int:
        if i == 5:
            raise RuntimeError("item 5")
        return i

    with pytest.raises(RuntimeError, match="item 5"):
        ordered_map(boom, range(10), 2)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="threads"):
            resolve_threads(bad)
    assert resolve_threads(None) >= 1
    a = thread_buffer("t", (3, 4))
    b = thread_buffer("t", (2, 2))
    assert a.shape == (3, 4) and b.shape == (2, 2) and np.shares_memory(a, b)
