"""Time the ``realesrgan`` degradation against basicsr's ``feed_data``-style pipeline.

Run: ``python -m benchmarks.perf.degradation_speed [--sizes 512x512 3840x2160] [--repeats 3]
[--threads 1 2] [--skip-basicsr] [--breakdown] [--cuda-batch 32]`` (``make bench-degradations``).

For every size and thread count, both pipelines degrade the same synthetic photo-like HR
image ``repeats`` times (seeds 0..repeats-1) in one process; we print the median wall time
and the median CPU time per image (CPU time is what the process itself used, so it is less
distorted when other jobs share the machine) and the basicsr/ours ratio. basicsr's pipeline
follows ``RealESRGANModel.feed_data`` with the x4plus options: USMSharp, ``filter2D`` with
kernels from ``random_mixed_kernels``/``circular_lowpass_kernel``, random resize with
``F.interpolate``, ``random_add_{gaussian,poisson}_noise_pt``, ``DiffJPEG``, second order,
final [resize + sinc] / JPEG in random order, rounding. basicsr draws from the global RNGs,
which this script seeds for its half only (the library never touches them).

With CUDA present, it also reports batched images/s of our pipeline (``--cuda-batch``).
"""

from __future__ import annotations

# basicsr imports a torchvision module that needs the compatibility shim first.
from portraitsr4k import torchvision_compat as _torchvision_compat  # noqa: F401  isort: skip

import argparse
import contextlib
import functools
import logging
import math
import random
import statistics
import time
from collections.abc import Callable, Iterator

import cv2
import numpy as np
import torch
import torch.nn.functional as F

import degradations
from degradations import pipeline

logger = logging.getLogger(__name__)

# train_realesrgan_x4plus.yml degradation options (anchors-and-protocols.md §2.1).
X4PLUS = {
    "kernel_list": ["iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso"],
    "kernel_prob": [0.45, 0.25, 0.12, 0.03, 0.12, 0.03],
    "sinc_prob": 0.1,
    "blur_sigma": [0.2, 3],
    "betag_range": [0.5, 4],
    "betap_range": [1, 2],
    "sinc_prob2": 0.1,
    "blur_sigma2": [0.2, 1.5],
    "betag_range2": [0.5, 4],
    "betap_range2": [1, 2],
    "final_sinc_prob": 0.8,
    "resize_prob": [0.2, 0.7, 0.1],
    "resize_range": [0.15, 1.5],
    "gaussian_noise_prob": 0.5,
    "noise_range": [1, 30],
    "poisson_scale_range": [0.05, 3],
    "gray_noise_prob": 0.4,
    "jpeg_range": [30, 95],
    "second_blur_prob": 0.8,
    "resize_prob2": [0.3, 0.4, 0.3],
    "resize_range2": [0.3, 1.2],
    "gaussian_noise_prob2": 0.5,
    "noise_range2": [1, 25],
    "poisson_scale_range2": [0.05, 2.5],
    "gray_noise_prob2": 0.4,
    "jpeg_range2": [30, 95],
    "scale": 4,
}


