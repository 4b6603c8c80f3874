"""The benchmark grid: (method x image x metric x region x face) cells, each computed once.

For one dataset split, every method upscales every LQ image (outputs cached under the method's
config hash, :mod:`benchmarks.cache`), and every metric scores the requested regions of the
output against the HR image (:mod:`benchmarks.regions`). Each cell becomes one record row
(:mod:`benchmarks.records`); a cell whose record is already ``ok`` (or ``no_face``/
``no_reference``) is skipped without decoding anything, so reruns and added methods or metrics
only compute what is new. Failures become status rows; one bad image never stops the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from benchmarks.cache import OutputCache
from benchmarks.methods.base import MethodUnavailable, SRMethod, check_lq, check_sr
from benchmarks.metrics.base import REGIONS, Metric, MetricUnavailable
from benchmarks.protocols import Protocol, convention_conflicts
from benchmarks.records import CELL_KEY, DONE_STATUSES, RecordWriter, latest, load_records, new_run_id
from benchmarks.regions import RegionExtractor

logger = logging.getLogger(__name__)

__all__ = ["BenchmarkRunner", "RunSummary", "match_hr"]

Cell = tuple[str, str, int]  # (metric name, region, face index)


@dataclass
class RunSummary:
    """What a run did. ``cells_computed`` counts newly written cells of any status."""

    run_id: str
    cells_computed: int = 0
    cells_cached: int = 0
    outputs_computed: int = 0
    outputs_cached: int = 0
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    conflicts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "cells_computed": self.cells_computed, "cells_cached": self.cells_cached,
                "outputs_computed": self.outputs_computed, "outputs_cached": self.outputs_cached,
                "statuses": dict(self.statuses), "seconds": round(self.seconds, 3),
                "convention_conflicts": self.conflicts}


def match_hr(sr: np.ndarray, hr: np.ndarray, scale: int) -> np.ndarray:
    """Crop ``hr`` to ``sr``'s size when the HR side is not a multiple of ``scale``.

    The LQ is ``hr // scale``, so ``lq * scale`` may be up to ``scale - 1`` px smaller than the
    HR (BasicSR's ``mod_crop``); the top-left part is kept, so face coordinates stay valid.
    """
    if sr.shape == hr.shape:
        return hr
    dh, dw = hr.shape[0] - sr.shape[0], hr.shape[1] - sr.shape[1]
    if 0 <= dh < scale and 0 <= dw < scale:
        return hr[: sr.shape[0], : sr.shape[1]]
    raise ValueError(f"SR output {sr.shape[1]}x{sr.shape[0]} does not match HR {hr.shape[1]}x{hr.shape[0]} "
                     f"at scale {scale}")


class BenchmarkRunner:
    """Runs methods x metrics on one dataset split and appends records under ``out_dir``.

    Args:
        out_dir: benchmark folder (``outputs/``, ``records/``, ``hr/`` for set metrics).
        dataset_path: dataset root in the builder's layout (``data/<split>-*.parquet``).
        split: split to evaluate.
        dataset_name: name in records and output paths (default: the dataset folder's name).
        methods / metrics: instantiated :class:`SRMethod` / :class:`Metric` objects.
        regions: regions to evaluate (intersected with each metric's own regions).
        extractor: region geometry (face margin, aligned size, seam width).
        protocol: the protocol these metrics come from (recorded; conventions checked).
        batch_size: images per ``upscale_batch`` call (GPU methods batch them).
        limit: evaluate only the first ``limit`` samples (smoke runs).
        progress: show tqdm bars.
    """

    def __init__(self, *, out_dir: Path | str, dataset_path: Path | str, split: str = "test",
                 dataset_name: str | None = None, methods: Sequence[SRMethod], metrics: Sequence[Metric],
                 regions: Sequence[str] = REGIONS, extractor: RegionExtractor | None = None,
                 protocol: Protocol | None = None, batch_size: int = 1, limit: int | None = None,
                 progress: bool = True) -> None:
        if not methods:
            raise ValueError("need at least one method")
        if not metrics:
            raise ValueError("need at least one metric")
        for what, items, cls in (("method", methods, SRMethod), ("metric", metrics, Metric)):
            for item in items:
                if not isinstance(item, cls):
                    raise TypeError(f"expected {cls.__name__} objects in {what}s, got {type(item).__name__}")
            names = [i.name for i in items]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"duplicate {what} names {dup}; give each config a distinct `name`")
        bad = [r for r in regions if r not in REGIONS]
        if bad:
            raise ValueError(f"unknown regions {bad}; expected some of {REGIONS}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.out_dir = Path(out_dir)
        self.dataset_path = Path(dataset_path)
        self.split = split
        self.dataset_name = dataset_name or self.dataset_path.resolve().name
        self.methods, self.metrics = list(methods), list(metrics)
        self.regions = tuple(regions)
        self.extractor = extractor or RegionExtractor()
        self.protocol = protocol
        self.batch_size, self.limit, self.progress = batch_size, limit, progress
        self.cache = OutputCache(self.out_dir)
        self._metric_down: dict[str, str] = {}  # metric name -> unavailability reason
        self._unavailable: dict[tuple, str] = {}
        self._metric_broken: dict[str, str] = {}  # metric name -> why its set-up failed
        self._conventions = {m.name: json.dumps(m.convention(), sort_keys=True) for m in self.metrics}
        self._hashes = {m.name: self._cell_hash(m) for m in self.metrics}

    # -- cell bookkeeping -----------------------------------------------------------------
    def _cell_hash(self, metric: Metric) -> str:
        """The metric's config hash, folded with the region settings when the metric scores any
        region besides ``full``: a new face margin or seam definition recomputes those cells."""
        if set(metric.regions) <= {"full"}:
            return metric.config_hash()
        payload = json.dumps({"metric": metric.config_hash(), "regions": self.extractor.config()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def cells(self, sample: Any, metric: Metric) -> list[tuple[str, int]]:
        """(region, face index) cells of ``metric`` for ``sample`` (``-1`` = image level)."""
        if metric.kind == "set":
            return []
        out: list[tuple[str, int]] = []
        for region in metric.regions:
            if region not in self.regions:
                continue
            if region == "full":
                out.append((region, -1))
            elif sample.faces:
                out.extend((region, i) for i in range(len(sample.faces)))
            else:
                out.append((region, -1))  # recorded as status=no_face
        return out

    def _done(self) -> tuple[set[tuple], dict[tuple, str]]:
        """(cells already computed, {cell: message} of cells last recorded as unavailable)."""
        rec_dir = self.out_dir / "records"
        if not rec_dir.is_dir():
            return set(), {}
        df = latest(load_records([self.out_dir]))
        done = df[df["status"].isin(DONE_STATUSES)]
        down = df[df["status"] == "unavailable"]
        unavailable = {tuple(k): str(m) for k, m in zip(down[CELL_KEY].itertuples(index=False, name=None),
                                                          down["message"])}
        return set(map(tuple, done[CELL_KEY].itertuples(index=False, name=None))), unavailable

    def _key(self, method: SRMethod, mhash: str, image_id: str, metric: Metric, region: str, fi: int) -> tuple:
        return (self.dataset_name, self.split, method.name, mhash, image_id, metric.name,
                self._hashes[metric.name], region, fi)

    # -- running --------------------------------------------------------------------------
    def run(self) -> RunSummary:
        """Compute every missing cell; returns counts (records are on disk)."""
        from portraitsr4k.dataset.reader import DatasetReader

        t0 = time.perf_counter()
        summary = RunSummary(run_id=new_run_id())
        summary.conflicts = convention_conflicts(self.metrics, self.protocol)
        reader = DatasetReader(self.dataset_path, split=self.split)
        n = len(reader) if self.limit is None else min(self.limit, len(reader))
        done, self._unavailable = self._done()
        for metric in self.metrics:
            # Check weights once, up front: an unavailable metric needs no SR output at all.
            try:
                metric.check_available()
            except MetricUnavailable as err:
                logger.warning("metric %s skipped: %s", metric.name, err.reason)
                self._metric_down[metric.name] = err.reason
            except Exception as err:  # noqa: BLE001 - a broken metric must not stop the others
                logger.error("metric %s cannot start: %s: %s", metric.name, type(err).__name__, err)
                self._metric_broken[metric.name] = f"metric could not start: {type(err).__name__}: {err}"
        with RecordWriter(self.out_dir / "records", run_id=summary.run_id) as writer:
            for method in self.methods:
                self._run_method(method, reader, n, done, writer, summary)
        summary.seconds = time.perf_counter() - t0
        logger.info("bench %s/%s: %s", self.dataset_name, self.split, summary.to_dict())
        return summary

    def _row(self, writer: RecordWriter, summary: RunSummary, method: SRMethod, mhash: str, image_id: str,
             metric: Metric, region: str, fi: int, status: str, value: float | None = None,
             runtime_s: float | None = None, sr_runtime_s: float | None = None, message: str | None = None) -> None:
        writer.add(dataset=self.dataset_name, split=self.split, method=method.name, method_hash=mhash,
                   image_id=image_id, metric=metric.name, metric_hash=self._hashes[metric.name], region=region,
                   face_index=fi, value=value if status == "ok" else None, runtime_s=runtime_s,
                   sr_runtime_s=sr_runtime_s, status=status, message=message, kind=metric.kind,
                   lower_better=metric.lower_better, convention=self._conventions[metric.name],
                   protocol=self.protocol.name if self.protocol else None)
        summary.cells_computed += 1
        summary.statuses[status] += 1

    def _run_method(self, method: SRMethod, reader: Any, n: int, done: set[tuple], writer: RecordWriter,
                    summary: RunSummary) -> None:
        mhash = method.config_hash()
        try:
            method.check_available()
        except MethodUnavailable as err:
            logger.warning("method %s not run: %s", method.name, err.reason)
            message = f"method {method.name} not run: {err.reason}"
            for metric in self.metrics:
                if self._unavailable.get(self._key(method, mhash, "*", metric, "full", -1)) == message:
                    summary.cells_cached += 1
                    continue
                self._row(writer, summary, method, mhash, "*", metric, "full", -1, "unavailable", message=message)
            return
        if hasattr(method, "check_ids"):
            expected = {}
            for i in range(n):
                row = reader[i].row
                expected[reader[i].id] = (int(row.get("lq_height") or 0) * reader[i].scale,
                                          int(row.get("lq_width") or 0) * reader[i].scale)
            problems = method.check_ids(expected)
            if problems:
                logger.error("method %s: %d problem(s) with its files: %s", method.name, len(problems),
                             "; ".join(problems))
        # Set metrics (FID) read the method's output folder: every image needs a cached output.
        set_needed = any(
            m.kind == "set" and m.name not in self._metric_down and m.name not in self._metric_broken
            and self._key(method, mhash, "*", m, "full", -1) not in done for m in self.metrics)
        pending: list[tuple[Any, list[tuple[Metric, str, int]]]] = []
        bar = tqdm(range(n), desc=f"{self.dataset_name}/{method.name}", disable=not self.progress, unit="img")
        for i in bar:
            sample = reader[i]
            need = []
            for m in self.metrics:
                for region, fi in self.cells(sample, m):
                    key = self._key(method, mhash, sample.id, m, region, fi)
                    if key in done:
                        summary.cells_cached += 1
                    elif m.name in self._metric_broken:
                        self._row(writer, summary, method, mhash, sample.id, m, region, fi, "error",
                                  message=self._metric_broken[m.name])
                    elif m.name in self._metric_down:
                        # Unavailable: one status row per cell, unless the same reason is on record.
                        if self._unavailable.get(key) == self._metric_down[m.name]:
                            summary.cells_cached += 1
                        else:
                            self._row(writer, summary, method, mhash, sample.id, m, region, fi, "unavailable",
                                      message=self._metric_down[m.name])
                    else:
                        need.append((m, region, fi))
            if need or (set_needed and (self.cache.meta(self.dataset_name, method.name, sample.id) or {}).get(
                    "method_hash") != mhash):
                pending.append((sample, need))
            if len(pending) >= self.batch_size or (i == n - 1 and pending):
                for sample_, need_, sr, sr_time, err in self._outputs(method, mhash, pending, summary):
                    self._score(method, mhash, sample_, need_, sr, sr_time, err, reader, writer, summary)
                pending = []
        self._set_metrics(method, mhash, reader, n, done, writer, summary)

    def _outputs(self, method: SRMethod, mhash: str, batch: list[tuple[Any, list]],
                 summary: RunSummary) -> Iterator[tuple[Any, list, np.ndarray | None, float | None, str | None]]:
        """SR outputs for a batch: from the cache, else computed (batched, then one by one on failure)."""
        results: dict[int, tuple[np.ndarray | None, float | None, str | None]] = {}
        todo = []
        for k, (sample, _) in enumerate(batch):
            cached = self.cache.get(self.dataset_name, method.name, mhash, sample.id)
            if cached is not None:
                results[k] = (cached, None, None)
                summary.outputs_cached += 1
            else:
                todo.append(k)
        if todo:
            lqs, samples = [], []
            for k in todo:
                try:
                    lqs.append(check_lq(batch[k][0].lq()))
                    samples.append(batch[k][0])
                except Exception as err:  # a corrupt LQ is this image's problem only
                    results[k] = (None, None, f"LQ decode failed: {type(err).__name__}: {err}")
            todo = [k for k in todo if k not in results]
            outs: list[Any] | None = None
            if len(todo) > 1:
                t = time.perf_counter()
                try:
                    outs = method.upscale_batch(lqs, scale=samples[0].scale, samples=samples)
                    per = (time.perf_counter() - t) / len(todo)
                except Exception as err:  # noqa: BLE001 - retry one by one to isolate the bad image
                    logger.warning("batched upscale failed (%s); retrying one image at a time", err)
            for j, k in enumerate(todo):
                sample = batch[k][0]
                try:
                    if outs is not None:
                        sr = outs[j]
                    else:
                        t = time.perf_counter()
                        sr = method.upscale(lqs[j], scale=sample.scale, sample=sample)
                        per = time.perf_counter() - t
                    sr = check_sr(sr, lqs[j].shape, sample.scale, method.name)
                except MethodUnavailable as err:
                    results[k] = (None, None, f"unavailable: {err.reason}")
                    continue
                except Exception as err:  # noqa: BLE001 - a failing image becomes status rows
                    logger.warning("method %s failed on %s: %s", method.name, sample.id, err)
                    results[k] = (None, None, f"{type(err).__name__}: {err}")
                    continue
                self.cache.put(self.dataset_name, method.name, mhash, sample.id, sr, per)
                summary.outputs_computed += 1
                results[k] = (sr, per, None)
        for k, (sample, need) in enumerate(batch):
            yield (sample, need, *results[k])

    def _score(self, method: SRMethod, mhash: str, sample: Any, need: list[tuple[Metric, str, int]],
               sr: np.ndarray | None, sr_time: float | None, err: str | None, reader: Any,
               writer: RecordWriter, summary: RunSummary) -> None:
        """Compute the needed cells of one image (or write their failure rows)."""
        def row(metric: Metric, region: str, fi: int, status: str, **kw: Any) -> None:
            self._row(writer, summary, method, mhash, sample.id, metric, region, fi, status,
                      sr_runtime_s=sr_time, **kw)

        if sr is None:
            status = "unavailable" if err and err.startswith("unavailable: ") else "error"
            for metric, region, fi in need:
                row(metric, region, fi, status, message=f"SR output: {err}")
            return
        try:
            hr = match_hr(sr, sample.hr(), sample.scale)
        except Exception as e:  # noqa: BLE001
            for metric, region, fi in need:
                row(metric, region, fi, "error", message=f"HR: {type(e).__name__}: {e}")
            return
        by_region: dict[tuple[str, int], list[Metric]] = {}
        for metric, region, fi in need:
            if fi == -1 and region != "full":
                row(metric, region, fi, "no_face", message="the sample has no annotated face")
            elif metric.name in self._metric_down:
                row(metric, region, fi, "unavailable", message=self._metric_down[metric.name])
            elif metric.kind == "identity":
                self._identity(metric, sample, sr, hr, fi, reader, row)
            else:
                by_region.setdefault((region, fi), []).append(metric)
        if not by_region:
            return
        regions = sorted({r for r, _ in by_region})
        try:
            crops = list(self.extractor.crops(sr, hr, sample.faces, regions))
        except Exception as e:  # noqa: BLE001 - bad landmarks etc.
            for (region, fi), metrics in by_region.items():
                for metric in metrics:
                    row(metric, region, fi, "error", message=f"region: {type(e).__name__}: {e}")
            return
        got = {(c.region, c.face_index): c for c in crops}
        for (region, fi), metrics in by_region.items():
            crop = got.get((region, fi))
            for metric in metrics:
                if crop is None:
                    row(metric, region, fi, "error", message=f"region {region} of face {fi} is empty")
                    continue
                self._metric_cell(metric, crop, row)

    def _metric_cell(self, metric: Metric, crop: Any, row: Any) -> None:
        t = time.perf_counter()
        try:
            if metric.name in self._metric_down:
                raise MetricUnavailable(self._metric_down[metric.name])
            if metric.kind == "nr":
                value = metric.compute(crop.sr)
            elif crop.mask is not None and not metric.supports_mask:
                # Only ring pixels may differ: outside the ring the SR crop shows the HR.
                blended = np.where(crop.mask[..., None], crop.sr, crop.hr)
                value = metric.compute(blended, crop.hr)
            else:
                value = metric.compute(crop.sr, crop.hr, crop.mask) if crop.mask is not None \
                    else metric.compute(crop.sr, crop.hr)
        except MetricUnavailable as e:
            self._metric_down[metric.name] = e.reason
            row(metric, crop.region, crop.face_index, "unavailable", message=e.reason)
            return
        except Exception as e:  # noqa: BLE001
            row(metric, crop.region, crop.face_index, "error", message=f"{type(e).__name__}: {e}")
            return
        row(metric, crop.region, crop.face_index, "ok", value=float(value), runtime_s=time.perf_counter() - t)

    def _identity(self, metric: Any, sample: Any, sr: np.ndarray, hr: np.ndarray, fi: int, reader: Any,
                  row: Any) -> None:
        t = time.perf_counter()
        face = sample.faces[fi]
        try:
            if not metric.reference:
                value = metric.compute_face(sr, hr, face)
            else:
                refs = [r for r in sample.references if r in reader]
                if not refs:
                    row(metric, "face", fi, "no_reference",
                        message=f"no reference photo of this person in split {self.split!r}")
                    return
                ref = reader.get(refs[0])
                value = metric.compute_reference(sr, hr, face, ref.hr(), list(ref.faces))
        except MetricUnavailable as e:
            self._metric_down[metric.name] = e.reason
            row(metric, "face", fi, "unavailable", message=e.reason)
            return
        except Exception as e:  # noqa: BLE001
            row(metric, "face", fi, "error", message=f"{type(e).__name__}: {e}")
            return
        row(metric, "face", fi, "ok", value=value, runtime_s=time.perf_counter() - t)

    def _set_metrics(self, method: SRMethod, mhash: str, reader: Any, n: int, done: set[tuple],
                     writer: RecordWriter, summary: RunSummary) -> None:
        """Set-level metrics (FID) over the method's output folder vs the HR folder."""
        for metric in (m for m in self.metrics if m.kind == "set" and m.name not in self._metric_broken):
            key = self._key(method, mhash, "*", metric, "full", -1)
            if key in done or (metric.name in self._metric_down
                               and self._unavailable.get(key) == self._metric_down[metric.name]):
                summary.cells_cached += 1
                continue
            t = time.perf_counter()
            try:
                metric.check_available()
                hr_dir = self._hr_folder(reader, n)
                value = metric.compute_set(self.cache.folder(self.dataset_name, method.name), hr_dir)
            except MetricUnavailable as e:
                self._row(writer, summary, method, mhash, "*", metric, "full", -1, "unavailable", message=e.reason)
                continue
            except Exception as e:  # noqa: BLE001
                self._row(writer, summary, method, mhash, "*", metric, "full", -1, "error",
                          message=f"{type(e).__name__}: {e}")
                continue
            n_out = len(list(self.cache.folder(self.dataset_name, method.name).glob("*.png")))
            self._row(writer, summary, method, mhash, "*", metric, "full", -1, "ok", value=value,
                      runtime_s=time.perf_counter() - t, message=f"{n_out} images")

    def _hr_folder(self, reader: Any, n: int) -> Path:
        """``<out>/hr/<dataset>/<id>.png`` for every evaluated sample (written once)."""
        from portraitsr4k.image_io import encode_png

        folder = self.out_dir / "hr" / self.dataset_name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            sample = reader[i]
            path = folder / f"{sample.id}.png"
            if not path.is_file():
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_bytes(encode_png(sample.hr(), compress_level=1))
                tmp.replace(path)
        return folder
