"""``manifest.json`` of a benchmark folder: versions, config, weight hashes, policies."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.methods.base import SRMethod
from benchmarks.metrics.base import Metric
from benchmarks.regions import RegionExtractor

__all__ = ["build_manifest", "write_manifest", "package_versions"]

_PACKAGES = ("portraitsr4k", "torch", "torchvision", "numpy", "pillow", "opencv-python-headless", "scipy",
             "pyiqa", "pyarrow", "pandas", "hydra-core", "dlib-bin", "facenet-pytorch", "insightface")


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _weights(method: SRMethod) -> dict[str, Any]:
    from portraitsr4k.weights import sha256_of

    out = {}
    for key, path in method.weight_files().items():
        p = Path(path)
        out[key] = {"path": str(p), "sha256": sha256_of(p) if p.is_file() else None,
                    "bytes": p.stat().st_size if p.is_file() else None}
    return out


def build_manifest(*, config: dict[str, Any], methods: list[SRMethod], metrics: list[Metric],
                   extractor: RegionExtractor, protocol: Any, summary: dict[str, Any],
                   dataset: dict[str, Any], conflicts: list[str]) -> dict[str, Any]:
    """Everything needed to reproduce or audit a run (JSON-serialisable)."""
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "config": config,
        "dataset": dataset,
        "protocol": None if protocol is None else {
            "name": protocol.name, "description": protocol.description, "metrics": protocol.metrics,
            "regions": protocol.regions, "psnr_convention": protocol.psnr_convention,
            "conventions": protocol.conventions},
        "methods": {m.name: {"class": f"{type(m).__module__}.{type(m).__qualname__}", "config": m.config(),
                             "config_hash": m.config_hash(), "weights": _weights(m)} for m in methods},
        "metrics": {m.name: m.info() for m in metrics},
        "regions": extractor.config(),
        "policies": {
            "hr_size": "HR cropped top-left to LQ*scale when not divisible by scale (BasicSR mod-crop)",
            "full_reference_pixel_metrics": "psnr/ssim exact in float64 over row tiles (SSIM halo 10 rows)",
            "learned_metrics": {m.name: m.config().get("policy") for m in metrics if "policy" in m.config()},
            "set_metrics": {m.name: m.config() for m in metrics if m.kind == "set"},
            "method_tiling": {m.name: {k: m.config()[k] for k in ("tile", "tile_pad") if k in m.config()}
                              for m in methods},
        },
        "convention_conflicts": conflicts,
        "last_run": summary,
    }


def write_manifest(out_dir: Path | str, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` atomically."""
    path = Path(out_dir) / "manifest.json"
    tmp = path.with_name(".manifest.json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)
    return path
