"""Speed of the PortraitSR-4K builder against a naive reference pipeline, in the same run.

    python -m benchmarks.perf.build_speed --accepted 8 --rejects 12 --workers 2 --out /tmp/build_speed

Generates 12 MP (4000x3000) JPEG photos (q92, 4:2:0): ``accepted`` ones with a shipped portrait
pasted in, scaled up so its interocular distance is well above 64 px, over a textured
background; and ``rejects``: a third too small (1600x1200), a third with the wrong aspect
(4000x1500), a third with no face. Then it times, on the same folders and worker count:

- the builder (``conf/build.yaml`` composed with ``source=folder``: header gate, draft decode +
  MTCNN, texture, dlib embeddings, pHash, source-byte HR, ``realesrgan`` degradation, PNG LQ,
  Parquet shards, status, card);
- a naive pipeline: full decode of every file, size check on the decoded array, MTCNN on a
  1280 px copy (min face 20 px), a basicsr degradation, HR re-encoded as PNG level 6 and LQ as
  PNG, in a process pool of the same size. ``--naive-degradation`` picks the basicsr degradation:
  ``first_order`` (default; ``random_mixed_kernels`` + ``cv2.filter2D`` at full resolution,
  area resize, Gaussian noise, JPEG: far *less* work than the builder's preset, so a strong
  baseline) or ``realesrgan`` (the same recipe as the builder's default preset, through basicsr's
  ``RealESRGANModel.feed_data`` pipeline of ``degradations_speed``: like for like, but ~2 min per
  12 MP photo on one core, so ``--naive-accepted`` limits how many accepted photos it runs and the
  speed-up is then taken from steady-state rates).

Reported: rejects/s and accepted samples/s (wall time of each build, worker start-up included),
the speed-up over the naive pipeline, and the peak RSS per worker (``ru_maxrss`` of each worker
process). Targets on the 2-core box (issue 3): rejects >= 15/s, accepted >= 1.5/s, >= 5x naive,
peak RSS <= 2.5 GB per worker.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import resource
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

logger = logging.getLogger("benchmarks.perf.build_speed")

WIDTH, HEIGHT = 4000, 3000
PORTRAITS = ("grace_hopper", "astronaut")


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Textured photo-like background: coarse colour field + mid and fine random fields + grain."""
    import cv2

    coarse = rng.uniform(40, 215, size=(max(2, height // 400), max(2, width // 400), 3)).astype(np.float32)
    mid = rng.normal(0, 28, size=(max(2, height // 12), max(2, width // 12), 3)).astype(np.float32)
    fine = rng.normal(0, 30, size=(max(2, height // 4), max(2, width // 4), 3)).astype(np.float32)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    image += cv2.resize(mid, (width, height), interpolation=cv2.INTER_CUBIC)
    # Texture at a few-pixel scale survives JPEG and the DCT-domain reduced decode, so the
    # 4KLSDB texture filter sees a photo, not a flat wall.
    image += cv2.resize(fine, (width, height), interpolation=cv2.INTER_CUBIC)
    image += rng.normal(0, 6, size=(height, width, 1)).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def _paste_portrait(canvas: np.ndarray, rng: np.random.Generator, index: int) -> None:
    from portraitsr4k.sample_photos import locate

    portrait = Image.open(locate(PORTRAITS[index % len(PORTRAITS)])).convert("RGB")
    scale = float(rng.uniform(2.2, 3.0))  # grace: 88 px eyes -> ~190-260 px; astronaut: 42 -> ~90-125
    portrait = portrait.resize((int(portrait.width * scale), int(portrait.height * scale)), Image.BICUBIC)
    h, w = portrait.height, portrait.width
    y = int(rng.integers(0, canvas.shape[0] - h))
    x = int(rng.integers(0, canvas.shape[1] - w))
    canvas[y:y + h, x:x + w] = np.asarray(portrait)


def make_photos(folder: Path, *, accepted: int, rejects: int, seed: int = 0) -> dict[str, Path]:
    """Write the accepted photos to ``folder/accept`` and the rejects to ``folder/reject``."""
    rng = np.random.default_rng(seed)
    shutil.rmtree(folder, ignore_errors=True)
    accept_dir, reject_dir = folder / "accept", folder / "reject"
    for d in (accept_dir, reject_dir):
        d.mkdir(parents=True, exist_ok=True)
    for i in range(accepted):
        canvas = _background(rng, HEIGHT, WIDTH)
        _paste_portrait(canvas, rng, i)
        Image.fromarray(canvas).save(accept_dir / f"face_{i:03d}.jpg", quality=92)
    # Three distinct rejects, then copies: a reject costs the same whatever its pixels, and
    # copies keep generation time out of the way of a large enough N.
    originals = {}
    for kind, (h, w) in (("small", (1200, 1600)), ("aspect", (1500, WIDTH)), ("noface", (HEIGHT, WIDTH))):
        originals[kind] = reject_dir / f"{kind}_000.jpg"
        Image.fromarray(_background(rng, h, w)).save(originals[kind], quality=92)
    kinds = tuple(originals)
    for i in range(3, rejects):
        kind = kinds[i % 3]
        shutil.copyfile(originals[kind], reject_dir / f"{kind}_{i:03d}.jpg")
    return {"accept": accept_dir, "reject": reject_dir}


# --- the builder ---------------------------------------------------------------------------------
def run_builder(source_dir: Path, out_dir: Path, workers: int, overrides: tuple[str, ...] = ()) -> dict[str, Any]:
    from hydra import compose, initialize_config_module

    from portraitsr4k.build.from_config import builder_from_config

    shutil.rmtree(out_dir, ignore_errors=True)
    with initialize_config_module(config_module="portraitsr4k.conf", version_base="1.3"):
        cfg = compose("build", overrides=["source=folder", f"source.path={source_dir}", f"out_dir={out_dir}",
                                          f"workers={workers}", *overrides])
    start = time.perf_counter()
    summary = builder_from_config(cfg).run()
    seconds = time.perf_counter() - start
    statuses: dict[str, int] = {}
    for record in summary.records:
        statuses[record.status] = statuses.get(record.status, 0) + 1
    hr_formats: dict[str, int] = {}
    import pyarrow.parquet as pq

    for shard in (out_dir / "data").glob("*.parquet"):
        for fmt in pq.read_table(shard, columns=["hr_format"]).column("hr_format").to_pylist():
            hr_formats[fmt] = hr_formats.get(fmt, 0) + 1
    per_sample = [sum(r.timings.values()) for r in summary.records]
    return {"seconds": seconds, "statuses": statuses, "hr_formats": hr_formats,
            "mean_sample_seconds": float(np.mean(per_sample)) if per_sample else 0.0,
            "peak_rss_mb_per_worker": max((r.peak_rss_mb for r in summary.records), default=0.0)}


# --- the naive reference --------------------------------------------------------------------------
_NAIVE: dict[str, Any] = {}


def _naive_init(degradation: str) -> None:
    import torch

    from portraitsr4k.faces import build_detector

    torch.set_num_threads(1)
    _NAIVE["detector"] = build_detector("mtcnn", min_score=0.95)
    _NAIVE["degradation"] = degradation
    if degradation == "realesrgan":
        from benchmarks.perf.degradation_speed import BasicsrPipeline

        _NAIVE["basicsr"] = BasicsrPipeline()


def _naive_one(args: tuple[str, str, int]) -> tuple[str, float, float]:
    start = time.perf_counter()
    status, rss = _naive_sample(args)
    return status, rss, time.perf_counter() - start


def _naive_sample(args: tuple[str, str, int]) -> tuple[str, float]:
    """Full decode -> size gate -> detect -> basicsr degradation -> PNG 6 HR + PNG LQ."""
    import cv2

    path, out_dir, seed = args
    np.random.seed(seed)  # basicsr draws from the global NumPy RNG
    rgb = np.asarray(Image.open(path).convert("RGB"))
    height, width = rgb.shape[:2]
    if width * height < 3840 * 2160 or max(width, height) < 3840 or not 0.6 <= width / height <= 1.6:
        return "rejected", _rss_mb()
    factor = 1280 / max(width, height)
    small = cv2.resize(rgb, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA)
    faces = [f for f in _NAIVE["detector"].detect(small) if f.interocular / factor >= 64]
    if not faces:
        return "rejected", _rss_mb()
    if _NAIVE["degradation"] == "realesrgan":
        lq = _naive_realesrgan(rgb, seed)
    else:
        lq = _naive_first_order(rgb, seed)
    name = Path(path).stem
    Image.fromarray(rgb).save(Path(out_dir) / f"{name}_hr.png", compress_level=6)
    Image.fromarray(lq).save(Path(out_dir) / f"{name}_lq.png", compress_level=1)
    return "ok", _rss_mb()


def _naive_realesrgan(rgb: np.ndarray, seed: int) -> np.ndarray:
    """basicsr's Real-ESRGAN x4plus pipeline (USM, two orders, final sinc/JPEG) on the full frame."""
    import random

    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    height, width = rgb.shape[:2]
    hr = torch.from_numpy(rgb[: height - height % 4, : width - width % 4]).permute(2, 0, 1)[None].float() / 255.0
    lq = _NAIVE["basicsr"](hr)[0]
    return (lq.clamp(0, 1) * 255.0).round().byte().permute(1, 2, 0).numpy()


def _naive_first_order(rgb: np.ndarray, seed: int) -> np.ndarray:
    """basicsr's first-order degradation helpers on the full frame (seeded global RNG)."""
    import cv2
    from basicsr.data.degradations import add_jpg_compression, random_add_gaussian_noise, random_mixed_kernels

    height, width = rgb.shape[:2]
    kernel = random_mixed_kernels(
        ["iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso"],
        [0.45, 0.25, 0.12, 0.03, 0.12, 0.03], 21, [0.2, 3.0], [0.2, 3.0], [-np.pi, np.pi], [0.5, 4.0], [1, 2])
    image = rgb.astype(np.float32) / 255.0
    image = cv2.filter2D(image, -1, kernel)
    image = cv2.resize(image, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
    image = random_add_gaussian_noise(image, sigma_range=(1, 30), clip=True, rounds=False, gray_prob=0.4)
    # basicsr's random_add_jpg_compression passes a float quality, which OpenCV 4.14 refuses.
    image = add_jpg_compression(image, quality=int(np.random.randint(30, 96)))
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_naive(source_dir: Path, out_dir: Path, workers: int, degradation: str = "first_order",
              limit: int | None = None) -> dict[str, Any]:
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    paths = sorted(str(p) for p in source_dir.iterdir())[:limit]
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_naive_init,
                                                   initargs=(degradation,)) as pool:
        results = pool.map(_naive_one, [(p, str(out_dir), i) for i, p in enumerate(paths)], chunksize=1)
    seconds = time.perf_counter() - start
    statuses: dict[str, int] = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    return {"seconds": seconds, "statuses": statuses,
            "mean_sample_seconds": float(np.mean([t for _, _, t in results])) if results else 0.0,
            "peak_rss_mb_per_worker": max((rss for _, rss, _ in results), default=0.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accepted", type=int, default=16, help="photos with a face (default 16)")
    parser.add_argument("--rejects", type=int, default=90,
                        help="photos to reject, a third each too small / wrong aspect / no face (default 90)")
    parser.add_argument("--naive-degradation", choices=("first_order", "realesrgan"), default="first_order",
                        help="basicsr degradation of the naive pipeline (see the module docstring)")
    parser.add_argument("--naive-accepted", type=int, default=None,
                        help="run the naive pipeline on only this many accepted photos")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/tmp/portraitsr4k_build_speed"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--override", action="append", default=[],
                        help="extra Hydra override for the builder, e.g. detector.min_face_size=32")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    folders = make_photos(args.out / "photos", accepted=args.accepted, rejects=args.rejects, seed=args.seed)
    print(f"generated {args.accepted} + {args.rejects} photos of {WIDTH}x{HEIGHT} in "
          f"{time.perf_counter() - start:.1f} s")

    report: dict[str, Any] = {"workers": args.workers, "accepted_inputs": args.accepted, "reject_inputs": args.rejects}
    report["builder_overrides"] = list(args.override)
    report["naive_degradation"] = args.naive_degradation
    runners = (("builder", lambda *a: run_builder(*a, overrides=tuple(args.override))),
               ("naive", lambda *a: run_naive(*a, degradation=args.naive_degradation)))
    for name, runner in runners:
        rejects = runner(folders["reject"], args.out / f"{name}_rejects", args.workers)
        if name == "naive" and args.naive_accepted is not None:
            accepts = run_naive(folders["accept"], args.out / f"{name}_accepts", args.workers,
                                degradation=args.naive_degradation, limit=args.naive_accepted)
        else:
            accepts = runner(folders["accept"], args.out / f"{name}_accepts", args.workers)
        n_rejected = sum(v for k, v in rejects["statuses"].items() if k.startswith("rejected"))
        n_ok = accepts["statuses"].get("ok", 0)
        report[name] = {
            "rejects_per_s": n_rejected / rejects["seconds"], "reject_seconds": rejects["seconds"],
            "reject_statuses": rejects["statuses"],
            "accepted_per_s": n_ok / accepts["seconds"], "accept_seconds": accepts["seconds"],
            "accept_statuses": accepts["statuses"], "hr_formats": accepts.get("hr_formats", {}),
            # Steady state: workers / mean seconds per sample (no pool start, no shard writing).
            "steady_rejects_per_s": args.workers / max(rejects["mean_sample_seconds"], 1e-9),
            "steady_accepted_per_s": args.workers / max(accepts["mean_sample_seconds"], 1e-9),
            "peak_rss_mb_per_worker": max(rejects["peak_rss_mb_per_worker"], accepts["peak_rss_mb_per_worker"]),
        }
    builder, naive = report["builder"], report["naive"]
    report["speedup_accepted"] = builder["accepted_per_s"] / max(naive["accepted_per_s"], 1e-9)
    report["speedup_rejects"] = builder["rejects_per_s"] / max(naive["rejects_per_s"], 1e-9)
    report["speedup_accepted_steady"] = builder["steady_accepted_per_s"] / max(naive["steady_accepted_per_s"], 1e-9)
    print(json.dumps(report, indent=2, sort_keys=True))
    print(f"\n{'pipeline':<8}  {'rejects/s':>9}  {'accepted/s':>10}  {'steady rej/s':>12}  {'steady acc/s':>12}"
          f"  {'peak RSS/worker':>15}")
    for name in ("builder", "naive"):
        r = report[name]
        print(f"{name:<8}  {r['rejects_per_s']:>9.2f}  {r['accepted_per_s']:>10.2f}  {r['steady_rejects_per_s']:>12.2f}"
              f"  {r['steady_accepted_per_s']:>12.2f}  {r['peak_rss_mb_per_worker']:>12.0f} MB")
    print(f"speed-up: accepted x{report['speedup_accepted']:.1f}, rejects x{report['speedup_rejects']:.1f} "
          f"(wall time incl. worker start-up, {args.workers} workers); steady-state accepted "
          f"x{report['speedup_accepted_steady']:.1f}; naive degradation: {args.naive_degradation}")


if __name__ == "__main__":
    main()
