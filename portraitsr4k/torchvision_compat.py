"""Make ``import torchvision`` work next to a CPU-only torch, and do nothing elsewhere.

Why this exists: the torchvision 0.28 wheel on PyPI links its compiled ops (``_C*.so``) against
CUDA libraries. Next to the CPU build of torch those libraries are missing, ``_C`` silently
fails to load, and ``torchvision/_meta_registrations.py`` then crashes at import with
``RuntimeError: operator torchvision::nms does not exist``. That breaks every package that
imports torchvision: pyiqa, facexlib, lpips, timm, facenet-pytorch, peft (via transformers).

Importing this module is cheap (it imports neither torch nor torchvision): it puts an import
hook in front of ``sys.meta_path`` that runs the fix at the moment something first imports
torchvision, just before torchvision's own ``__init__`` executes. A command that never touches
torchvision (``portraitsr4k-verify``, ``-publish``, ``-leaderboard``) so never pays the ~3 s of
importing torch and torchvision. :func:`install` runs the same fix eagerly.

What the fix does, in order, once:

1. If torchvision is not installed, or has already been imported, nothing (``Status.ABSENT`` /
   ``Status.ALREADY_IMPORTED``).
2. It tries to load torchvision's own compiled ops. If that works (a matching CUDA torch, e.g.
   on a GPU machine) it does nothing more (``Status.NATIVE``): defining the op schemas there
   would clash with ``_C``'s own registration.
3. Otherwise it defines the two schemas torchvision's meta registrations need
   (``torchvision::nms`` and ``torchvision::qnms``) with a pure-torch CPU kernel for ``nms``,
   imports torchvision, un-gates ``torchvision.ops.nms`` and aliases the module
   ``torchvision.transforms.functional_tensor`` (removed in 0.17, still imported by basicsr
   1.4.2 and gfpgan) to its private successor (``Status.SHIMMED``).

Still unavailable after shimming: ``torchvision.io`` codecs (use PIL/OpenCV), ``deform_conv2d``,
``roi_pool`` and ``ps_roi_*``. ``roi_align`` falls back to torchvision's Python implementation.

Every package of this project imports this module before anything else, and so does
``tests/conftest.py``; ``degradations`` is the exception, as it never imports torchvision.
"""

from __future__ import annotations

import enum
import glob
import importlib.abc
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing this module must not import torch
    import torch

__all__ = ["Status", "install", "nms_reference", "status"]

logger = logging.getLogger(__name__)


class Status(str, enum.Enum):
    """Outcome of :func:`install`."""

    NOT_RUN = "not_run"  # torchvision not imported yet (the hook is waiting for it)
    ABSENT = "absent"  # torchvision is not installed
    ALREADY_IMPORTED = "already_imported"  # somebody imported torchvision before us
    NATIVE = "native"  # torchvision's compiled ops loaded: nothing was changed
    SHIMMED = "shimmed"  # pure-torch nms registered, torchvision imported


_status: Status = Status.NOT_RUN
_library: Any = None  # the torch.library.Library: keep a reference, or the registration is dropped


_NMS_KERNEL: Callable[..., None] | None = None


def _nms_kernel() -> Callable[..., None]:
    """The compiled greedy loop, built on first use (numba is imported only when nms runs, so
    importing this module stays cheap)."""
    global _NMS_KERNEL
    if _NMS_KERNEL is None:
        import numpy as np
        from numba import njit

        @njit(cache=True, nogil=True)
        def greedy(x1, y1, x2, y2, order, threshold, keep):  # noqa: ANN001, ANN202
            # torchvision's CPU kernel step for step, in float32 like its scalar_t, with the
            # overlap compared to the threshold in double (its ``double iou_threshold``).
            n = order.shape[0]
            suppressed = np.zeros(n, np.bool_)
            areas = (x2 - x1) * (y2 - y1)
            count = 0
            for a in range(n):
                i = order[a]
                if suppressed[i]:
                    continue
                keep[count] = i
                count += 1
                for b in range(a + 1, n):
                    j = order[b]
                    if suppressed[j]:
                        continue
                    w = max(np.float32(0.0), min(x2[i], x2[j]) - max(x1[i], x1[j]))
                    h = max(np.float32(0.0), min(y2[i], y2[j]) - max(y1[i], y1[j]))
                    inter = w * h
                    overlap = inter / (areas[i] + areas[j] - inter)
                    if np.float64(overlap) > threshold:
                        suppressed[j] = True
            return count

        _NMS_KERNEL = greedy
    return _NMS_KERNEL


