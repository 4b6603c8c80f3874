"""Time probe/decode on a generated 12 MP (or any size) JPEG against plain Pillow.

Run: ``python -m portraitsr4k.image_io.timing [--height 3000 --width 4000 --repeats 7
--blocks-max 0] [--encode]``. Prints one table: median wall and CPU milliseconds per call;
``--encode`` adds PNG encoders (Pillow level 1 and 6, :func:`encode_png`) with output sizes. The image is
synthetic and photo-like (smooth colour field + sigma-4 sensor noise, JPEG q92 4:2:0, about
2 bits per pixel, like a phone photo), made from a seeded generator, so runs are comparable.

``--blocks-max N`` calls ``Image.core.set_blocks_max(N)`` for the run (Pillow then reuses up to
N freed 16 MiB blocks instead of asking the OS for fresh pages on every decode; reference B1
measured 82 -> 48 ms for a 12 MP decode). It is a process-wide setting, so the library never
changes it; an entry point that decodes many images may.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import numpy as np
from PIL import Image

from portraitsr4k.image_io.decode import decode
from portraitsr4k.image_io.encode import encode_png
from portraitsr4k.image_io.probe import probe

__all__ = ["main", "run", "run_encode", "synthetic_jpeg", "time_call"]


def synthetic_jpeg(height: int, width: int, *, seed: int = 0, quality: int = 92) -> bytes:
    """Photo-like ``height x width`` JPEG bytes (q``quality``, 4:2:0) from a seeded generator."""
    rng = np.random.default_rng(seed)
    coarse = (rng.random((max(2, height // 64), max(2, width // 64), 3)) * 255).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((width, height), Image.BICUBIC), dtype=np.float32)
    noisy = np.clip(smooth + rng.normal(0.0, 4.0, smooth.shape).astype(np.float32), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, format="JPEG", quality=quality, subsampling="4:2:0")
    return buffer.getvalue()


def time_call(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median (wall ms, process-CPU ms) of ``repeats`` calls after one warm-up call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _pillow_full(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return np.asarray(image)  # read-only view of tobytes(); decode returns a writeable copy


def _pillow_draft(data: bytes, factor: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (image.width // factor, image.height // factor))
        image.load()
        return np.asarray(image)


def _pillow_header(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def run(height: int, width: int, repeats: int) -> list[tuple[str, float, float]]:
    """Rows ``(label, wall_ms, cpu_ms)`` for every measured operation."""
    data = synthetic_jpeg(height, width)
    rows = [
        ("Pillow Image.open (header only)", *time_call(lambda: _pillow_header(data), repeats)),
        ("image_io.probe", *time_call(lambda: probe(data), repeats)),
        ("Pillow open+load+asarray (full)", *time_call(lambda: _pillow_full(data), repeats)),
        ("image_io.decode (full)", *time_call(lambda: decode(data), repeats)),
    ]
    for factor in (2, 4, 8):
        rows.append(
            (f"Pillow draft 1/{factor}+asarray", *time_call(lambda f=factor: _pillow_draft(data, f), repeats))
        )
        rows.append(
            (f"image_io.decode reduce={factor}", *time_call(lambda f=factor: decode(data, reduce=f), repeats))
        )
    return rows


def _pillow_png(rgb: np.ndarray, level: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


def run_encode(height: int, width: int, repeats: int) -> list[tuple[str, float, float]]:
    """Rows ``(label with output MB, wall_ms, cpu_ms)`` for PNG encoders of a decoded frame."""
    decoded = decode(synthetic_jpeg(height, width))
    if decoded.rgb is None:
        raise RuntimeError(f"the synthetic JPEG did not decode: {decoded.status}: {decoded.message}")
    rgb = decoded.rgb
    encoders: list[tuple[str, Callable[[], bytes]]] = [
        ("Pillow PNG level 1", lambda: _pillow_png(rgb, 1)),
        ("Pillow PNG level 6", lambda: _pillow_png(rgb, 6)),
        ("image_io.encode_png level 1", lambda: encode_png(rgb, compress_level=1)),
    ]
    rows = []
    for label, fn in encoders:
        megabytes = len(fn()) / 1e6
        rows.append((f"{label} ({megabytes:.2f} MB)", *time_call(fn, repeats)))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (prints the table)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--blocks-max", type=int, default=0)
    parser.add_argument("--encode", action="store_true", help="also time PNG encoders")
    args = parser.parse_args(argv)
    previous = Image.core.get_blocks_max()
    Image.core.set_blocks_max(args.blocks_max)
    try:
        rows = run(args.height, args.width, args.repeats)
        if args.encode:
            rows += run_encode(args.height, args.width, args.repeats)
    finally:
        Image.core.set_blocks_max(previous)
    size = len(synthetic_jpeg(args.height, args.width))
    print(
        f"{args.width}x{args.height} JPEG, {size / 1e6:.2f} MB, blocks_max={args.blocks_max}, "
        f"median of {args.repeats}"
    )
    print(f"{'operation':<44} {'wall ms':>9} {'cpu ms':>9}")
    for label, wall, cpu in rows:
        print(f"{label:<44} {wall:9.1f} {cpu:9.1f}")


if __name__ == "__main__":
    main()
