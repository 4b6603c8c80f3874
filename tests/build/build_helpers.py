"""Builder set-up shared by the build tests and the kill-and-resume child process.

``make_builder`` wires the real stages (MTCNN, dlib, the ``realesrgan`` degradation preset) to
a :class:`photo_sources.DirSource`, relaxed like the demo source (the shipped portraits are not
4K). Shards hold at most 2 rows, so the 4 portraits give 3 shard files (2 train + 1 test).
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

from photo_sources import DirSource

from portraitsr4k.build.executors import LocalExecutor
from portraitsr4k.build.plan import ShardSettings
from portraitsr4k.build.runner import Builder, BuildSettings
from portraitsr4k.sample_photos import PORTRAIT_NAMES, locate
from portraitsr4k.stages.analyze import Analyzer
from portraitsr4k.stages.crop import CropSettings
from portraitsr4k.stages.embed import EmbedSettings
from portraitsr4k.stages.faces import FaceSettings
from portraitsr4k.stages.gate import GateSettings
from portraitsr4k.stages.materialize import Materializer
from portraitsr4k.stages.quality import QualitySettings
from portraitsr4k.stages.split import SplitSettings

CONFIG = {"test": "build", "version": 1}


def copy_portraits(folder: Path) -> Path:
    """Copy the shipped portraits into ``folder`` (file name = photo name + suffix)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in PORTRAIT_NAMES:
        path = locate(name)
        shutil.copy(path, folder / f"{name}{path.suffix}")
    return folder


def make_builder(src: Path, out: Path, *, workers: int = 0, order: str = "sorted", crash_on: str | None = None,
                 max_error_share: float = 0.05, executor: Any | None = None, seed: int = 0) -> Builder:
    import degradations

    from portraitsr4k.faces import build_detector
    from portraitsr4k.identity import build_embedder

    source = DirSource(str(src), order=order, crash_on=crash_on)
    analyzer = Analyzer(
        source=source, gate=GateSettings(relax_size=True), faces=FaceSettings(), quality=QualitySettings(),
        embed=EmbedSettings(), detector_factory=functools.partial(build_detector, "mtcnn", min_score=0.95),
        embedder_factory=functools.partial(build_embedder, "dlib"), relaxed=True,
    )
    materializer = Materializer(
        source=source, crop=CropSettings(), scale=4, build_seed=seed,
        degradation_factory=functools.partial(degradations.build, "realesrgan", scale=4),
    )
    settings = BuildSettings(out_dir=out, seed=seed, max_error_share=max_error_share,
                             split=SplitSettings(test_fraction=0.1), shard=ShardSettings(max_rows=2))
    return Builder(source=source, analyzer=analyzer, materializer=materializer,
                   executor=executor if executor is not None else LocalExecutor(workers=workers),
                   settings=settings, config=CONFIG)


def shard_hashes(out: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every Parquet file under ``data/`` and ``pairs/``."""
    from portraitsr4k.dataset.writer import file_sha256

    return {p.relative_to(out).as_posix(): file_sha256(p)
            for folder in ("data", "pairs") for p in sorted((out / folder).glob("*.parquet"))}
