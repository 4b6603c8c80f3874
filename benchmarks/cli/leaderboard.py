"""``portraitsr4k-leaderboard OUT_DIR... [--out DIR]``: rebuild tables from records alone.

With several folders the records are merged (stale method configurations and repeated cells
resolved, see :func:`benchmarks.records.latest`) and the tables go to ``--out``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import benchmarks  # noqa: F401  (torchvision compat)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.leaderboard import to_markdown, write_leaderboard
    from benchmarks.report import write_report

    parser = argparse.ArgumentParser(prog="portraitsr4k-leaderboard", description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path, help="benchmark folders holding records/")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write leaderboard.{csv,md} and report.html (default: the only run folder)")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print the table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.out is None:
        if len(args.runs) > 1:
            parser.error("--out is required when merging several run folders")
        args.out = args.runs[0]
    for run in args.runs:
        if not (run / "records").is_dir():
            parser.error(f"{run} has no records/ folder")
    board = write_leaderboard(args.out, args.runs)
    write_report(args.out, board)
    if not args.quiet:
        print(to_markdown(board))
    return 0


if __name__ == "__main__":
    sys.exit(main())
