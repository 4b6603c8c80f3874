"""The build: per-sample analysis -> global steps -> per-sample materialisation -> shards.

:class:`Builder` orchestrates; the work itself is in :mod:`portraitsr4k.stages`. Order:

1. take ``out_dir/.build.lock`` (a second build on the same ``out_dir`` fails at once);
2. list source items (sorted by key) and run :class:`~portraitsr4k.stages.analyze.Analyzer` on
   those without a cached result (``work/analysis-*``);
3. global, deterministic steps over the survivors: exact duplicates, learned-IQA percentile cut,
   perceptual-hash near duplicates, identity clusters and reference pairs, train/test split;
4. run :class:`~portraitsr4k.stages.materialize.Materializer` (crop, HR bytes, degrade, LQ) on
   the kept photos without a cached result (``work/samples-*``);
5. per split, plan shards (ids sorted) and write each one that is not already in the manifest
   with a matching sha256 (written atomically; the manifest entry is added after the file);
   write ``pairs/<split>-00000-of-00001.parquet``, ``status/``, the dataset card.

``error:*`` results are never cached (a rerun retries them); ``max_error_share`` is checked
after each per-sample phase. A full disk (``ENOSPC``) aborts with :class:`BuildError`; the
writer removed its temporary file, so rerunning resumes.
"""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from portraitsr4k.build.lock import BuildLock
from portraitsr4k.build.plan import ShardSettings, plan_shards
from portraitsr4k.build.status import SampleStatus, count_table, status_counts, write_status
from portraitsr4k.build.workcache import WorkCache, fingerprint
from portraitsr4k.dataset.manifest import forget_shards, read_manifest, record_shard, start_manifest
from portraitsr4k.dataset.schema import FEATURES, PAIR_FEATURES, empty_row
from portraitsr4k.dataset.writer import file_sha256, shard_name, write_shard
from portraitsr4k.stages.analyze import Analysis, Analyzer
from portraitsr4k.stages.dedup import DedupSettings, near_duplicates
from portraitsr4k.stages.identity import IdentityResult, cluster_identities
from portraitsr4k.stages.materialize import Materialized, MaterializeTask, Materializer
from portraitsr4k.stages.quality import iqa_percentile_cut
from portraitsr4k.stages.split import SplitSettings, assign_splits

__all__ = ["BuildSettings", "BuildSummary", "BuildError", "Builder"]

logger = logging.getLogger(__name__)


class BuildError(RuntimeError):
    """The build stopped on purpose (error share over the limit, disk full); rerun resumes."""


@dataclass(frozen=True)
class BuildSettings:
    """Build-wide settings. ``same_person_threshold`` None = the embedder's own threshold."""

    out_dir: Path
    seed: int = 0
    max_error_share: float = 0.05
    dedup: DedupSettings = field(default_factory=DedupSettings)
    split: SplitSettings = field(default_factory=SplitSettings)
    shard: ShardSettings = field(default_factory=ShardSettings)
    same_person_threshold: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        if not 0.0 <= self.max_error_share <= 1.0:
            raise ValueError(f"max_error_share must be in [0, 1], got {self.max_error_share}")


@dataclass
class BuildSummary:
    """What a build produced: status records, shard files per split, pair counts."""

    out_dir: Path
    records: list[SampleStatus]
    shards: dict[str, list[str]]
    pairs: dict[str, int]

    def table(self) -> str:
        return count_table(self.records)


def _crash_analysis(item: Any, message: str) -> Analysis:
    return Analysis(key=str(item.key), source=str(item.key), url=getattr(item, "url", None),
                    status="error:worker_crash", stage="worker", message=message)


def _crash_materialized(task: MaterializeTask, message: str) -> Materialized:
    return Materialized(id=task.id, status="error:worker_crash", message=message)


