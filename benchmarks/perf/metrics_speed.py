"""Metric cost on one 3840x2160 SR/HR pair, and the cost of a cached benchmark rerun.

    python -m benchmarks.perf.metrics_speed [--width 3840 --height 2160] [--json out.json]

1. Builds a 4K portrait pair: a shipped photo (grace_hopper) enlarged into a 4K canvas of
   photo-like texture, its face found by MTCNN; LQ = bicubic 1/4, SR = bicubic x4 of the LQ.
2. Times every offline full-reference metric (no weight files needed) on the full image and on
   the face regions (``face``, ``face_aligned``, ``seam``), one call each after a warm-up on a
   small crop (so import/setup costs are excluded), and prints a table and the total.
3. Writes the pair as a one-sample dataset in the builder's layout, runs the benchmark runner
   (bicubic; psnr_y, ssim_y, seam_grad, identity_dlib) twice, and reports the second (cached)
   run's wall time as a fraction of the first.
4. With CUDA and the LPIPS/DISTS weights present: pairs/s and peak memory of lpips and dists at 4K.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import benchmarks  # noqa: F401  (torchvision compat first)

logger = logging.getLogger(__name__)

OFFLINE_FR = ("psnr_y", "ssim_y", "seam_grad", "ms_ssim", "gmsd", "fsim", "vif")


def make_pair(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]], np.ndarray]:
    """(sr, hr, faces, lq): ``(H, W, 3) uint8`` images with one real face, faces in HR pixels."""
    from portraitsr4k import sample_photos
    from portraitsr4k.faces import build_detector

    rng = np.random.default_rng(seed)
    coarse = rng.random((height // 64, width // 64, 3))
    canvas = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize((width, height), Image.BICUBIC),
                        np.float64)
    canvas = np.clip(canvas + rng.normal(0, 4, canvas.shape), 0, 255).astype(np.uint8)
    with Image.open(sample_photos.locate("grace_hopper")) as img:
        ph = height
        pw = round(img.width * ph / img.height)
        photo = np.asarray(img.convert("RGB").resize((pw, ph), Image.Resampling.LANCZOS))
    x0 = (width - pw) // 2
    canvas[:, x0:x0 + pw] = photo
    hr = canvas
    lq = np.asarray(Image.fromarray(hr).resize((width // 4, height // 4), Image.Resampling.BICUBIC))
    sr = np.asarray(Image.fromarray(lq).resize((width, height), Image.Resampling.BICUBIC))
    det = build_detector("mtcnn", device="cpu")
    faces = [f.scaled(4.0, 4.0).to_dict() for f in det.detect(lq)]
    if not faces:
        raise RuntimeError("MTCNN found no face in the 4K test pair")
    return sr, hr, faces, lq


def _metrics() -> dict[str, Any]:
    from benchmarks.metrics.fsim import FSIM
    from benchmarks.metrics.gmsd import GMSD
    from benchmarks.metrics.msssim import MSSSIM
    from benchmarks.metrics.pixel import PSNR, SSIM
    from benchmarks.metrics.seam import SeamGradient
    from benchmarks.metrics.vif import VIF

    return {
        "psnr_y": PSNR(name="psnr_y", color="y"),
        "ssim_y": SSIM(name="ssim_y", color_space="ycbcr"),
        "seam_grad": SeamGradient(),
        "ms_ssim": MSSSIM(),
        "gmsd": GMSD(),
        "fsim": FSIM(),
        "vif": VIF(),
    }


def time_metrics(sr: np.ndarray, hr: np.ndarray, faces: list[dict[str, Any]],
                 names: tuple[str, ...] = OFFLINE_FR) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """(wall seconds per metric and region, CPU seconds per metric) on one pair.

    CPU time (all threads) is reported next to wall time because the wall time of a shared
    machine depends on what else runs on it.
    """
    from benchmarks.regions import RegionExtractor

    t, c0 = time.perf_counter(), time.process_time()
    crops = list(RegionExtractor().crops(sr, hr, faces, ["full", "face", "face_aligned", "seam"]))
    out: dict[str, dict[str, float]] = {"(regions)": {"extract": time.perf_counter() - t}}
    cpu: dict[str, float] = {"(regions)": time.process_time() - c0}
    for name, metric in _metrics().items():
        if name not in names:
            continue
        metric.compute(sr[:256, :256], hr[:256, :256])  # warm-up: network/window set-up, imports
        out[name] = {}
        c0 = time.process_time()
        for crop in crops:
            if crop.region not in metric.regions:
                continue
            t = time.perf_counter()
            if crop.mask is not None and not metric.supports_mask:
                metric.compute(np.where(crop.mask[..., None], crop.sr, crop.hr), crop.hr)
            elif crop.mask is not None:
                metric.compute(crop.sr, crop.hr, crop.mask)
            else:
                metric.compute(crop.sr, crop.hr)
            key = crop.region if crop.face_index < 0 else f"{crop.region}[{crop.face_index}]"
            out[name][key] = time.perf_counter() - t
        cpu[name] = time.process_time() - c0
    return out, cpu


def cached_rerun(sr: np.ndarray, hr: np.ndarray, faces: list[dict[str, Any]], lq: np.ndarray,
                 workdir: Path) -> dict[str, float]:
    """Wall time of a first and a fully cached benchmark run on a one-sample 4K dataset."""
    import hashlib
    import json as _json

    from benchmarks.methods.interpolation import BicubicMethod
    from benchmarks.metrics.identity import IdentitySimilarity
    from benchmarks.metrics.pixel import PSNR, SSIM
    from benchmarks.metrics.seam import SeamGradient
    from benchmarks.runner import BenchmarkRunner
    from portraitsr4k.dataset.schema import empty_row
    from portraitsr4k.dataset.writer import shard_name, write_shard
    from portraitsr4k.image_io import encode_png

    hr_png = encode_png(hr)
    row = empty_row()
    row.update(id=hashlib.sha256(hr_png).hexdigest()[:16], source="perf", hr=hr_png, hr_format="png",
               hr_width=hr.shape[1], hr_height=hr.shape[0], lq=encode_png(lq), lq_width=lq.shape[1],
               lq_height=lq.shape[0], scale=4, degradation=_json.dumps({"preset": "bicubic"}),
               degradation_preset="bicubic", degradation_seed=0, faces=faces, split="test")
    (workdir / "data" / "data").mkdir(parents=True)
    write_shard([row], workdir / "data" / "data" / shard_name("test", 0, 1))

    def run() -> float:
        metrics = [PSNR(name="psnr_y", color="y"), SSIM(name="ssim_y", color_space="ycbcr"), SeamGradient(),
                   IdentitySimilarity(model="dlib")]
        runner = BenchmarkRunner(out_dir=workdir / "out", dataset_path=workdir / "data", methods=[BicubicMethod()],
                                 metrics=metrics, progress=False)
        t = time.perf_counter()
        runner.run()
        return time.perf_counter() - t

    first, second = run(), run()
    return {"first_run_s": first, "cached_rerun_s": second, "ratio": second / first}


def gpu_learned(sr: np.ndarray, hr: np.ndarray) -> dict[str, Any]:
    """pairs/s and peak memory of lpips and dists at full 4K on CUDA (untiled), if possible."""
    import torch

    from benchmarks.metrics.base import MetricUnavailable
    from benchmarks.metrics.pyiqa_metric import PyiqaMetric

    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device"}
    out: dict[str, Any] = {}
    for name, weights in (("lpips", ["torchvision_alexnet", "pyiqa_lpips_alex"]),
                          ("dists", ["torchvision_vgg16", "pyiqa_dists"])):
        metric = PyiqaMetric(name=name, pyiqa_name=name, kind="fr", lower_better=True, weights=weights,
                             device="cuda")
        try:
            metric.check_available()
        except MetricUnavailable as err:
            out[name] = {"skipped": err.reason}
            continue
        metric.compute(sr, hr)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        t = time.perf_counter()
        for _ in range(3):
            metric.compute(sr, hr)
        torch.cuda.synchronize()
        out[name] = {"pairs_per_s": 3 / (time.perf_counter() - t),
                     "peak_gib": torch.cuda.max_memory_allocated() / 2**30}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--height", type=int, default=2160)
    parser.add_argument("--metrics", default=",".join(OFFLINE_FR),
                        help=f"comma-separated subset of {','.join(OFFLINE_FR)}")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import torch

    sr, hr, faces, lq = make_pair(args.width, args.height)
    names = tuple(n.strip() for n in args.metrics.split(",") if n.strip())
    unknown = [n for n in names if n not in OFFLINE_FR]
    if unknown:
        parser.error(f"unknown metrics {unknown}; choose from {OFFLINE_FR}")
    timings, cpu = time_metrics(sr, hr, faces, names)
    print(f"metric cost per {args.width}x{args.height} pair (CPU, torch threads={torch.get_num_threads()}), seconds:")
    regions = sorted({k for v in timings.values() for k in v})
    print(f"{'metric':<10}" + "".join(f"{r:>17}" for r in regions) + f"{'total':>10}{'cpu_s':>10}")
    totals = {}
    for name, per in timings.items():
        totals[name] = sum(per.values())
        print(f"{name:<10}" + "".join(f"{per[r]:>17.3f}" if r in per else f"{'-':>17}" for r in regions)
              + f"{totals[name]:>10.3f}{cpu[name]:>10.3f}")
    fast = sum(totals.get(m, 0.0) for m in ("(regions)", "psnr_y", "ssim_y", "seam_grad"))
    print(f"total wall of the metrics above: {sum(totals.values()):.2f} s; regions+psnr_y+ssim_y+seam_grad: {fast:.2f} s "
          f"(target for all offline FR metrics: < 2 s)")
    with tempfile.TemporaryDirectory(prefix="psr4k-perf-") as tmp:
        cache = cached_rerun(sr, hr, faces, lq, Path(tmp))
    print(f"benchmark run: first {cache['first_run_s']:.2f} s, cached rerun {cache['cached_rerun_s']:.3f} s "
          f"({100 * cache['ratio']:.1f}% of the first; target < 10%)")
    gpu = gpu_learned(sr, hr)
    print(f"GPU lpips/dists at 4K: {gpu}")
    print(f"load average during the run: {__import__('os').getloadavg()}")
    result = {"size": [args.width, args.height], "faces": len(faces), "timings_s": timings, "totals_s": totals,
              "cpu_s": cpu, "load_average": list(__import__("os").getloadavg()),
              "cached_rerun": cache, "gpu": gpu, "torch_threads": torch.get_num_threads()}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
