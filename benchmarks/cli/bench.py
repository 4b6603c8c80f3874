"""``portraitsr4k-bench``: thin Hydra app around :class:`benchmarks.runner.BenchmarkRunner`.

    portraitsr4k-bench dataset.path=/data/psr4k dataset.split=test methods=[bicubic,lanczos] \
        metrics=[psnr_y,ssim_y] out_dir=/runs/b1
    portraitsr4k-bench --multirun dataset.path=/data/psr4k methods=[bicubic],[lanczos] out_dir=/runs/b1

Writes ``outputs/``, ``records/``, ``leaderboard.{csv,md}``, ``report.html``, ``manifest.json``
into ``out_dir`` and prints the leaderboard.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

import benchmarks  # noqa: F401  (torchvision compat before pyiqa)

logger = logging.getLogger(__name__)


def _pick(group: DictConfig, names: list[str], what: str) -> list[DictConfig]:
    out = []
    for name in names:
        if name not in group:
            close = difflib.get_close_matches(str(name), list(group.keys()), n=3)
            hint = f" Did you mean {close}?" if close else ""
            raise ValueError(f"unknown {what} {name!r}.{hint} Available: {sorted(group.keys())}")
        out.append(group[name])
    return out


def run_bench(cfg: DictConfig) -> dict[str, Any]:
    """Run the benchmark described by a composed ``bench`` config; returns the run summary."""
    from hydra.utils import instantiate

    from benchmarks.leaderboard import to_markdown, write_leaderboard
    from benchmarks.manifest import build_manifest, write_manifest
    from benchmarks.regions import RegionExtractor
    from benchmarks.report import face_panels, write_report
    from benchmarks.runner import BenchmarkRunner

    if OmegaConf.is_missing(cfg.dataset, "path") or cfg.dataset.path is None:
        raise ValueError("set dataset.path=DIR (a dataset in the builder's layout)")
    protocol = instantiate(cfg.protocol)
    metric_names = list(cfg.metrics) if cfg.metrics is not None else list(protocol.metrics)
    if cfg.metrics is not None:
        outside = [m for m in metric_names if m not in protocol.metrics]
        if outside:
            logger.info("metrics %s are not part of protocol %s", outside, protocol.name)
    methods = [instantiate(c, device=cfg.device) for c in _pick(cfg.method, list(cfg.methods), "method")]
    metrics = [instantiate(c, device=cfg.device) for c in _pick(cfg.metric, metric_names, "metric")]
    regions = list(cfg.regions) if cfg.regions is not None else list(protocol.regions)
    extractor = RegionExtractor(**OmegaConf.to_container(cfg.regions_config, resolve=True))
    out_dir = Path(cfg.out_dir)
    runner = BenchmarkRunner(out_dir=out_dir, dataset_path=cfg.dataset.path, split=cfg.dataset.split,
                             dataset_name=cfg.dataset.name, methods=methods, metrics=metrics, regions=regions,
                             extractor=extractor, protocol=protocol, batch_size=int(cfg.batch_size),
                             limit=cfg.dataset.limit, progress=bool(cfg.progress))
    summary = runner.run()
    if not cfg.report.enabled:
        return summary.to_dict()
    board = write_leaderboard(out_dir)
    from portraitsr4k.dataset.reader import DatasetReader

    reader = DatasetReader(cfg.dataset.path, split=cfg.dataset.split)
    n = min(int(cfg.report.crops), len(reader))
    samples = [reader[i] for i in range(n)]
    outputs = {}
    for m in methods:
        by_id = {}
        for s in samples:
            sr = runner.cache.get(runner.dataset_name, m.name, m.config_hash(), s.id)
            if sr is not None:
                by_id[s.id] = sr
        outputs[m.name] = by_id
    manifest = build_manifest(
        config=OmegaConf.to_container(cfg, resolve=True), methods=methods, metrics=metrics, extractor=extractor,
        protocol=protocol, summary=summary.to_dict(), conflicts=summary.conflicts,
        dataset={"name": runner.dataset_name, "path": str(Path(cfg.dataset.path).resolve()),
                 "split": cfg.dataset.split, "samples": len(reader), "evaluated": runner.limit or len(reader)})
    write_manifest(out_dir, manifest)
    write_report(out_dir, board, face_panels(samples, outputs), manifest)
    print(to_markdown(board))
    print(f"records, leaderboard.csv/.md, report.html and manifest.json in {out_dir}")
    return summary.to_dict()


@hydra.main(version_base="1.3", config_path="pkg://portraitsr4k.conf", config_name="bench")
def main(cfg: DictConfig) -> None:
    run_bench(cfg)


if __name__ == "__main__":
    main()
