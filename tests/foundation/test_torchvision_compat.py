"""The torchvision compatibility module: a no-op where compiled ops load, a correct nms elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from portraitsr4k import torchvision_compat


def _brute_force_nms(boxes: np.ndarray, scores: np.ndarray, thr: float) -> list[int]:
    """O(N^2) greedy NMS in numpy, written independently of the module under test, with
    torchvision's arithmetic: IoU in float32 (its ``scalar_t``), compared with the threshold in
    float64 (its ``double iou_threshold``). Exact ties matter: integer boxes with IoU 3/10 give
    float32 0.3000000119 > 0.3, so torchvision drops the box."""
    b = boxes.astype(np.float32)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept: list[int] = []
    for i in order:
        ok = True
        for j in kept:
            xx1, yy1 = max(b[i, 0], b[j, 0]), max(b[i, 1], b[j, 1])
            xx2, yy2 = min(b[i, 2], b[j, 2]), min(b[i, 3], b[j, 3])
            inter = max(np.float32(0), xx2 - xx1) * max(np.float32(0), yy2 - yy1)
            area_i = (b[i, 2] - b[i, 0]) * (b[i, 3] - b[i, 1])
            area_j = (b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1])
            if float(np.float32(inter / (area_i + area_j - inter))) > thr:
                ok = False
                break
        if ok:
            kept.append(i)
    return kept


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_torchvision_nms_matches_brute_force(seed: int, threshold: float) -> None:
    import torchvision

    rng = np.random.default_rng(seed)
    n = 200
    xy = rng.uniform(0, 100, size=(n, 2))
    wh = rng.uniform(5, 40, size=(n, 2))
    # Integer boxes: many pairs sit exactly on the threshold, where float32 vs float64 matters.
    boxes = np.round(np.concatenate([xy, xy + wh], axis=1)).astype(np.float32)
    scores = rng.permutation(n).astype(np.float32)  # distinct scores: a unique answer
    got = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold)
    assert got.dtype == torch.int64
    assert got.tolist() == _brute_force_nms(boxes, scores, threshold)


def test_nms_handles_empty_input() -> None:
    import torchvision

    out = torchvision.ops.nms(torch.zeros((0, 4)), torch.zeros((0,)), 0.5)
    assert out.shape == (0,) and out.dtype == torch.int64


def test_batched_nms_and_box_iou_work() -> None:
    import torchvision

    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]], dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7])
    idxs = torch.tensor([0, 0, 1])
    assert torchvision.ops.batched_nms(boxes, scores, idxs, 0.5).tolist() == [0, 2]
    assert torchvision.ops.box_iou(boxes[:1], boxes[:1]).item() == pytest.approx(1.0)


def test_status_reported() -> None:
    import torchvision  # noqa: F401  (the fix runs at the first import of torchvision)

    assert torchvision_compat.status() in {
        torchvision_compat.Status.SHIMMED,
        torchvision_compat.Status.NATIVE,
    }


def _run_isolated(code: str) -> dict:
    """Run ``code`` in a fresh interpreter (torchvision not yet imported) and parse its JSON."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_does_nothing_when_compiled_ops_load() -> None:
    """Simulate a machine where torchvision's own ops load: no schema defined, nothing patched."""
    result = _run_isolated(
        """
        import json, sys, torch
        import importlib
        # Import the module without running its install() side effect on this interpreter's
        # torchvision: load the source and call install() with a loader that "succeeds".
        import os
        # find_spec of the top-level package does not import it (its __init__ would run the fix).
        origin = os.path.join(os.path.dirname(importlib.util.find_spec("portraitsr4k").origin),
                              "torchvision_compat.py")
        src = open(origin).read().replace("\\n_arm()\\n", "\\n")
        mod = type(sys)("tvc_under_test"); exec(compile(src, origin, "exec"), mod.__dict__)
        loaded = []
        status = mod.install(load_library=lambda path: loaded.append(path))
        defined = True
        try:
            torch.ops.torchvision.nms
        except (AttributeError, RuntimeError):
            defined = False
        print(json.dumps({"status": status.value, "loaded": len(loaded), "nms_defined": defined,
                          "tv_imported": "torchvision" in sys.modules}))
        """
    )
    assert result == {"status": "native", "loaded": 1, "nms_defined": False, "tv_imported": False}


def test_absent_torchvision_is_a_no_op() -> None:
    result = _run_isolated(
        """
        import json, sys, importlib
        import os
        # find_spec of the top-level package does not import it (its __init__ would run the fix).
        origin = os.path.join(os.path.dirname(importlib.util.find_spec("portraitsr4k").origin),
                              "torchvision_compat.py")
        src = open(origin).read().replace("\\n_arm()\\n", "\\n")
        mod = type(sys)("tvc_under_test"); exec(compile(src, origin, "exec"), mod.__dict__)
        status = mod.install(find_spec=lambda name: None)
        print(json.dumps({"status": status.value, "tv_imported": "torchvision" in sys.modules}))
        """
    )
    assert result == {"status": "absent", "tv_imported": False}


def test_dependent_packages_import_after_the_fix() -> None:
    """The packages DESIGN.md lists as broken without the fix import in a fresh interpreter."""
    result = _run_isolated(
        """
        import json
        import portraitsr4k  # installs the fix first
        import torchvision, pyiqa, facexlib, lpips, facenet_pytorch, basicsr.data.degradations
        import torchvision.transforms.functional_tensor  # alias needed by basicsr 1.4.2
        from PIL import ImageFile
        print(json.dumps({"ok": True, "truncated_flag": ImageFile.LOAD_TRUNCATED_IMAGES}))
        """
    )
    assert result == {"ok": True, "truncated_flag": False}


def test_importing_the_package_is_cheap_and_the_fix_runs_at_the_first_torchvision_import() -> None:
    """``import portraitsr4k`` imports neither torch nor torchvision; an availability check
    (find_spec) runs nothing; the first real import of a torchvision submodule runs the fix."""
    result = _run_isolated(
        """
        import importlib.util, json, sys
        import portraitsr4k
        from portraitsr4k import torchvision_compat as tvc
        light = not ({"torch", "torchvision"} & set(sys.modules))
        found = importlib.util.find_spec("torchvision") is not None
        after_check = (tvc.status().value, "torch" in sys.modules)
        from torchvision.ops import boxes  # a submodule first: the package import runs the fix
        import torch
        keep = boxes.nms(torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11.0]]), torch.tensor([0.9, 0.8]), 0.5)
        print(json.dumps({"light": light, "found": found, "after_check": list(after_check),
                          "status": tvc.status().value, "keep": keep.tolist(),
                          "hook_gone": tvc._HOOK not in sys.meta_path,
                          "loader_restored": type(sys.modules["torchvision"].__loader__).__name__}))
        """
    )
    assert result["light"] and result["found"]
    assert result["after_check"] == ["not_run", False]
    assert result["status"] in ("shimmed", "native") and result["keep"] == [0]
    assert result["hook_gone"] and result["loader_restored"] != "_FixOnImport"
