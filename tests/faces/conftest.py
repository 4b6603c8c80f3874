"""Fixtures for face tests: one MTCNN detector and cached detections on the shipped photos."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from portraitsr4k import sample_photos
from portraitsr4k.faces import Face, FaceDetector, build_detector


def load_rgb(name: str) -> np.ndarray:
    with Image.open(sample_photos.locate(name)) as img:
        return np.asarray(img.convert("RGB"))


@pytest.fixture(scope="session")
def mtcnn() -> FaceDetector:
    """The default detector, built once (MTCNN costs ~1 s per 1280 px photo on this CPU)."""
    return build_detector("mtcnn")


@pytest.fixture(scope="session")
def all_candidates() -> Callable[[str], list[Face]]:
    """``all_candidates(name)``: every MTCNN cascade output (min_score=0) on a shipped photo,
    computed once per photo (MTCNN takes several seconds on the group photo on this CPU)."""
    permissive = build_detector("mtcnn", min_score=0.0)
    cache: dict[str, list[Face]] = {}

    def get(name: str) -> list[Face]:
        if name not in cache:
            cache[name] = permissive.detect(load_rgb(name))
        return cache[name]

    return get


@pytest.fixture(scope="session")
def shipped_faces(mtcnn: FaceDetector,
                  all_candidates: Callable[[str], list[Face]]) -> Callable[[str], list[Face]]:
    """``shipped_faces(name)``: the default detector's faces (candidates cut at its min_score);
    ``test_mtcnn.py::test_default_detector_equals_cut_candidates`` checks the equivalence."""

    def get(name: str) -> list[Face]:
        return [f for f in all_candidates(name) if f.score >= mtcnn.min_score]

    return get


def make_scrfd_onnx(path, *, hot_stride: int = 32, size: int = 640) -> None:
    """Write a tiny SCRFD-shaped ONNX (9 outputs: scores/bboxes/kps for strides 8, 16, 32;
    2 anchors) whose behaviour is known: at ``hot_stride`` a grid cell scores ~1 when it is
    bright and ~0 when dark; boxes reach 1 stride around the anchor; keypoints sit at fixed
    offsets. The other strides never fire. Lets the real insightface decode path run offline.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, outputs = [], [], []
    kps_offsets = np.array([[-0.5, -0.4], [0.5, -0.4], [0.0, 0.0], [-0.4, 0.5], [0.4, 0.5]], np.float32)
    for stride in (8, 16, 32):
        pooled = f"pool{stride}"
        nodes.append(helper.make_node("AveragePool", ["input.1"], [pooled], kernel_shape=[stride, stride],
                                      strides=[stride, stride]))
        hot = stride == hot_stride
        specs = {
            "score": (1, np.full((2, 3, 1, 1), 10.0 if hot else 0.0, np.float32),
                      np.full(2, -15.0 if hot else -20.0, np.float32)),
            "bbox": (4, np.zeros((8, 3, 1, 1), np.float32), np.ones(8, np.float32)),
            "kps": (10, np.zeros((20, 3, 1, 1), np.float32), np.tile(kps_offsets.ravel(), 2)),
        }
        for kind, (k, weight, bias) in specs.items():
            name = f"{kind}{stride}"
            inits += [numpy_helper.from_array(weight, f"{name}_w"),
                      numpy_helper.from_array(bias, f"{name}_b"),
                      numpy_helper.from_array(np.array([-1, k], np.int64), f"{name}_shape")]
            nodes += [helper.make_node("Conv", [pooled, f"{name}_w", f"{name}_b"], [f"{name}_c"]),
                      helper.make_node("Transpose", [f"{name}_c"], [f"{name}_t"], perm=[0, 2, 3, 1]),
                      helper.make_node("Reshape", [f"{name}_t", f"{name}_shape"],
                                       [f"{name}_r" if kind == "score" else name])]
            if kind == "score":
                nodes.append(helper.make_node("Sigmoid", [f"{name}_r"], [name]))
            outputs.append((kind, stride, helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, k])))
    order = {"score": 0, "bbox": 1, "kps": 2}
    outputs.sort(key=lambda item: (order[item[0]], item[1]))
    graph = helper.make_graph(nodes, "tiny_scrfd",
                              [helper.make_tensor_value_info("input.1", TensorProto.FLOAT,
                                                             [1, 3, size, size])],
                              [o[2] for o in outputs], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
