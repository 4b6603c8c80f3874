"""``portraitsr4k-weights``: list, locate and prefetch every weight file the project may load.

    portraitsr4k-weights list [--json]          table: name, present?, path, used by
    portraitsr4k-weights path NAME              print the resolved path (exit 1 when missing)
    portraitsr4k-weights fetch NAME... | --all  download into $PORTRAITSR4K_HOME/weights

Exit status: 0 success, 1 missing/failed, 2 bad usage (unknown name, no names given).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from portraitsr4k.weights import WEIGHTS, MissingWeightsError, WeightFile, by_name, resolve, weights_home
from portraitsr4k.weights.resolve import ChecksumError


def _status(entry: WeightFile) -> tuple[bool, str, str]:
    """(present?, resolved path or the first place it would go, checksum note); no hashing."""
    try:
        return True, str(resolve(entry, verify=False)), entry.checksum_note
    except MissingWeightsError as exc:
        return False, str(exc.searched[0] if exc.searched else ""), entry.checksum_note


def _cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for entry in WEIGHTS:
        present, path, note = _status(entry)
        rows.append({"name": entry.name, "present": present, "path": path,
                     "used_by": ", ".join(entry.used_by), "checksum": note, "licence": entry.licence,
                     "url": entry.url})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    headers = ("name", "present", "path", "used by")
    table = [(r["name"], "yes" if r["present"] else "no", r["path"], r["used_by"]) for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    have = sum(r["present"] for r in rows)
    print(f"\n{have}/{len(rows)} present; weights home: {weights_home()}")
    return 0


def _cmd_path(args: argparse.Namespace) -> int:
    try:
        print(resolve(args.name))
    except MissingWeightsError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ChecksumError as exc:
        print(f"checksum mismatch: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from portraitsr4k.weights.fetch import fetch_many

    if args.all == bool(args.names):
        print("fetch: give weight names or --all (not both)", file=sys.stderr)
        return 2
    names = [w.name for w in WEIGHTS if not w.manual] if args.all else list(args.names)
    for name in names:
        by_name(name)  # unknown names fail before any download
    results = fetch_many(names, force=args.force, mirror=args.mirror, timeout=args.timeout,
                         progress=not args.quiet)
    failed = 0
    for name, result in results.items():
        if isinstance(result, Exception):
            failed += 1
            print(f"FAILED {name}: {result}", file=sys.stderr)
        else:
            print(f"ok {name}: {result}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portraitsr4k-weights",
                                     description="List, locate and prefetch model weights.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="table of every weight file: present?, path, used by")
    p_list.add_argument("--json", action="store_true", help="machine-readable output")
    p_path = sub.add_parser("path", help="print where NAME is (exit 1 when missing)")
    p_path.add_argument("name")
    p_fetch = sub.add_parser("fetch", help="download weights into the weights home")
    p_fetch.add_argument("names", nargs="*", help="catalog names (see `list`)")
    p_fetch.add_argument("--all", action="store_true", help="every entry that has a direct download")
    p_fetch.add_argument("--force", action="store_true", help="download even when a copy exists")
    p_fetch.add_argument("--mirror", default=None,
                         help="base URL laid out like the weights home: <mirror>/<subdir>/<filename>")
    p_fetch.add_argument("--timeout", type=float, default=30.0, help="connect/read timeout in seconds")
    p_fetch.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "path":
            return _cmd_path(args)
        return _cmd_fetch(args)
    except KeyError as exc:
        print(exc.args[0] if exc.args else str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
