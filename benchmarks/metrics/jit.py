"""numba's ``njit`` with the options every compiled metric kernel uses (VIF, SSIM).

No ``fastmath``: it would reorder sums and change values. The numpy error model drops the
ZeroDivisionError checks that keep LLVM from vectorizing loops with a division (no kernel
divides by a value that can be 0: window sizes, 1000, ``ss + tol``, ``vv + sigma_nsq``, SSIM's
``A + B + 2 C2``). ``nogil`` lets the metric threads (``benchmarks.metrics.parallel``) run
kernels side by side. ``cache=True`` stores the machine code in ``__pycache__`` beside the
kernel's module, or, where that is read-only, in numba's user-wide cache (``NUMBA_CACHE_DIR``
overrides both); the first call in a fresh environment compiles for a few seconds.
"""

from __future__ import annotations

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - numba is a core dependency
    raise ImportError("the exact metrics (vif, ssim, ms_ssim) compile their kernels with numba; install it "
                      "with `pip install 'numba>=0.59'` (a core dependency of portraitsr4k)") from err

__all__ = ["JIT_OPTIONS", "njit"]

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}
