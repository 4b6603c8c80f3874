"""SCRFD backend: weight routing, error paths, and the real insightface decode path on a tiny
SCRFD-shaped ONNX built by the test (no real det_10g.onnx exists on this machine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from portraitsr4k.faces import build_detector
from portraitsr4k.weights import MissingWeightsError, resolve

from .conftest import make_scrfd_onnx


@pytest.fixture
def isolated_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PORTRAITSR4K_HOME", str(tmp_path / "psr"))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path / "insightface"))
    return tmp_path


def test_missing_weights_error_names_file_and_command(isolated_homes: Path) -> None:
    with pytest.raises(MissingWeightsError) as info:
        build_detector("scrfd")
    message = str(info.value)
    assert "det_10g.onnx" in message
    assert "portraitsr4k-weights fetch insightface_scrfd_10g" in message
    assert str(isolated_homes / "insightface" / "models" / "buffalo_l" / "det_10g.onnx") in message
    assert str(isolated_homes / "psr" / "weights" / "insightface" / "buffalo_l" / "det_10g.onnx") in message


def test_found_in_insightface_model_dir_and_detects(isolated_homes: Path) -> None:
    model_dir = isolated_homes / "insightface" / "models" / "buffalo_l"
    model_dir.mkdir(parents=True)
    make_scrfd_onnx(model_dir / "det_10g.onnx")
    assert resolve("insightface_scrfd_10g") == (model_dir / "det_10g.onnx").resolve()

    det = build_detector("scrfd", min_score=0.5)
    # a 1280x1280 black image with one bright 64x64 block: letterboxed to 640, the block fills
    # the stride-32 cell (col 10, row 6) whose anchor is at (320, 192) in the 640 frame
    img = np.zeros((1280, 1280, 3), np.uint8)
    img[384:448, 640:704] = 255
    faces = det.detect(img)
    assert len(faces) == 1
    face = faces[0]
    assert face.score > 0.99
    # box = anchor +- 1 stride (32 px) in the 640 frame, x2 back to the full image
    assert np.allclose(face.bbox, (576, 320, 704, 448), atol=1.0)
    # keypoints = anchor + fixed offsets x stride, in image-left/right order
    assert np.allclose(face.landmarks[0], ((320 - 16) * 2, (192 - 12.8) * 2), atol=1.0)
    assert face.landmarks[0][0] < face.landmarks[1][0]
    assert det.detect(np.zeros((300, 400, 3), np.uint8)) == []


def test_explicit_folder_path_wins(isolated_homes: Path) -> None:
    folder = isolated_homes / "my_buffalo"
    folder.mkdir()
    make_scrfd_onnx(folder / "det_10g.onnx")
    det = build_detector("scrfd", model_path=folder)
    assert det.weights_path == (folder / "det_10g.onnx").resolve()


def test_recognition_model_is_rejected(isolated_homes: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["y"])], "not_a_detector",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3 * 112 * 112])])
    path = isolated_homes / "det_10g.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ValueError, match="not an SCRFD detector"):
        build_detector("scrfd", model_path=path)


def test_option_validation(isolated_homes: Path) -> None:
    with pytest.raises(ValueError, match="input_size"):
        build_detector("scrfd", input_size=(100, 100))
    with pytest.raises(ValueError, match="device"):
        build_detector("scrfd", device="tpu", model_path=isolated_homes)
