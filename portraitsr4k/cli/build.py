"""``portraitsr4k-build``: build PortraitSR-4K from photos (Hydra app, ``conf/build.yaml``).

    portraitsr4k-build source=folder source.path=/photos out_dir=/data/psr4k executor=local workers=2
    portraitsr4k-build source=demo out_dir=demo_out/dataset

Exit status: 0 on success, 1 when the build aborts on purpose (error share above
``max_error_share``, disk full: rerun to resume), 2 when another build holds ``out_dir``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

logger = logging.getLogger("portraitsr4k.cli.build")


@hydra.main(version_base="1.3", config_path="pkg://portraitsr4k.conf", config_name="build")
def main(cfg: DictConfig) -> None:
    from portraitsr4k.build.from_config import builder_from_config
    from portraitsr4k.build.lock import BuildLockedError
    from portraitsr4k.build.runner import BuildError
    from portraitsr4k.dataset.writer import atomic_write_bytes

    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # The resolved config beside the data (Hydra's own copy in .hydra_runs/ keeps interpolations).
    atomic_write_bytes(out_dir / "build_config.yaml", OmegaConf.to_yaml(cfg, resolve=True).encode("utf-8"))
    try:
        summary = builder_from_config(cfg).run()
    except BuildLockedError as exc:
        logger.error("%s", exc)
        print(f"portraitsr4k-build: {exc}", file=sys.stderr)
        sys.exit(2)
    except BuildError as exc:
        logger.error("%s", exc)
        print(f"portraitsr4k-build: build aborted: {exc}", file=sys.stderr)
        sys.exit(1)
    print(summary.table())
    for split, files in summary.shards.items():
        print(f"{split}: {len(files)} files, {summary.pairs.get(split, 0)} reference pairs")
    print(f"output: {out_dir.resolve()}")


if __name__ == "__main__":
    main()
