"""Make ``import torchvision`` work next to a CPU-only torch, and do nothing elsewhere.

Why this exists: the torchvision 0.28 wheel on PyPI links its compiled ops (``_C*.so``) against
CUDA libraries. Next to the CPU build of torch those libraries are missing, ``_C`` silently
fails to load, and ``torchvision/_meta_registrations.py`` then crashes at import with
``RuntimeError: operator torchvision::nms does not exist``. That breaks every package that
imports torchvision: pyiqa, facexlib, lpips, timm, facenet-pytorch, peft (via transformers).

What it does, in order, and only on the first call of :func:`install`:

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
import importlib.util
import logging
import os
import sys
from collections.abc import Callable

import torch

__all__ = ["Status", "install", "nms_reference", "status"]

logger = logging.getLogger(__name__)


class Status(str, enum.Enum):
    """Outcome of :func:`install`."""

    NOT_RUN = "not_run"
    ABSENT = "absent"  # torchvision is not installed
    ALREADY_IMPORTED = "already_imported"  # somebody imported torchvision before us
    NATIVE = "native"  # torchvision's compiled ops loaded: nothing was changed
    SHIMMED = "shimmed"  # pure-torch nms registered, torchvision imported


_status: Status = Status.NOT_RUN
_library: torch.library.Library | None = None  # keep a reference, or the registration is dropped


def nms_reference(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression in pure torch, torchvision's semantics.

    Args:
        boxes: ``(N, 4)`` boxes as ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``.
        scores: ``(N,)`` scores.
        iou_threshold: boxes whose IoU with a kept, higher-scoring box is *strictly greater*
            than this are dropped.

    Returns:
        ``(K,)`` int64 indices of the kept boxes, in decreasing score order.
    """
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    boxes = boxes.to(torch.float32)
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    # Stable sort so equal scores keep index order, as torchvision's CPU kernel does.
    order = torch.sort(scores, descending=True, stable=True).indices
    suppressed = torch.zeros(boxes.shape[0], dtype=torch.bool, device=boxes.device)
    keep: list[int] = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        inter_w = (torch.minimum(x2[i], x2) - torch.maximum(x1[i], x1)).clamp(min=0)
        inter_h = (torch.minimum(y2[i], y2) - torch.maximum(y1[i], y1)).clamp(min=0)
        inter = inter_w * inter_h
        iou = inter / (areas[i] + areas - inter)
        suppressed |= iou > iou_threshold
    return torch.tensor(keep, dtype=torch.int64, device=boxes.device)


def _compiled_op_files(find_spec: Callable[[str], object]) -> list[str] | None:
    spec = find_spec("torchvision")
    if spec is None or not getattr(spec, "submodule_search_locations", None):
        return None
    root = list(spec.submodule_search_locations)[0]  # type: ignore[attr-defined]
    return sorted(glob.glob(os.path.join(root, "_C*.so")) + glob.glob(os.path.join(root, "_C*.pyd")))


def install(
    *,
    load_library: Callable[[str], None] | None = None,
    find_spec: Callable[[str], object] | None = None,
) -> Status:
    """Run the compatibility fix once (idempotent); see the module docstring.

    Args:
        load_library: loads a compiled op library; defaults to ``torch.ops.load_library``.
            Tests inject a fake to simulate a machine where the real ops load.
        find_spec: module finder; defaults to ``importlib.util.find_spec``.

    Returns:
        What was done, as a :class:`Status`.
    """
    global _status, _library
    if _status is not Status.NOT_RUN:
        return _status
    load_library = load_library or torch.ops.load_library
    find_spec = find_spec or importlib.util.find_spec
    if "torchvision" in sys.modules:
        _status = Status.ALREADY_IMPORTED
        return _status
    so_files = _compiled_op_files(find_spec)
    if so_files is None:
        _status = Status.ABSENT
        return _status
    for so in so_files:
        try:
            load_library(so)
        except (OSError, RuntimeError) as err:  # CPU torch + CUDA-linked _C.so
            logger.debug("torchvision compiled ops did not load from %s: %s", so, err)
            continue
        _status = Status.NATIVE
        return _status

    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.impl("nms", nms_reference, "CPU")
    _library = lib

    import torchvision  # noqa: F401  (import now that the schemas exist)
    import torchvision.ops.boxes as tv_boxes
    import torchvision.transforms._functional_tensor as functional_tensor

    tv_boxes._assert_has_ops = lambda: None  # un-gate ops.nms / batched_nms only
    sys.modules.setdefault("torchvision.transforms.functional_tensor", functional_tensor)
    logger.debug("torchvision compiled ops unavailable: registered the pure-torch nms")
    _status = Status.SHIMMED
    return _status


def status() -> Status:
    """What :func:`install` did in this process (``NOT_RUN`` before it ran)."""
    return _status


install()
