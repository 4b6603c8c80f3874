"""Fixtures for identity tests: the dlib embedder, shipped faces, tiny real-format models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from portraitsr4k import sample_photos
from portraitsr4k.faces import Face, build_detector
from portraitsr4k.identity import FaceEmbedder, build_embedder


def load_rgb(name: str) -> np.ndarray:
    with Image.open(sample_photos.locate(name)) as img:
        return np.asarray(img.convert("RGB"))


@pytest.fixture(scope="session")
def dlib_embedder() -> FaceEmbedder:
    return build_embedder("dlib")


@pytest.fixture(scope="session")
def portraits() -> dict[str, tuple[np.ndarray, Face]]:
    """name -> (image, its MTCNN face) for the single-face shipped portraits and two degraded
    copies of grace_hopper (x4 bicubic down/up-sampling; Gaussian blur radius 3)."""
    detector = build_detector("mtcnn")
    images = {name: load_rgb(name) for name in ("grace_hopper", "astronaut", "pyiqa_i04_ref")}
    gh = Image.fromarray(images["grace_hopper"])
    images["grace_hopper_x4"] = np.asarray(
        gh.resize((gh.width // 4, gh.height // 4), Image.BICUBIC).resize(gh.size, Image.BICUBIC))
    images["grace_hopper_blur"] = np.asarray(gh.filter(ImageFilter.GaussianBlur(3)))
    out = {}
    for name, img in images.items():
        faces = detector.detect(img)
        assert len(faces) == 1, name
        out[name] = (img, faces[0])
    return out


def make_arcface_onnx(path: Path, dim: int = 512, size: int = 112, seed: int = 0) -> np.ndarray:
    """A tiny ArcFace-shaped ONNX: ``(1, 3, size, size)`` -> ``(1, dim)`` = flatten @ W.
    Returns W so tests can compute the expected embedding independently."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(seed).standard_normal((3 * size * size, dim)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["input.1"], ["flat"]),
         helper.make_node("MatMul", ["flat", "W"], ["683"])],
        "tiny_arcface",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [None, 3, size, size])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, [None, dim])],
        initializer=[numpy_helper.from_array(weight, "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return weight