class Builder:
    """Run one build (see module docstring).

    Args:
        source: item source (``items()``, ``fetch(item)``).
        analyzer / materializer: the per-sample functions.
        executor: :class:`~portraitsr4k.build.executors.LocalExecutor` or ``RayExecutor``.
        settings: :class:`BuildSettings`.
        config: the content-relevant build config (JSON-able); hashed into the manifest, so a
            resume with a different config is refused, and given to ``card_writer``.
        card_writer: ``card_writer(out_dir, config, summary)`` writes ``README.md``; None skips.
    """

    def __init__(self, *, source: Any, analyzer: Analyzer, materializer: Materializer, executor: Any,
                 settings: BuildSettings, config: dict[str, Any],
                 card_writer: Callable[[Path, dict[str, Any], BuildSummary], Any] | None = None) -> None:
        self.source = source
        self.analyzer = analyzer
        self.materializer = materializer
        self.executor = executor
        self.settings = settings
        self.config = config
        self.card_writer = card_writer

    # -- phases -------------------------------------------------------------------------------
    def _analyse(self, items: Sequence[Any]) -> list[Analysis]:
        cache = WorkCache(self.settings.out_dir, "analysis", self.config.get("analysis", self.config))
        results: list[Analysis | None] = [None] * len(items)
        todo = []
        for index, item in enumerate(items):
            cached = cache.get_json(str(item.key))
            if cached is not None:
                results[index] = Analysis.from_dict(cached)
            else:
                todo.append(index)
        logger.info("analysis: %d of %d items cached, %d to run", len(items) - len(todo), len(items), len(todo))
        pending = [items[i] for i in todo]
        for local, result in self.executor.map(self.analyzer, pending, desc="analyse", on_crash=_crash_analysis):
            results[todo[local]] = result
            if not result.status.startswith("error:"):
                cache.put_json(str(result.key), result.to_dict())
        return [r for r in results if r is not None]

    def _materialise(self, tasks: Sequence[MaterializeTask]) -> dict[str, Materialized]:
        """Run (or reuse) the materialisation; HR/LQ bytes stay in the work cache on disk, never
        all in memory (30K 4K pairs are ~450 GB)."""
        mat = self.materializer
        cache = self._samples_cache = WorkCache(self.settings.out_dir, "samples", {
            "crop": asdict(mat.crop), "scale": mat.scale, "seed": mat.build_seed,
            "degradation": self.config.get("degradation", repr(mat.degradation_factory)),
        })
        out: dict[str, Materialized] = {}
        todo = []
        for task in tasks:
            meta = cache.get_json(task.id)
            if meta is not None and cache.path(task.id, "hr").is_file() and cache.path(task.id, "lq").is_file():
                out[task.id] = Materialized(**meta)
            else:
                todo.append(task)
        logger.info("materialise: %d of %d samples cached, %d to run", len(tasks) - len(todo), len(tasks), len(todo))
        for index, result in self.executor.map(mat, todo, desc="crop+degrade", on_crash=_crash_materialized):
            if result.status == "ok":
                cache.put_bytes(result.id, "hr", result.hr)
                cache.put_bytes(result.id, "lq", result.lq)
                result.hr = result.lq = b""
                cache.put_json(result.id, {k: v for k, v in asdict(result).items() if k not in ("hr", "lq")})
            out[todo[index].id] = result
        return out

    # -- global steps ---------------------------------------------------------------------------
    def _global_steps(self, analyses: list[Analysis]) -> tuple[list[Analysis], IdentityResult, dict[str, str]]:
        survivors = sorted((a for a in analyses if a.status == "ok"), key=lambda a: (a.id, a.key))
        kept: dict[str, Analysis] = {}
        for a in survivors:
            if a.id in kept:
                a.status, a.stage, a.message = "rejected:duplicate", "dedup", f"same bytes as {kept[a.id].key}"
            else:
                kept[a.id] = a
        iqa = self.analyzer.iqa
        if iqa is not None and iqa.percentile > 0:
            cut = iqa_percentile_cut({i: a.iqa[iqa.name] for i, a in kept.items()}, iqa.percentile)
            for i, message in cut.items():
                kept[i].status, kept[i].stage, kept[i].message = "rejected:low_iqa", "quality", message
                del kept[i]
        for dropped, winner in near_duplicates({i: a.phash for i, a in kept.items()}, self.settings.dedup).items():
            a = kept.pop(dropped)
            a.status, a.stage, a.message = "rejected:near_duplicate", "dedup", f"perceptual duplicate of {winner}"
        threshold = self.settings.same_person_threshold
        if threshold is None and not any(a.embeddings for a in kept.values()):
            threshold = 1.0  # nothing to link; do not load the embedder in this process for nothing
        if threshold is None:
            embedder = self.analyzer.embedder
            threshold = float(embedder.same_person_threshold) if embedder is not None else 1.0
        identity = cluster_identities({i: a.embeddings for i, a in kept.items()}, threshold)
        splits = assign_splits(identity.units, self.settings.split, self.settings.seed)
        return [kept[i] for i in sorted(kept)], identity, splits

    # -- output ---------------------------------------------------------------------------------
    def _row(self, a: Analysis, m: Materialized, identity: IdentityResult, refs: list[str], split: str) -> dict:
        row = empty_row()
        ext = "png" if m.hr_format == "png" else {"JPEG": "jpg"}.get(str(a.format).upper(), str(a.format).lower())
        row.update(
            id=a.id, source=a.source, url=a.url, license=a.license, source_sha256=a.source_sha256,
            hr={"bytes": self._samples_cache.get_bytes(a.id, "hr"), "path": f"{a.id}.{ext}"}, hr_format=m.hr_format,
            hr_width=m.hr_width, hr_height=m.hr_height,
            lq={"bytes": self._samples_cache.get_bytes(a.id, "lq"), "path": f"{a.id}_lq.png"},
            lq_width=m.lq_width, lq_height=m.lq_height,
            scale=self.materializer.scale, degradation=m.degradation,
            degradation_preset=m.degradation_preset, degradation_seed=m.degradation_seed,
            faces=m.faces, identity=identity.identity[a.id], references=refs,
            laplacian_var=a.laplacian_var, flat_patch_ratio=a.flat_patch_ratio,
            iqa=[{"name": k, "value": v} for k, v in sorted(a.iqa.items())], phash=a.phash, split=split,
        )
        return row

    def _write_split(self, split: str, members: list[Analysis], make_row: Callable[[Analysis], dict[str, Any]],
                     plan_state: dict[str, str]) -> list[str]:
        """Plan and write the shards of one split; rows (with their image bytes) are read from the
        work cache one shard at a time, and only for shards that need writing."""
        (self.settings.out_dir / "data").mkdir(parents=True, exist_ok=True)
        cache = self._samples_cache
        by_id = {a.id: a for a in members}
        sizes = [(a.id, cache.path(a.id, "hr").stat().st_size + cache.path(a.id, "lq").stat().st_size)
                 for a in members]
        written = []
        for planned in plan_shards(split, sizes, self.settings.shard):
            rel = f"data/{planned.name}"
            self._write_one(rel, lambda ids=planned.ids: [make_row(by_id[i]) for i in ids], FEATURES,
                            fingerprint(list(planned.ids)), plan_state)
            written.append(rel)
        return written

    def _write_one(self, rel: str, rows: Callable[[], list[dict[str, Any]]], features: Any, digest: str,
                   plan_state: dict[str, str]) -> None:
        out_dir = self.settings.out_dir
        path = out_dir / rel
        entry = read_manifest(out_dir).shards.get(rel)
        if (entry is not None and plan_state.get(rel) == digest and path.is_file()
                and file_sha256(path) == entry.sha256):
            logger.info("keeping %s (in the manifest, sha256 matches)", rel)
            return
        if entry is not None:
            forget_shards(out_dir, [rel])
        try:
            info = write_shard(rows(), path, features=features)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise BuildError(f"disk full while writing {rel}; no partial file was left. Free space "
                                 f"and rerun the same command to resume.") from exc
            raise
        plan_state[rel] = digest
        _save_plan_state(out_dir, plan_state)
        record_shard(out_dir, info)
        logger.info("wrote %s: %d rows, %d bytes", rel, info.rows, info.bytes)

    # -- run --------------------------------------------------------------------------------------
    def run(self) -> BuildSummary:
        """Run the build; raises :class:`BuildError` when it aborts on purpose."""
        out_dir = self.settings.out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        with BuildLock(out_dir):
            start_manifest(out_dir, self.config)
            items = sorted(self.source.items(), key=lambda it: str(it.key))
            keys = [str(it.key) for it in items]
            if len(set(keys)) != len(keys):
                raise ValueError("source yielded duplicate keys; every item needs a unique key")
            by_key = {str(it.key): it for it in items}
            with self.executor.session([self.analyzer, self.materializer]):
                records = self._run_phases(items, by_key)
        # One line here; the table itself is printed by the CLI (BuildSummary.table()).
        logger.info("build finished: %d inputs (%s)", len(records),
                    ", ".join(f"{status} {count}" for status, count in status_counts(records).items()))
        return self._summary

    def _run_phases(self, items: list[Any], by_key: dict[str, Any]) -> list[SampleStatus]:
        """Analysis, global steps, materialisation and outputs (inside the lock and pool session)."""
        analyses = self._analyse(items)
        self._check_errors(analyses, len(items))
        kept, identity, splits = self._global_steps(analyses)
        tasks = [MaterializeTask(by_key[a.key], a.id, a.source_sha256, a.faces) for a in kept]
        materialised = self._materialise(tasks)
        for a in kept:
            m = materialised[a.id]
            if m.status != "ok":
                a.status, a.stage, a.message = m.status, "materialise", m.message
            a.timings.update(m.timings)
            a.peak_rss_mb = max(a.peak_rss_mb, m.peak_rss_mb)
        self._check_errors(analyses, len(items))
        final = [a for a in kept if a.status == "ok"]
        return self._write_outputs(final, materialised, identity, splits, analyses)


    def _write_outputs(self, final: list[Analysis], materialised: dict[str, Materialized],
                       identity: IdentityResult, splits: dict[str, str], analyses: list[Analysis]) -> list[SampleStatus]:
        out_dir = self.settings.out_dir
        final_ids = {a.id for a in final}
        pairs = [p for p in identity.pairs if p.id in final_ids and p.reference_id in final_ids]
        refs: dict[str, list[str]] = {}
        for p in pairs:
            refs.setdefault(p.id, [])
            if p.reference_id not in refs[p.id]:
                refs[p.id].append(p.reference_id)
        plan_state = _load_plan_state(out_dir)
        shards: dict[str, list[str]] = {}
        pair_counts: dict[str, int] = {}
        for split in ("train", "test"):
            members = [a for a in final if splits[a.id] == split]
            def make_row(a: Analysis, split: str = split) -> dict[str, Any]:
                return self._row(a, materialised[a.id], identity, sorted(refs.get(a.id, [])), split)

            shards[split] = self._write_split(split, members, make_row, plan_state) if members else []
            split_pairs = [p for p in pairs if splits[p.id] == split]
            pair_counts[split] = len(split_pairs)
            if split_pairs:
                (out_dir / "pairs").mkdir(exist_ok=True)
                pair_rows = [{"id": p.id, "reference_id": p.reference_id, "face_index": p.face_index,
                              "reference_face_index": p.reference_face_index, "similarity": p.similarity,
                              "identity": identity.identity[p.id], "split": split} for p in split_pairs]
                rel = f"pairs/{shard_name(split, 0, 1)}"
                self._write_one(rel, lambda rows=pair_rows: rows, PAIR_FEATURES, fingerprint(pair_rows), plan_state)
                shards[split].append(rel)
        self._drop_stale(shards)
        records = [SampleStatus(key=a.key, source=a.source, url=a.url, id=a.id, stage=a.stage, status=a.status,
                                message=a.message, timings=a.timings, peak_rss_mb=a.peak_rss_mb,
                                split=splits.get(a.id) if a.status == "ok" else None) for a in analyses]
        write_status(out_dir, records)
        self._summary = BuildSummary(out_dir=out_dir, records=records, shards=shards, pairs=pair_counts)
        if self.card_writer is not None and any(shards.values()):
            self.card_writer(out_dir, self.config, self._summary)
        elif not any(shards.values()):
            logger.warning("no sample passed every stage: no shards and no dataset card were written")
        return records

    def _drop_stale(self, shards: dict[str, list[str]]) -> None:
        """Remove shard files of an earlier plan (e.g. fewer inputs) that this plan does not have."""
        out_dir = self.settings.out_dir
        wanted = {rel for rels in shards.values() for rel in rels}
        stale = [p.relative_to(out_dir).as_posix() for folder in ("data", "pairs")
                 for p in sorted((out_dir / folder).glob("*.parquet")) if (out_dir / folder).is_dir()]
        stale = [rel for rel in stale if rel not in wanted]
        if stale:
            forget_shards(out_dir, stale)
            for rel in stale:
                (out_dir / rel).unlink(missing_ok=True)
                logger.info("removed stale shard %s", rel)

    def _check_errors(self, analyses: list[Analysis], total: int) -> None:
        errors = [a for a in analyses if a.status.startswith("error:")]
        share = len(errors) / max(1, total)
        if share > self.settings.max_error_share:
            records = [SampleStatus(key=a.key, source=a.source, url=a.url, id=a.id, stage=a.stage, status=a.status,
                                    message=a.message, timings=a.timings, peak_rss_mb=a.peak_rss_mb) for a in analyses]
            write_status(self.settings.out_dir, records)
            examples = "; ".join(f"{a.key}: {a.status} {a.message}" for a in errors[:3])
            raise BuildError(
                f"{len(errors)} of {total} samples ended in error ({share:.1%} > max_error_share "
                f"{self.settings.max_error_share:.1%}); see {self.settings.out_dir / 'status'}. First: {examples}\n"
                f"{count_table(records)}"
            )


def _plan_state_path(out_dir: Path) -> Path:
    return out_dir / "work" / "shard_plan.json"


def _load_plan_state(out_dir: Path) -> dict[str, str]:
    try:
        return json.loads(_plan_state_path(out_dir).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _save_plan_state(out_dir: Path, state: dict[str, str]) -> None:
    from portraitsr4k.dataset.writer import atomic_write_bytes

    path = _plan_state_path(out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(state, sort_keys=True, indent=1).encode())
