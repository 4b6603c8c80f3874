"""Turn the resolved ``conf/build.yaml`` (a DictConfig) into a :class:`~portraitsr4k.build.runner.Builder`.

The only place of the builder that sees Hydra/OmegaConf objects; everything it builds takes
typed keyword arguments. Models are not built here: the detector, embedder and degradation
become picklable zero-argument factories (``functools.partial``) that each worker calls once.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from portraitsr4k.build.runner import Builder, BuildSettings
from portraitsr4k.stages.analyze import Analyzer
from portraitsr4k.stages.materialize import Materializer
from portraitsr4k.stages.split import SplitSettings

__all__ = ["builder_from_config", "content_config"]

logger = logging.getLogger(__name__)

# Keys that change how a build runs but not what it produces (allowed to differ on resume).
_RUN_ONLY_KEYS = ("out_dir", "workers", "executor", "max_error_share", "hydra")


def content_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config without run-only keys: what the manifest's config hash covers."""
    container = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    return {k: v for k, v in container.items() if k not in _RUN_ONLY_KEYS}


def _factory(node: Any, fallback: Any, scale: int | None = None) -> Any:
    """A picklable zero-argument factory from a config node: ``_target_`` nodes become a
    ``functools.partial`` via Hydra; plain nodes are keyword arguments of ``fallback``."""
    if node is None:
        return None
    if "_target_" in node:
        if node["_target_"] is None:
            return None
        return instantiate(node, _partial_=True)
    kwargs = OmegaConf.to_container(node, resolve=True)
    if scale is not None:
        kwargs.setdefault("scale", scale)
    return functools.partial(fallback, **kwargs)


def _degradation_factory(node: DictConfig, scale: int) -> Any:
    import degradations

    if "_target_" in node:
        # The build's scale wins over the preset file's, so LQ = HR / scale holds for the rows.
        return instantiate(node, _partial_=True, scale=scale)
    kwargs = OmegaConf.to_container(node, resolve=True)
    preset = kwargs.pop("preset")
    kwargs.pop("scale", None)
    return functools.partial(degradations.build, preset, scale=scale, **kwargs)


def builder_from_config(cfg: DictConfig) -> Builder:
    """Everything a build needs, from the composed ``build`` config."""
    from portraitsr4k.faces import build_detector
    from portraitsr4k.identity import build_embedder

    source_node = OmegaConf.to_container(cfg.source, resolve=True)
    relaxed = bool(source_node.pop("relax_gate", False))
    source = instantiate(OmegaConf.create(source_node))
    stage = cfg.stage
    gate = instantiate(stage.gate, relax_size=relaxed)
    iqa = None if cfg.iqa.get("_target_") is None else instantiate(cfg.iqa)
    if iqa is not None:
        iqa.weight_path()  # fail fast, before any worker starts, when weights are missing
    analyzer = Analyzer(
        source=source, gate=gate, faces=instantiate(stage.faces), quality=instantiate(stage.quality),
        embed=instantiate(stage.embed), detector_factory=_factory(cfg.detector, build_detector),
        embedder_factory=_factory(cfg.identity, build_embedder), iqa=iqa, relaxed=relaxed,
    )
    materializer = Materializer(
        source=source, crop=instantiate(stage.crop), degradation_factory=_degradation_factory(cfg.degradation, cfg.scale),
        scale=int(cfg.scale), build_seed=int(cfg.seed),
    )
    split = cfg.split
    settings = BuildSettings(
        out_dir=Path(cfg.out_dir), seed=int(cfg.seed), max_error_share=float(cfg.max_error_share),
        dedup=instantiate(stage.dedup),
        split=SplitSettings(test_fraction=float(split.test_fraction),
                            test_size=None if split.test_size is None else int(split.test_size)),
        shard=instantiate(stage.shard),
        same_person_threshold=cfg.same_person_threshold,
    )
    config = content_config(cfg)
    config["analysis"] = {k: config.get(k) for k in ("source", "stage", "detector", "identity", "iqa")}
    return Builder(source=source, analyzer=analyzer, materializer=materializer, executor=instantiate(cfg.executor),
                   settings=settings, config=config, card_writer=_card_writer())


def _card_writer() -> Any:
    """The dataset-card writer of :mod:`portraitsr4k.card`, adapted to the builder's call."""
    try:
        from portraitsr4k.card import write_card
    except ImportError:
        logger.warning("portraitsr4k.card is not available: no README.md dataset card will be written")
        return None
    if not hasattr(write_card, "__call__"):
        raise TypeError(f"portraitsr4k.card.write_card is not callable: {write_card!r}")

    def write(out_dir: Path, config: dict[str, Any], summary: Any) -> Path:
        return write_card(out_dir, config)

    return write
