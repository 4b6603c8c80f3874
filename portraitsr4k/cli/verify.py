"""``portraitsr4k-verify OUT_DIR``: re-check a build's shards against its manifest.

Exits 0 when every check passes, 1 when any fails (each mismatch printed on its own line,
naming the shard), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from portraitsr4k.dataset.verify import verify_dataset


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="portraitsr4k-verify",
        description="Check every shard of a PortraitSR-4K build against manifest.json "
        "(sha256, sizes, row counts, schema, page CRCs, decodable images, no extra/missing files).",
    )
    parser.add_argument("out_dir", help="the build directory (holding manifest.json and data/)")
    parser.add_argument("--no-decode", action="store_true",
                        help="skip decoding every hr/lq image (sha256 and page CRCs are still checked)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    report = verify_dataset(args.out_dir, decode_images=not args.no_decode, progress=not args.quiet)
    for problem in report.problems:
        print(f"FAIL {problem}", file=sys.stderr)
    summary = (f"{report.shards_checked} shards, {report.rows_checked} rows, "
               f"{report.images_decoded} images decoded")
    if report.ok:
        print(f"OK {args.out_dir}: {summary}")
        return 0
    print(f"FAILED {args.out_dir}: {len(report.problems)} problem(s); {summary}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
