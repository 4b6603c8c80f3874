"""Our MTCNN cascade equals facenet-pytorch's ``MTCNN.detect`` bit for bit, and its area
resampling equals torch's ``F.interpolate(mode="area")`` bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from portraitsr4k.faces.mtcnn_cascade import area_resize, area_resize_boxes, run_cascade

from .conftest import load_rgb


def test_area_resize_equals_torch_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(3, 160, 2))
        oh, ow = (int(v) for v in rng.integers(1, 90, 2))  # up- and down-sampling
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        # facenet-pytorch's layout: the channels-last permute of an (1, H, W, 3) tensor
        ref = F.interpolate(torch.from_numpy(rgb)[None].permute(0, 3, 1, 2).float(), size=(oh, ow), mode="area")
        out = np.empty((3, oh, ow), np.float32)
        area_resize(np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32), out)
        np.testing.assert_array_equal(out, ref[0].numpy())


def test_area_resize_boxes_equals_torch_on_each_crop() -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    img = np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32)
    y0 = rng.integers(0, 60, 25)
    x0 = rng.integers(0, 90, 25)
    y1 = y0 + rng.integers(1, 31, 25)
    x1 = x0 + rng.integers(1, 31, 25)
    out = np.empty((25, 3, 24, 24), np.float32)
    area_resize_boxes(img, y0, y1, x0, x1, out)
    full = torch.from_numpy(rgb)[None].permute(0, 3, 1, 2).float()
    for k in range(25):
        ref = F.interpolate(full[:, :, y0[k]:y1[k], x0[k]:x1[k]], size=(24, 24), mode="area")
        np.testing.assert_array_equal(out[k], ref[0].numpy())


def _facenet(mtcnn, rgb: np.ndarray, min_face: int) -> tuple[np.ndarray, np.ndarray]:
    model = mtcnn._model
    model.min_face_size = min_face
    try:
        with torch.inference_mode():
            boxes, probs, points = model.detect(rgb, landmarks=True)
    finally:
        model.min_face_size = mtcnn.min_face_size
    if boxes is None:
        return np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    probs = np.asarray(probs, np.float32).reshape(-1, 1)
    return np.concatenate([boxes, probs], axis=1), np.asarray(points, np.float32).reshape(-1, 5, 2)


def _no_face_photo() -> np.ndarray:
    rng = np.random.default_rng(2)
    coarse = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize((640, 480), Image.BICUBIC)
    noisy = np.asarray(coarse, np.float64) + rng.normal(0, 4, (480, 640, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", ["grace_hopper", "group_t1", "pyiqa_i04_ref", "no_face"])
@pytest.mark.parametrize("min_face", [20, 31])
def test_cascade_equals_facenet_pytorch_bit_for_bit(mtcnn, name, min_face) -> None:
    rgb = _no_face_photo() if name == "no_face" else load_rgb(name)
    expected_boxes, expected_points = _facenet(mtcnn, rgb, min_face)
    with torch.inference_mode():
        boxes, points = run_cascade(rgb, mtcnn._model.pnet, mtcnn._model.rnet, mtcnn._model.onet,
                                    min_face=min_face, thresholds=mtcnn.thresholds, factor=mtcnn.factor)
    np.testing.assert_array_equal(boxes, expected_boxes)
    np.testing.assert_array_equal(points, expected_points)
    if name == "group_t1" and min_face == 20:
        assert len(boxes) == 8  # the 6 people and two low-scoring boxes (module docstring of mtcnn)


def test_detector_uses_the_cascade_and_keeps_its_contract(mtcnn) -> None:
    rgb = load_rgb("grace_hopper")
    (face,) = mtcnn.detect(rgb)
    expected_boxes, expected_points = _facenet(mtcnn, rgb, 20)
    assert face.bbox == tuple(float(v) for v in expected_boxes[0, :4])
    assert face.score == float(expected_boxes[0, 4])
    assert face.landmarks == tuple((float(x), float(y)) for x, y in expected_points[0])
    assert mtcnn.detect(_no_face_photo()) == []


def test_image_smaller_than_the_searched_face_gives_no_faces(mtcnn) -> None:
    rgb = load_rgb("grace_hopper")[:30, :40]
    with torch.inference_mode():
        boxes, points = run_cascade(rgb, mtcnn._model.pnet, mtcnn._model.rnet, mtcnn._model.onet,
                                    min_face=40, thresholds=mtcnn.thresholds, factor=mtcnn.factor)
    assert boxes.shape == (0, 5) and points.shape == (0, 5, 2)