def nms_reference(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression, torchvision's CPU kernel semantics, compiled.

    Args:
        boxes: ``(N, 4)`` boxes as ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``.
        scores: ``(N,)`` scores.
        iou_threshold: boxes whose IoU with a kept, higher-scoring box is *strictly greater*
            than this are dropped.

    Returns:
        ``(K,)`` int64 indices of the kept boxes, in decreasing score order (equal scores keep
        index order, as torchvision's stable CPU sort does). Boxes are compared in float32 and
        the overlap against the threshold in float64, as torchvision does. MTCNN calls this
        ~10 times per photo on up to ~2000 candidates; a torch loop per kept box cost ~40 ms
        of its ~300 ms, the compiled loop well under 1 ms.
    """
    import torch

    if boxes.numel() == 0:
        return boxes.new_empty((0,), dtype=torch.int64)
    coords = boxes.detach().to(device="cpu", dtype=torch.float32).numpy()
    order = torch.sort(scores.detach().cpu(), descending=True, stable=True).indices.numpy()
    keep = torch.empty(coords.shape[0], dtype=torch.int64)
    count = _nms_kernel()(coords[:, 0].copy(), coords[:, 1].copy(), coords[:, 2].copy(), coords[:, 3].copy(),
                          order, float(iou_threshold), keep.numpy())
    return keep[:count].to(boxes.device)


def _compiled_op_files(find_spec: Callable[[str], object]) -> list[str] | None:
    spec = find_spec("torchvision")
    if spec is None or not getattr(spec, "submodule_search_locations", None):
        return None
    root = list(spec.submodule_search_locations)[0]  # type: ignore[attr-defined]
    return sorted(glob.glob(os.path.join(root, "_C*.so")) + glob.glob(os.path.join(root, "_C*.pyd")))


def _prepare(load_library: Callable[[str], None], find_spec: Callable[[str], object]) -> Status | None:
    """Steps 1-3 before torchvision executes: the final status, or ``None`` when the schemas
    were defined and the patches after the import (:func:`_finish`) are still due."""
    global _library
    import torch

    so_files = _compiled_op_files(find_spec)
    if so_files is None:
        return Status.ABSENT
    for so in so_files:
        try:
            load_library(so)
        except (OSError, RuntimeError) as err:  # CPU torch + CUDA-linked _C.so
            logger.debug("torchvision compiled ops did not load from %s: %s", so, err)
            continue
        return Status.NATIVE
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.impl("nms", nms_reference, "CPU")
    _library = lib
    return None


def _finish() -> Status:
    """Patches once torchvision has executed: un-gate ``ops.nms``, alias ``functional_tensor``."""
    import torchvision.ops.boxes as tv_boxes
    import torchvision.transforms._functional_tensor as functional_tensor

    tv_boxes._assert_has_ops = lambda: None  # un-gate ops.nms / batched_nms only
    sys.modules.setdefault("torchvision.transforms.functional_tensor", functional_tensor)
    logger.debug("torchvision compiled ops unavailable: registered the pure-torch nms")
    return Status.SHIMMED


def install(
    *,
    load_library: Callable[[str], None] | None = None,
    find_spec: Callable[[str], object] | None = None,
) -> Status:
    """Run the compatibility fix now, importing torchvision (idempotent); see the module docstring.

    Args:
        load_library: loads a compiled op library; defaults to ``torch.ops.load_library``.
            Tests inject a fake to simulate a machine where the real ops load.
        find_spec: module finder; defaults to ``importlib.util.find_spec``.

    Returns:
        What was done, as a :class:`Status`.
    """
    global _status
    _disarm()
    if _status is not Status.NOT_RUN:
        return _status
    if "torchvision" in sys.modules:
        _status = Status.ALREADY_IMPORTED
        return _status
    if load_library is None:
        import torch

        load_library = torch.ops.load_library
    prepared = _prepare(load_library, find_spec or importlib.util.find_spec)
    if prepared is not None:
        _status = prepared
        return _status
    import torchvision  # noqa: F401  (import now that the schemas exist)

    _status = _finish()
    return _status


class _FixOnImport(importlib.abc.Loader):
    """Wraps torchvision's real loader: the fix before its ``__init__`` runs, patches after."""

    def __init__(self, real: importlib.abc.Loader) -> None:
        self._real = real

    def create_module(self, spec: Any) -> Any:
        return self._real.create_module(spec)

    def exec_module(self, module: Any) -> None:
        global _status
        import torch

        _disarm()
        module.__loader__ = module.__spec__.loader = self._real  # nothing keeps pointing at us
        # torchvision is in sys.modules already (being initialised): its spec gives the folder.
        prepared = _prepare(torch.ops.load_library, lambda name: module.__spec__)
        self._real.exec_module(module)
        _status = _finish() if prepared is None else prepared


class _Hook(importlib.abc.MetaPathFinder):
    """Finds torchvision with the other finders and hands it out with :class:`_FixOnImport`.

    Only an actual import runs the fix: ``importlib.util.find_spec("torchvision")`` (an
    availability check) gets a spec and nothing else happens.
    """

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: Any = None) -> Any:
        if fullname != "torchvision" or _status is not Status.NOT_RUN:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _FixOnImport(spec.loader)
                return spec
        return None


_HOOK = _Hook()


def _arm() -> None:
    """Put the import hook in place (at import of this module)."""
    global _status
    if "torchvision" in sys.modules:
        _status = Status.ALREADY_IMPORTED
    elif _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)


def _disarm() -> None:
    if _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def status() -> Status:
    """What the fix did in this process (``NOT_RUN`` while torchvision was not imported yet)."""
    return _status


_arm()
