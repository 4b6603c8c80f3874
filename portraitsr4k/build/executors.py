"""Executors: run one per-sample function over many items, in processes (local) or on Ray.

Both take the *same* picklable callables (:class:`portraitsr4k.stages.analyze.Analyzer`,
:class:`portraitsr4k.stages.materialize.Materializer`) and yield ``(index, result)`` pairs in
completion order; the runner sorts by index, so output never depends on scheduling.

- :class:`LocalExecutor`: ``concurrent.futures.ProcessPoolExecutor`` (``forkserver`` by default:
  a plain fork of a process that already ran torch/OpenMP threads can deadlock, and ``spawn``
  re-imports torch in every worker; the fork server preloads the imports once). The function is sent
  once per worker (initializer), so lazily built models live as long as the worker. A worker
  that dies (segfault in a codec, ``os.abort``, OOM kill) breaks the pool; the items that were in
  flight are then re-run one at a time in a fresh pool, and the one that kills its worker again
  gets ``on_crash(item)`` (``error:worker_crash``). ``workers=0`` runs in this process with
  the workers' thread settings, so its bytes equal a pool's (no crash isolation; for debugging
  and tests).
- :class:`RayExecutor`: Ray Data ``map`` with one block per item and actors holding the function
  (optional extra ``ray``); blocks that fail hard (dead actor) are skipped via
  ``DataContext.max_errored_blocks`` and their items get ``on_crash``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from tqdm.auto import tqdm

__all__ = ["LocalExecutor", "RayExecutor", "default_workers"]

logger = logging.getLogger(__name__)

_FNS: list[Callable[[Any], Any]] = []

#: Modules the ``forkserver`` imports before forking workers: what every worker needs (torch,
#: torchvision and facenet-pytorch for the default MTCNN detector, numba for the compiled
#: kernels), so no worker imports them again. A module that is not installed is skipped.
FORKSERVER_PRELOAD = ("portraitsr4k", "numpy", "torch", "torchvision", "facenet_pytorch", "cv2", "PIL.Image",
                      "numba", "portraitsr4k.image_io", "portraitsr4k.faces.mtcnn_cascade",
                      "degradations.poisson_table", "portraitsr4k.stages.analyze",
                      "portraitsr4k.stages.materialize")


def default_workers() -> int:
    """Cores this process may use (``sched_getaffinity``), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _init_worker(fns: Sequence[Callable[[Any], Any]], torch_threads: int) -> None:
    global _FNS
    _FNS = list(fns)
    import torch

    # One intra-op thread per worker: workers x threads never oversubscribes the cores, and
    # float results do not depend on how many workers run (thread count changes reductions).
    torch.set_num_threads(torch_threads)
    import cv2

    cv2.setNumThreads(torch_threads)


def _call(fn_index: int, index: int, item: Any) -> tuple[int, Any]:
    if not _FNS:
        raise RuntimeError("executor worker was not initialised with its functions")
    return index, _FNS[fn_index](item)


