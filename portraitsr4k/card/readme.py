"""The ``README.md`` dataset card of a PortraitSR-4K build, with histogram PNGs beside it.

The YAML front matter declares the configs the Hub and ``datasets.load_dataset(out_dir)`` use:
``default`` (``data/<split>-*``, HR/LQ pairs) and ``pairs`` (``pairs/<split>-*``, same-person
reference pairs), so loading needs no extra arguments. The body lists counts per split and
per source, the licences found in the rows, the histograms (face size as interocular distance
in HR pixels, texture / learned quality scores, drawn degradation parameters), the manifest
summary and the exact build config. Nothing time-dependent is written: a rebuild gives the
same card and the same PNG bytes.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from portraitsr4k.card.figures import write_histogram
from portraitsr4k.dataset.manifest import Manifest, config_to_container, read_manifest
from portraitsr4k.dataset.reader import DatasetReader
from portraitsr4k.dataset.writer import atomic_write_bytes

logger = logging.getLogger(__name__)

CARD_NAME = "README.md"
FIGURE_NAMES = {"faces": "card_face_size.png", "quality": "card_quality.png", "degradation": "card_degradation.png"}

#: Licence identifiers the Hub accepts in the ``license`` metadata field (the subset photo
#: sources use); anything else is listed in the card body under ``license: other``.
HUB_LICENSES = {
    "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc-by-2.0",
    "cc-by-3.0", "cc-by-sa-3.0", "cc-by-nc-2.0", "cc-by-nc-3.0", "mit", "apache-2.0",
    "bsd-3-clause", "bsd-2-clause", "unlicense", "pddl", "odc-by", "cdla-permissive-2.0",
}
_DEGRADATION_KEYWORDS = ("sigma", "noise", "quality", "jpeg", "strength", "scale")
_MAX_DEGRADATION_PANELS = 9


@dataclass
class CardStats:
    """Per-build statistics gathered from the shards' metadata columns (images are not read)."""

    rows: dict[str, int] = field(default_factory=dict)
    sources: Counter = field(default_factory=Counter)
    licenses: Counter = field(default_factory=Counter)  # (source kind, licence) -> rows
    interocular: list[float] = field(default_factory=list)
    faces_per_image: list[float] = field(default_factory=list)
    quality: dict[str, list[float]] = field(default_factory=dict)
    degradation: dict[str, list[float]] = field(default_factory=dict)
    presets: Counter = field(default_factory=Counter)
    identities: set = field(default_factory=set)


