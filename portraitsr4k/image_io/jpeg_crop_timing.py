"""Time the two ways the builder stores a cropped HR window: lossless JPEG crop vs PNG.

Run: ``python -m portraitsr4k.image_io.jpeg_crop_timing [--height 3000 --width 4000
--crop-width 3840 --crop-height 2160 --repeats 5]``. The source is
:func:`portraitsr4k.image_io.timing.synthetic_jpeg` (seeded, photo-like, q92 4:2:0); the window
sits at an iMCU-aligned offset near the centre. One thread (OpenCV is set to 1), median wall and
process-CPU milliseconds after one warm-up call, and the output size of each route. The rows
are what each builder route costs *beyond* the full decode both of them need first:

- ``jpeg_crop``: :func:`~portraitsr4k.image_io.lossless_jpeg_crop` (optimised and plain
  Huffman tables), plus decoding the crop (the LQ is degraded from the crop's own pixels);
- ``png``: :func:`~portraitsr4k.image_io.encode_png` level 1 of the decoded window.
"""

from __future__ import annotations

import argparse

from portraitsr4k.image_io.decode import decode
from portraitsr4k.image_io.encode import encode_png
from portraitsr4k.image_io.jpeg_crop import jpeg_imcu_size, lossless_jpeg_crop
from portraitsr4k.image_io.timing import synthetic_jpeg, time_call

__all__ = ["main", "run"]


def run(height: int, width: int, crop_height: int, crop_width: int,
        repeats: int) -> tuple[str, list[tuple[str, float, float, int]]]:
    """A header line and rows ``(label, wall_ms, cpu_ms, output_bytes)``."""
    import cv2

    if crop_width > width or crop_height > height:
        raise ValueError(f"the {crop_width}x{crop_height} window does not fit a {width}x{height} photo")
    data = synthetic_jpeg(height, width)
    imcu_w, imcu_h = jpeg_imcu_size(data)
    x0 = (width - crop_width) // 2 // imcu_w * imcu_w
    y0 = (height - crop_height) // 2 // imcu_h * imcu_h
    decoded = decode(data)
    if not decoded.ok:
        raise RuntimeError(f"the synthetic JPEG did not decode: {decoded.status}: {decoded.message}")
    window = decoded.rgb[y0:y0 + crop_height, x0:x0 + crop_width]
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    def crop(optimize: bool) -> bytes:
        return lossless_jpeg_crop(data, x0, y0, crop_width, crop_height, optimize=optimize)

    def png() -> bytes:
        return encode_png(window, compress_level=1)

    try:
        cropped = crop(True)
        rows = [
            ("image_io.decode of the source (both routes)", *time_call(lambda: decode(data), repeats), 0),
            ("lossless_jpeg_crop, optimised Huffman", *time_call(lambda: crop(True), repeats), len(cropped)),
            ("lossless_jpeg_crop, plain Huffman", *time_call(lambda: crop(False), repeats), len(crop(False))),
            ("image_io.decode of the crop", *time_call(lambda: decode(cropped), repeats), 0),
            ("encode_png level 1 of the window", *time_call(png, repeats), len(png())),
        ]
    finally:
        cv2.setNumThreads(threads)
    header = (f"{width}x{height} q92 4:2:0 JPEG ({len(data) / 1e6:.2f} MB) -> {crop_width}x{crop_height} "
              f"window at ({x0}, {y0}), median of {repeats}, 1 thread")
    return header, rows


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (prints the table)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--crop-height", type=int, default=2160)
    parser.add_argument("--crop-width", type=int, default=3840)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    header, rows = run(args.height, args.width, args.crop_height, args.crop_width, args.repeats)
    print(header)
    print(f"{'operation':<46} {'wall ms':>9} {'cpu ms':>9} {'MB':>7}")
    for label, wall, cpu, size in rows:
        print(f"{label:<46} {wall:9.1f} {cpu:9.1f} {size / 1e6 if size else float('nan'):7.2f}")


if __name__ == "__main__":
    main()