class BasicsrPipeline:
    """Real-ESRGAN's dataset kernel sampling + ``feed_data`` degradation, built from basicsr."""

    def __init__(self) -> None:
        try:
            from basicsr.data import degradations as bd
            from basicsr.utils import DiffJPEG, USMSharp
            from basicsr.utils.img_process_util import filter2D
        except ImportError as exc:  # basicsr is a test/benchmark-only reference
            raise ImportError(
                "the basicsr comparison needs basicsr 1.4.2: pip install --no-deps "
                "--no-build-isolation basicsr==1.4.2 (see Makefile), or pass --skip-basicsr"
            ) from exc
        self.bd, self.filter2d = bd, filter2D
        self.usm, self.jpeger = USMSharp(), DiffJPEG(differentiable=False)

    def _kernel(
        self, sinc_prob: float, sigma: list[float], betag: list[float], betap: list[float]
    ) -> torch.Tensor:
        size = random.choice([2 * v + 1 for v in range(3, 11)])
        if np.random.uniform() < sinc_prob:
            omega = np.random.uniform(np.pi / 3, np.pi) if size < 13 else np.random.uniform(np.pi / 5, np.pi)
            kernel = self.bd.circular_lowpass_kernel(omega, size, pad_to=False)
        else:
            kernel = self.bd.random_mixed_kernels(
                X4PLUS["kernel_list"],
                X4PLUS["kernel_prob"],
                size,
                sigma,
                sigma,
                [-math.pi, math.pi],
                betag,
                betap,
                noise_range=None,
            )
        pad = (21 - size) // 2
        return torch.FloatTensor(np.pad(kernel, ((pad, pad), (pad, pad))))

    def _noise(
        self, out: torch.Tensor, gaussian_prob: float, sigma: list[float], poisson: list[float]
    ) -> torch.Tensor:
        if np.random.uniform() < gaussian_prob:
            return self.bd.random_add_gaussian_noise_pt(
                out, sigma_range=sigma, clip=True, rounds=False, gray_prob=X4PLUS["gray_noise_prob"]
            )
        return self.bd.random_add_poisson_noise_pt(
            out, scale_range=poisson, gray_prob=X4PLUS["gray_noise_prob"], clip=True, rounds=False
        )

    @staticmethod
    def _resize_scale(probs: list[float], scale_range: list[float]) -> float:
        updown = random.choices(["up", "down", "keep"], probs)[0]
        if updown == "up":
            return np.random.uniform(1, scale_range[1])
        return np.random.uniform(scale_range[0], 1) if updown == "down" else 1.0

    def _jpeg(self, out: torch.Tensor, quality_range: list[float]) -> torch.Tensor:
        quality = out.new_zeros(out.size(0)).uniform_(*quality_range)
        return self.jpeger(torch.clamp(out, 0, 1), quality=quality)

    @torch.no_grad()
    def __call__(self, gt: torch.Tensor) -> torch.Tensor:
        """``gt`` ``(B, 3, H, W)`` float32 in [0, 1] -> LQ ``(B, 3, H // 4, W // 4)``."""
        o = X4PLUS
        kernel1 = self._kernel(o["sinc_prob"], o["blur_sigma"], o["betag_range"], o["betap_range"])[None]
        kernel2 = self._kernel(o["sinc_prob2"], o["blur_sigma2"], o["betag_range2"], o["betap_range2"])[None]
        if np.random.uniform() < o["final_sinc_prob"]:
            size = random.choice([2 * v + 1 for v in range(3, 11)])
            sinc = torch.FloatTensor(
                self.bd.circular_lowpass_kernel(np.random.uniform(np.pi / 3, np.pi), size, pad_to=21)
            )[None]
        else:
            sinc = torch.zeros(1, 21, 21)
            sinc[0, 10, 10] = 1
        ori_h, ori_w = gt.shape[-2:]
        out = self.filter2d(self.usm(gt), kernel1)
        scale = self._resize_scale(o["resize_prob"], o["resize_range"])
        out = F.interpolate(out, scale_factor=scale, mode=random.choice(["area", "bilinear", "bicubic"]))
        out = self._noise(out, o["gaussian_noise_prob"], o["noise_range"], o["poisson_scale_range"])
        out = self._jpeg(out, o["jpeg_range"])
        if np.random.uniform() < o["second_blur_prob"]:
            out = self.filter2d(out, kernel2)
        scale = self._resize_scale(o["resize_prob2"], o["resize_range2"])
        size = (int(ori_h / o["scale"] * scale), int(ori_w / o["scale"] * scale))
        out = F.interpolate(out, size=size, mode=random.choice(["area", "bilinear", "bicubic"]))
        out = self._noise(out, o["gaussian_noise_prob2"], o["noise_range2"], o["poisson_scale_range2"])
        lq_size = (ori_h // o["scale"], ori_w // o["scale"])
        if np.random.uniform() < 0.5:
            out = F.interpolate(out, size=lq_size, mode=random.choice(["area", "bilinear", "bicubic"]))
            out = self._jpeg(self.filter2d(out, sinc), o["jpeg_range2"])
        else:
            out = self._jpeg(out, o["jpeg_range2"])
            out = F.interpolate(out, size=lq_size, mode=random.choice(["area", "bilinear", "bicubic"]))
            out = self.filter2d(out, sinc)
        return torch.clamp((out * 255.0).round(), 0, 255) / 255.0


def photo_like(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """A ``(3, H, W)`` float32 test image in [0, 1] with smooth areas, edges and fine texture."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((max(2, height // 64), max(2, width // 64), 3), dtype=np.float32)
    fine = rng.random((max(2, height // 4), max(2, width // 4), 3), dtype=np.float32)
    img = 0.8 * cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    img += 0.2 * cv2.resize(fine, (width, height), interpolation=cv2.INTER_NEAREST)
    return (
        torch.from_numpy(np.clip(np.round(img * 255), 0, 255).astype(np.float32) / 255)
        .permute(2, 0, 1)
        .contiguous()
    )


def _time(fn: Callable[[int], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn(seed)`` over seeds ``0..repeats-1``."""
    walls, cpus = [], []
    for seed in range(repeats):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        fn(seed)
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    return statistics.median(walls), statistics.median(cpus)


def _ours_once(deg: degradations.Degradation, hr: torch.Tensor, seed: int) -> None:
    deg(hr, torch.Generator().manual_seed(seed))


def _basicsr_once(reference: BasicsrPipeline, hr: torch.Tensor, seed: int) -> None:
    # basicsr draws from the global RNGs; seed them so both pipelines see seeds 0..n-1.
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    reference(hr[None])


@contextlib.contextmanager
def step_timer(totals: dict[str, float]) -> Iterator[None]:
    """Accumulate CPU seconds per pipeline step while active (wraps the step functions that
    ``degradations.pipeline`` calls, restoring them on exit)."""
    steps = {
        "usm_sharpen": "usm",
        "filter2d": "blur",
        "resize": "resize",
        "add_noise": "noise",
        "jpeg_compress": "jpeg",
        "check_images": "checks",
    }
    originals = {name: getattr(pipeline, name) for name in steps}

    def timed(fn: Callable, label: str) -> Callable:
        def wrapper(*args: object, **kwargs: object) -> object:
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[label] = totals.get(label, 0.0) + time.process_time() - start

        return wrapper

    try:
        for name, label in steps.items():
            setattr(pipeline, name, timed(originals[name], label))
        yield
    finally:
        for name, fn in originals.items():
            setattr(pipeline, name, fn)


def breakdown(size: tuple[int, int], repeats: int) -> None:
    """Print per-seed CPU seconds per step of our pipeline at one size (one thread)."""
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    deg = degradations.build("realesrgan", scale=4)
    hr = photo_like(*size)
    print(f"\nper-step CPU seconds, {size[1]}x{size[0]}, 1 thread")
    for seed in range(repeats):
        params = deg.sample_params(torch.Generator().manual_seed(seed))
        totals: dict[str, float] = {}
        start = time.process_time()
        with step_timer(totals):
            deg.apply(hr, params)
        total = time.process_time() - start
        first = params.first
        kernel = first.kernel.kind if first.kernel else "none"
        draws = f"k1={kernel} resize1={first.resize.mode}x{first.resize.scale:.2f} noise1={first.noise.kind}"
        steps = " ".join(f"{k}={v:.3f}" for k, v in sorted(totals.items()))
        print(f"seed {seed}: total={total:.3f} {steps} | {draws}")


def run_cpu(sizes: list[tuple[int, int]], threads: list[int], repeats: int, skip_basicsr: bool) -> list[dict]:
    """Time both pipelines on the CPU; returns one row per (size, threads)."""
    deg = degradations.build("realesrgan", scale=4)
    reference = None if skip_basicsr else BasicsrPipeline()
    rows = []
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        cv2.setNumThreads(n_threads)
        for height, width in sizes:
            hr = photo_like(height, width)
            ours = _time(functools.partial(_ours_once, deg, hr), repeats)
            row = {
                "size": f"{width}x{height}",
                "threads": n_threads,
                "ours_wall_s": ours[0],
                "ours_cpu_s": ours[1],
            }
            if reference is not None:
                theirs = _time(functools.partial(_basicsr_once, reference, hr), repeats)
                row.update(
                    basicsr_wall_s=theirs[0],
                    basicsr_cpu_s=theirs[1],
                    ratio_wall=theirs[0] / ours[0],
                    ratio_cpu=theirs[1] / ours[1],
                )
            rows.append(row)
            logger.info("%s", row)
    return rows


def _cuda_once(
    deg: degradations.Degradation, hr: torch.Tensor, generator: torch.Generator, seed: int
) -> None:
    deg(hr, generator.manual_seed(seed))
    torch.cuda.synchronize()


def run_cuda(sizes: list[tuple[int, int]], batch: int, repeats: int) -> list[dict]:
    """Batched images/s of our pipeline on the GPU (per-sample ops, JPEG through the CPU)."""
    deg = degradations.build("realesrgan", scale=4)
    rows = []
    for height, width in sizes:
        hr = photo_like(height, width).cuda().expand(batch, -1, -1, -1).contiguous()
        generator = torch.Generator(device="cuda")
        deg(hr[:2], generator.manual_seed(123))  # warm-up (cuDNN, allocator)
        torch.cuda.synchronize()

        wall, _ = _time(functools.partial(_cuda_once, deg, hr, generator), repeats)
        rows.append({"size": f"{width}x{height}", "batch": batch, "images_per_s": batch / wall})
        logger.info("%s", rows[-1])
    return rows


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return height, width


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=_size,
        default=[(512, 512), (2160, 3840)],
        help="WIDTHxHEIGHT, multiples of 4 (default 512x512 3840x2160)",
    )
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3, help="seeds per cell; medians are reported")
    parser.add_argument("--skip-basicsr", action="store_true")
    parser.add_argument("--cuda-batch", type=int, default=32)
    parser.add_argument("--breakdown", action="store_true", help="also print CPU seconds per pipeline step")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = run_cpu(args.sizes, args.threads, args.repeats, args.skip_basicsr)
    print(
        f"\nrealesrgan preset, CPU, median of {args.repeats} seeds per image: wall seconds, and CPU "
        "seconds used by the process (summed over threads)"
    )
    print(
        f"{'size':>10} {'thr':>3} {'ours wall':>9} {'ours cpu':>8} {'basicsr wall':>12} {'basicsr cpu':>11} "
        f"{'ratio wall':>10} {'ratio cpu':>9}"
    )
    for r in rows:
        if "basicsr_wall_s" in r:
            ref = f"{r['basicsr_wall_s']:12.3f} {r['basicsr_cpu_s']:11.3f} "
            ref += f"{r['ratio_wall']:9.1f}x {r['ratio_cpu']:8.1f}x"
        else:
            ref = f"{'-':>12} {'-':>11} {'-':>10} {'-':>9}"
        print(f"{r['size']:>10} {r['threads']:>3} {r['ours_wall_s']:9.3f} {r['ours_cpu_s']:8.3f} {ref}")
    if args.breakdown:
        for size in args.sizes:
            breakdown(size, args.repeats)
    if torch.cuda.is_available():
        for r in run_cuda(args.sizes, args.cuda_batch, args.repeats):
            name = torch.cuda.get_device_name()
            print(f"CUDA {name}: {r['size']} batch {r['batch']}: {r['images_per_s']:.1f} images/s")
    else:
        print("CUDA: no device here; the GPU images/s figures need a machine with one.")


if __name__ == "__main__":
    main()