def _numeric_leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Dotted paths of the scalar numbers in a parsed degradation record (lists are skipped:
    they hold kernels and ranges, not one drawn strength)."""
    if isinstance(value, Mapping):
        for key in sorted(value):
            yield from _numeric_leaves(value[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix, float(value)


def collect_stats(out_dir: Path | str) -> CardStats:
    """Read the non-image columns of every ``data/`` split of ``out_dir`` into :class:`CardStats`."""
    stats = CardStats()
    for split in DatasetReader.splits(out_dir):
        reader = DatasetReader(out_dir, split=split)
        stats.rows[split] = len(reader)
        columns = ["source", "license", "faces", "laplacian_var", "flat_patch_ratio", "iqa",
                   "degradation", "degradation_preset", "identity"]
        for row in reader.iter_columns(columns):
            kind = (row["source"] or "unknown").split(":", 1)[0]
            stats.sources[kind] += 1
            stats.licenses[(kind, row["license"] or "unknown")] += 1
            faces = row["faces"] or []
            stats.faces_per_image.append(float(len(faces)))
            stats.interocular += [float(f["interocular"]) for f in faces if f.get("interocular") is not None]
            for name in ("laplacian_var", "flat_patch_ratio"):
                if row[name] is not None:
                    stats.quality.setdefault(name, []).append(float(row[name]))
            for item in row["iqa"] or []:
                stats.quality.setdefault(f"iqa:{item['name']}", []).append(float(item["value"]))
            if row["degradation"]:
                for path, number in _numeric_leaves(json.loads(row["degradation"])):
                    if "seed" not in path:
                        stats.degradation.setdefault(path, []).append(number)
            stats.presets[row["degradation_preset"] or "none"] += 1
            if row["identity"] is not None and row["identity"] >= 0:
                stats.identities.add(int(row["identity"]))
    return stats


def degradation_panels(values: Mapping[str, list[float]]) -> dict[str, list[float]]:
    """The drawn degradation parameters worth a histogram: those that vary across rows,
    strength-like names (sigma, noise, JPEG quality, scale) first, at most nine."""
    varying = {k: v for k, v in values.items() if len(set(v)) > 1}
    ranked = sorted(varying, key=lambda k: (not any(w in k.lower() for w in _DEGRADATION_KEYWORDS), k))
    return {k: varying[k] for k in ranked[:_MAX_DEGRADATION_PANELS]}


def render_figures(out_dir: Path, stats: CardStats) -> dict[str, str]:
    """Write the card PNGs that have data; returns {figure kind: file name}."""
    written: dict[str, str] = {}
    if stats.interocular:
        write_histogram(out_dir / FIGURE_NAMES["faces"],
                        {"interocular distance": stats.interocular, "faces per image": stats.faces_per_image},
                        title="Face size (HR pixels)",
                        xlabels={"interocular distance": "px", "faces per image": "faces"})
        written["faces"] = FIGURE_NAMES["faces"]
    quality = {k: v for k, v in sorted(stats.quality.items()) if any(math.isfinite(x) for x in v)}
    if quality:
        write_histogram(out_dir / FIGURE_NAMES["quality"], quality, title="Quality scores")
        written["quality"] = FIGURE_NAMES["quality"]
    panels = degradation_panels(stats.degradation)
    if panels:
        write_histogram(out_dir / FIGURE_NAMES["degradation"], panels, title="Drawn degradation parameters")
        written["degradation"] = FIGURE_NAMES["degradation"]
    for kind, name in FIGURE_NAMES.items():
        if kind not in written:  # a stale figure from an earlier build must not be published
            (out_dir / name).unlink(missing_ok=True)
    return written


def _size_category(total: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M")):
        if total < limit:
            return label
    return "1M<n<10M"


def _front_matter(stats: CardStats, pair_splits: list[str], pretty_name: str) -> dict[str, Any]:
    licences = sorted({lic for _, lic in stats.licenses})
    normalised = {lic.lower() for lic in licences}
    meta: dict[str, Any] = {"pretty_name": pretty_name}
    if len(normalised) == 1 and next(iter(normalised)) in HUB_LICENSES:
        meta["license"] = next(iter(normalised))
    else:
        meta["license"] = "other"
        meta["license_name"] = "per-sample"
        meta["license_details"] = "Each row carries its own licence; see the Licences section. Found: " + (
            ", ".join(licences) or "none")
    meta["task_categories"] = ["image-to-image"]
    meta["tags"] = ["super-resolution", "portrait", "faces", "4k"]
    meta["size_categories"] = [_size_category(sum(stats.rows.values()))]
    configs: list[dict[str, Any]] = [{
        "config_name": "default",
        "default": True,
        "data_files": [{"split": s, "path": f"data/{s}-*"} for s in sorted(stats.rows)],
    }]
    if pair_splits:
        configs.append({"config_name": "pairs",
                        "data_files": [{"split": s, "path": f"pairs/{s}-*"} for s in pair_splits]})
    meta["configs"] = configs
    return meta


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _relaxed(config: Any) -> bool:
    source = config_to_container(config).get("source")
    return isinstance(source, Mapping) and bool(source.get("relax_gate"))


def render_card(stats: CardStats, manifest: Manifest, config: Any, figures: Mapping[str, str], *,
                pretty_name: str = "PortraitSR-4K") -> str:
    """The full ``README.md`` text (YAML front matter + Markdown body)."""
    pair_splits = sorted({name.rsplit("/", 1)[1].split("-", 1)[0] for name in manifest.shards
                          if name.startswith("pairs/")})
    meta = _front_matter(stats, pair_splits, pretty_name)
    counts = manifest.rows_per_split()
    shards_per_split = Counter(name.rsplit("-", 3)[0] for name in manifest.shards)
    split_rows = [(s, stats.rows[s], shards_per_split[f"data/{s}"]) for s in sorted(stats.rows)]
    split_rows += [(f"pairs/{s}", counts.get(f"pairs/{s}", 0), shards_per_split[f"pairs/{s}"]) for s in pair_splits]
    parts = [
        "---", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
        f"# {pretty_name}", "",
        "4K portrait photos paired with degraded low-resolution versions for face-aware image "
        "super-resolution, built with `portraitsr4k-build`. Each row holds the HR image (`hr`), "
        "its LQ counterpart (`lq`, HR size / `scale`), every face with its box and 5 landmarks "
        "(HR pixels), the identity cluster, the ids of other photos of the same person "
        "(`references`), texture and quality scores, and the full degradation record that "
        "replays the LQ exactly. Train and test are disjoint by identity.", "",
        *(["**Note:** this build relaxed the 4K size gate for its source (`relax_gate: true`, e.g. "
           "the `demo` source of photos shipped in Python packages): its images are smaller than 4K "
           "and it is meant for trying the toolkit, not for training or benchmarking.", ""]
          if _relaxed(config) else []),
        "```python", "from datasets import load_dataset",
        "pairs = load_dataset(\"<this repo or folder>\")            # train / test, hr and lq as PIL images",
        *(["refs = load_dataset(\"<this repo or folder>\", \"pairs\")  # same-person reference pairs"]
          if pair_splits else []),
        "```", "",
        "## Counts", "",
        _table(("split", "rows", "shards"), split_rows), "",
        f"Identity clusters: {len(stats.identities)}. Faces: {len(stats.interocular)}. "
        f"Degradation presets: " + (", ".join(f"{k} ({v})" for k, v in sorted(stats.presets.items())) or "none")
        + ".", "",
        "## Sources and licences", "",
        "The licence of every image is stored per row in the `license` column; use each image "
        "under its own licence.", "",
        _table(("source", "licence", "rows"), [(s, lic, n) for (s, lic), n in sorted(stats.licenses.items())]), "",
        "## Distributions", "",
    ]
    captions = {"faces": "Face size: interocular distance in HR pixels, and faces per image.",
                "quality": "Texture (Laplacian variance, flat-patch ratio) and learned IQA scores.",
                "degradation": "Drawn degradation parameters (blur sigma, noise sigma, JPEG quality, ...)."}
    for kind in ("faces", "quality", "degradation"):
        if kind in figures:
            parts += [f"![{captions[kind]}]({figures[kind]})", "", captions[kind], ""]
        else:
            parts += [f"No data for: {captions[kind]}", ""]
    parts += [
        "## Build", "",
        f"Schema version {manifest.schema_version}; portraitsr4k {manifest.package_version}; "
        f"Python {manifest.python}; config hash `{manifest.config_hash}`. Library versions: "
        + ", ".join(f"{k} {v}" for k, v in sorted(manifest.dependencies.items())) + ". "
        "`manifest.json` lists the sha256, size and row count of every shard; "
        "`portraitsr4k-verify <folder>` re-checks them.", "",
        "Exact build config:", "",
        "```yaml", yaml.safe_dump(config_to_container(config), sort_keys=True, allow_unicode=True).rstrip(), "```", "",
    ]
    return "\n".join(parts)


def write_card(out_dir: Path | str, config: Any, *, pretty_name: str = "PortraitSR-4K") -> Path:
    """Write ``README.md`` and its figures into the finished build ``out_dir``.

    Args:
        out_dir: build directory with ``manifest.json`` and complete ``data/`` splits.
        config: the resolved build config (``DictConfig`` or mapping), embedded verbatim.
        pretty_name: dataset title.

    Returns:
        Path of the written ``README.md``.
    """
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    stats = collect_stats(out_dir)
    if not stats.rows:
        raise ValueError(f"{out_dir} has no data/<split>-*.parquet shards to describe")
    figures = render_figures(out_dir, stats)
    text = render_card(stats, manifest, config, figures, pretty_name=pretty_name)
    path = atomic_write_bytes(out_dir / CARD_NAME, text.encode("utf-8"))
    logger.info("wrote dataset card %s (%d figures)", path, len(figures))
    return path
