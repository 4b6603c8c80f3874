"""Deterministic thread parallelism for the CPU metrics' GIL-free kernels.

The exact metrics (SSIM, MS-SSIM, VIF) spend their time in OpenCV, numpy and numba
``nogil`` kernels, all of which release the GIL, so a thread pool over independent pieces
(tile bands, band strips) uses every core without copying a 4K image into worker processes.

Values never depend on the thread count: the work is split into the same pieces whatever
``threads`` is, every piece returns its own partial sums, and :func:`ordered_map` returns them
in piece order, so the caller adds them in one fixed order (``threads=1`` and ``threads=8``
give the same bits; tested).

The default thread count is torch's intra-op setting (``torch.get_num_threads()``: the
machine's cores unless ``OMP_NUM_THREADS`` or ``torch.set_num_threads`` says otherwise), so one
knob sizes the learned and the exact metrics alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

import numpy as np

__all__ = ["default_threads", "ordered_map", "resolve_threads", "thread_buffer"]

T = TypeVar("T")
R = TypeVar("R")

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()
_LOCAL = threading.local()


def default_threads() -> int:
    """Threads the metrics use when not told: torch's intra-op thread count (>= 1)."""
    import torch

    return max(1, int(torch.get_num_threads()))


def resolve_threads(threads: int | None) -> int:
    """Validate a metric's ``threads`` argument; ``None`` -> :func:`default_threads`."""
    if threads is None:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int or None (torch's thread count), got {threads!r}")
    return threads


def _pool(threads: int) -> ThreadPoolExecutor:
    # One long-lived pool per size: creating threads per call costs ~0.1 ms each, and a
    # benchmark calls the metrics thousands of times.
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(max_workers=threads,
                                                        thread_name_prefix="psr-metric")
        return pool


def ordered_map(fn: Callable[[T], R], items: Iterable[T], threads: int) -> list[R]:
    """``[fn(item) for item in items]``, run on up to ``threads`` threads, results in item order.

    With ``threads == 1`` or a single item it runs inline (no pool). An exception in any item
    is raised here (the first in item order) after the others finished.
    """
    work = list(items)
    if threads <= 1 or len(work) <= 1:
        return [fn(item) for item in work]
    if getattr(_LOCAL, "in_pool", False):  # a metric called from a pool thread: no nesting
        return [fn(item) for item in work]

    def run(item: T) -> R:
        _LOCAL.in_pool = True
        return fn(item)

    futures = [_pool(threads).submit(run, item) for item in work]
    wait(futures)  # no piece is still running when this returns or raises
    return [f.result() for f in futures]


def thread_buffer(key: str, shape: tuple[int, ...]) -> np.ndarray:
    """A per-thread float64 scratch array of ``shape`` (contents undefined), reused across calls.

    Each ``key`` keeps one flat buffer per thread that grows to the largest size asked for;
    the result is a C-contiguous view of its start. Reusing buffers matters at 4K: a fresh
    multi-MB array is paid for in first-touch page faults on every call, which cost more than
    the filtering that fills it.
    """
    cache: dict[str, np.ndarray] | None = getattr(_LOCAL, "buffers", None)
    if cache is None:
        cache = _LOCAL.buffers = {}
    size = int(np.prod(shape))
    flat = cache.get(key)
    if flat is None or flat.size < size:
        flat = cache[key] = np.empty(size)
    return flat[:size].reshape(shape)
