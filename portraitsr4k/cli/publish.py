"""``portraitsr4k-publish OUT_DIR repo_id=owner/name [dry_run=true]`` (Hydra app, ``conf/publish.yaml``).

Exit status: 0 after an upload or a dry run; 1 when the build fails verification, has no card,
or a real upload is impossible (offline, no network, no permission); in the last case the
plan and the card are printed first so the user sees exactly what would have been sent.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Sequence

import hydra
from omegaconf import DictConfig

logger = logging.getLogger(__name__)

_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_./~+-]+$")


def run(cfg: DictConfig) -> int:
    """Publish (or dry-run) the build ``cfg.out_dir``; returns the process exit status."""
    from portraitsr4k.dataset.publish import PublishError, format_plan, hub_offline, prepare_publish, upload

    if not cfg.dry_run and not cfg.repo_id:
        print("portraitsr4k-publish: repo_id=owner/name is required unless dry_run=true", file=sys.stderr)
        return 2
    try:
        plan = prepare_publish(cfg.out_dir, decode_images=bool(cfg.verify_decode))
    except PublishError as exc:
        print(f"portraitsr4k-publish: {exc}", file=sys.stderr)
        return 1
    target = f"dataset repo {cfg.repo_id}" if cfg.repo_id else "a dataset repo (no repo_id given)"
    offline = hub_offline()
    header = "DRY RUN" if cfg.dry_run else ("OFFLINE" if offline else "UPLOAD")
    print(f"{header}: would upload to {target}:" if cfg.dry_run or offline else f"{header}: uploading to {target}:")
    print(format_plan(plan))
    if cfg.dry_run or offline:
        print(f"\n----- {plan.out_dir / 'README.md'} -----\n{plan.card}")
    if cfg.dry_run:
        return 0
    try:
        url = upload(plan, cfg.repo_id, private=cfg.private, revision=cfg.revision)
    except (PublishError, ValueError) as exc:
        print(f"portraitsr4k-publish: {exc}", file=sys.stderr)
        return 1
    print(f"published: {url}")
    return 0


@hydra.main(version_base="1.3", config_path="pkg://portraitsr4k.conf", config_name="publish")
def _main(cfg: DictConfig) -> None:
    status = run(cfg)
    if status:
        sys.exit(status)


def _positional_to_override(argv: Sequence[str]) -> list[str]:
    """Turn a leading ``OUT_DIR`` argument into the Hydra override ``out_dir=...``."""
    args = list(argv)
    if args and not args[0].startswith("-") and "=" not in args[0]:
        value = args[0]
        if not _PLAIN_VALUE.match(value):
            value = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        args[0] = f"out_dir={value}"
    return args


def main() -> None:
    """Console entry point: ``portraitsr4k-publish OUT_DIR key=value ...``."""
    sys.argv = [sys.argv[0], *_positional_to_override(sys.argv[1:])]
    _main()


if __name__ == "__main__":
    main()