class LocalExecutor:
    """Process-pool executor (see module docstring).

    Args:
        workers: worker processes; ``None`` = cores available; 0 = run in this process.
        start_method: multiprocessing start method (``spawn``, ``forkserver`` or ``fork``).
        torch_threads: torch/OpenCV threads per worker.
        max_in_flight: items submitted ahead per worker (bounds memory).

    ``with executor.session([f, g]):`` keeps one pool (and each worker's loaded models) for
    several ``map`` calls over ``f`` and ``g``; ``map`` outside a session uses a pool of its own.
    """

    name = "local"

    def __init__(self, *, workers: int | None = None, start_method: str = "forkserver", torch_threads: int = 1,
                 max_in_flight: int = 4) -> None:
        if workers is not None and (not isinstance(workers, int) or workers < 0):
            raise ValueError(f"workers must be an int >= 0 or None, got {workers!r}")
        if start_method not in ("spawn", "forkserver", "fork"):
            raise ValueError(f"start_method must be spawn, forkserver or fork, got {start_method!r}")
        if torch_threads < 1 or max_in_flight < 1:
            raise ValueError(f"torch_threads and max_in_flight must be >= 1, got {torch_threads}, {max_in_flight}")
        self.workers = default_workers() if workers is None else workers
        self.start_method = start_method
        self.torch_threads = torch_threads
        self.max_in_flight = max_in_flight
        self._fns: list[Callable[[Any], Any]] | None = None
        self._pool: ProcessPoolExecutor | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fns"], state["_pool"] = None, None
        return state

    @contextlib.contextmanager
    def session(self, fns: Sequence[Callable[[Any], Any]]) -> Iterator[LocalExecutor]:
        """Share one worker pool between ``map`` calls over the functions ``fns``."""
        if self._fns is not None:
            raise RuntimeError("this executor already has an open session")
        self._fns = list(fns)
        try:
            yield self
        finally:
            self._close()
            self._fns = None

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _restart(self) -> ProcessPoolExecutor:
        import multiprocessing

        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            # The fork server imports the heavy modules once (it never runs torch/OpenMP code,
            # so forking it is safe); each worker then starts in ~0.1 s instead of re-importing
            # torch for ~5 s, which is most of the wall time of a small build.
            context.set_forkserver_preload(list(FORKSERVER_PRELOAD))
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context,
            initializer=_init_worker, initargs=(self._fns, self.torch_threads))
        return self._pool

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], *, desc: str,
            on_crash: Callable[[Any, str], Any]) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(items[index]))`` for every item, in completion order."""
        if not items:
            return
        if self.workers > 0 and (self._fns is None or not any(f is fn for f in self._fns)):
            with self.session([fn]):
                yield from self.map(fn, items, desc=desc, on_crash=on_crash)
            return
        bar = tqdm(total=len(items), desc=desc, unit="img", dynamic_ncols=True)
        try:
            if self.workers == 0:
                yield from self._map_inline(fn, items, bar)
                return
            fn_index = next(i for i, f in enumerate(self._fns) if f is fn)
            yield from self._map_pool(fn_index, items, bar, on_crash)
        finally:
            bar.close()

    def _map_inline(self, fn: Callable[[Any], Any], items: Sequence[Any], bar: Any) -> Iterator[tuple[int, Any]]:
        """Run in this process with the workers' thread settings, so results match a pool's."""
        import cv2
        import torch

        saved = torch.get_num_threads(), cv2.getNumThreads()
        torch.set_num_threads(self.torch_threads)
        cv2.setNumThreads(self.torch_threads)
        try:
            for index, item in enumerate(items):
                result = fn(item)
                bar.update(1)
                yield index, result
        finally:
            torch.set_num_threads(saved[0])
            cv2.setNumThreads(saved[1])

    def _map_pool(self, fn_index: int, items: Sequence[Any], bar: Any,
                  on_crash: Callable[[Any, str], Any]) -> Iterator[tuple[int, Any]]:
        pending = list(range(len(items)))[::-1]
        suspects: list[int] = []
        pool = self._pool or self._restart()
        while pending or suspects:
            if suspects:
                # Re-run each suspect alone: whoever breaks a pool again is the culprit.
                index = suspects.pop()
                future = pool.submit(_call, fn_index, index, items[index])
                try:
                    yield future.result()
                except BrokenProcessPool:
                    logger.warning("input %d crashed its worker twice: marking it error:worker_crash", index)
                    pool = self._restart()
                    yield index, on_crash(items[index], "the worker process died while processing this input")
                bar.update(1)
                continue
            in_flight: dict[Future, int] = {}
            broken = False
            while (pending or in_flight) and not broken:
                while pending and len(in_flight) < self.workers * self.max_in_flight:
                    index = pending.pop()
                    in_flight[pool.submit(_call, fn_index, index, items[index])] = index
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: in_flight[f]):
                    index = in_flight.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        suspects.append(index)
                        continue
                    bar.update(1)
                    yield result
            if broken:
                suspects.extend(in_flight.values())
                suspects.sort(reverse=True)
                logger.warning("a worker died; re-running %d in-flight inputs one by one", len(suspects))
                pool = self._restart()


class _RayCall:
    """Ray Data actor: unpickles the per-sample function once, then maps rows."""

    def __init__(self, fn_blob: bytes, torch_threads: int) -> None:
        fn = pickle.loads(fn_blob)
        _init_worker([fn], torch_threads)

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        index, result = _call(0, int(row["index"]), pickle.loads(row["item"]))
        return {"index": index, "result": pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)}


class RayExecutor:
    """Ray Data executor (optional extra ``ray``; see module docstring).

    Args:
        workers: concurrent actors (``None`` = cores available).
        address: Ray cluster address; ``None`` starts a local Ray with ``workers`` CPUs.
        torch_threads: torch/OpenCV threads per actor.
    """

    name = "ray"

    def __init__(self, *, workers: int | None = None, address: str | None = None, torch_threads: int = 1) -> None:
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"the ray executor needs workers >= 1 or None, got {workers!r}")
        self.workers = default_workers() if workers is None else workers
        self.address = address
        self.torch_threads = torch_threads

    @contextlib.contextmanager
    def session(self, fns: Sequence[Callable[[Any], Any]]) -> Iterator[RayExecutor]:
        """Ray keeps its own workers; a session is only for interface parity with ``local``."""
        yield self

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], *, desc: str,
            on_crash: Callable[[Any, str], Any]) -> Iterator[tuple[int, Any]]:
        if not items:
            return
        try:
            import ray
            import ray.data
        except ImportError as exc:
            raise ImportError("executor=ray needs Ray Data: pip install 'portraitsr4k[ray]'") from exc
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": self.address} if self.address else {"num_cpus": self.workers}
            ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING, **kwargs)
        context = ray.data.DataContext.get_current()
        context.max_errored_blocks = len(items)
        context.enable_progress_bars = False
        rows = [{"index": i, "item": pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)} for i, item in enumerate(items)]
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map(
            _RayCall,
            fn_constructor_kwargs={"fn_blob": pickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL),
                                   "torch_threads": self.torch_threads},
            concurrency=self.workers,
            num_cpus=1,
        )
        seen: set[int] = set()
        with tqdm(total=len(items), desc=desc, unit="img", dynamic_ncols=True) as bar:
            for row in dataset.iter_rows():
                index = int(row["index"])
                seen.add(index)
                bar.update(1)
                yield index, pickle.loads(row["result"])
            for index in range(len(items)):
                if index not in seen:
                    bar.update(1)
                    yield index, on_crash(items[index], "the Ray task for this input failed")
