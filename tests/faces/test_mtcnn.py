"""MTCNN (default, offline) on the shipped real photos."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from portraitsr4k.faces import Face, FaceDetector, build_detector, detect_on_reduced

from .conftest import load_rgb


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


@pytest.mark.parametrize("name", ["grace_hopper", "astronaut", "pyiqa_i04_ref"])
def test_single_portraits_have_one_face(shipped_faces: Callable[[str], list[Face]], name: str) -> None:
    faces = shipped_faces(name)
    assert len(faces) == 1, [f.score for f in faces]
    face = faces[0]
    (lx, ly), (rx, ry), (nx, ny), (mlx, mly), (mrx, mry) = face.landmarks
    assert lx < nx < rx, "eyes must be image-left/right of the nose"
    assert max(ly, ry) < ny < min(mly, mry), "eyes above nose above mouth"
    assert mlx < mrx


def test_grace_hopper_box_and_landmarks(shipped_faces: Callable[[str], list[Face]]) -> None:
    face = shipped_faces("grace_hopper")[0]
    # reference values from the dependency probe (facenet-pytorch MTCNN, same photo)
    assert iou(face.bbox, (174, 120, 356, 340)) > 0.95
    assert np.allclose(face.landmarks[0], (222, 192), atol=3)
    assert np.allclose(face.landmarks[1], (310, 186), atol=3)
    assert face.score > 0.99


def test_group_photo_has_six_faces_with_landmarks_inside_boxes(
        shipped_faces: Callable[[str], list[Face]]) -> None:
    faces = shipped_faces("group_t1")
    assert len(faces) == 6
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)
    for face in faces:
        x1, y1, x2, y2 = face.bbox
        for x, y in face.landmarks:
            assert x1 <= x <= x2 and y1 <= y <= y2
        assert face.interocular > 25
    # no two detections of the same person
    for i in range(len(faces)):
        for j in range(i + 1, len(faces)):
            assert iou(faces[i].bbox, faces[j].bbox) < 0.3


def test_min_score_controls_the_spurious_boxes(mtcnn: FaceDetector,
                                               all_candidates: Callable[[str], list[Face]]) -> None:
    """At a permissive cut the cascade's two spurious small boxes appear (the reason for 0.95)."""
    faces = all_candidates("group_t1")
    assert len(faces) > 6
    assert mtcnn.min_score == 0.95
    spurious = [f for f in faces if f.score < mtcnn.min_score]
    assert spurious and all(f.interocular < 25 for f in spurious)


def test_default_detector_equals_cut_candidates(mtcnn: FaceDetector,
                                                all_candidates: Callable[[str], list[Face]]) -> None:
    assert mtcnn.detect(load_rgb("astronaut")) == [f for f in all_candidates("astronaut") if f.score >= 0.95]


def test_no_face_in_synthetic_images(mtcnn: FaceDetector, make_image: Callable[..., np.ndarray]) -> None:
    for kind in ("flat", "gradient", "checker"):
        assert mtcnn.detect(make_image(160, 200, kind)) == []


@pytest.mark.parametrize("shape", [(1, 1), (10, 10), (19, 300), (300, 19)])
def test_images_smaller_than_min_face_size(mtcnn: FaceDetector, shape: tuple[int, int]) -> None:
    assert mtcnn.detect(np.full(shape + (3,), 128, np.uint8)) == []


def test_detect_on_reduced_maps_to_full_resolution(mtcnn: FaceDetector,
                                                   shipped_faces: Callable[[str], list[Face]]) -> None:
    full = load_rgb("group_t1")
    h, w = full.shape[:2]
    reduced = np.asarray(Image.fromarray(full).resize((w // 2, h // 2), Image.BILINEAR))
    mapped = detect_on_reduced(mtcnn, reduced, w / (w // 2), h / (h // 2))
    reference = shipped_faces("group_t1")
    assert len(mapped) == len(reference) == 6
    for ref in reference:
        best = max(mapped, key=lambda f: iou(f.bbox, ref.bbox))
        assert iou(best.bbox, ref.bbox) > 0.8
        # landmarks land within 20 % of the eye distance of the full-resolution ones
        # (half resolution: ~18 px between the eyes)
        err = np.abs(np.asarray(best.landmarks) - np.asarray(ref.landmarks)).max()
        assert err < 0.2 * ref.interocular


def test_large_face_found_on_reduced_decode(mtcnn: FaceDetector) -> None:
    """A5 row 24: a big face in a large frame is found on a reduced decode (what the builder does)."""
    small = load_rgb("grace_hopper")
    big = np.asarray(Image.fromarray(small).resize((small.shape[1] * 4, small.shape[0] * 4), Image.BICUBIC))
    reduced = np.asarray(Image.fromarray(big).reduce(4))
    faces = detect_on_reduced(mtcnn, reduced, 4.0, 4.0)
    assert len(faces) == 1
    assert iou(faces[0].bbox, tuple(v * 4 for v in (174, 120, 356, 340))) > 0.9
    assert faces[0].interocular > 64 * 4  # full-resolution measure used by the builder's gate


def test_input_validation(mtcnn: FaceDetector) -> None:
    with pytest.raises(TypeError, match="uint8"):
        mtcnn.detect(np.zeros((32, 32, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        mtcnn.detect(np.zeros((32, 32), dtype=np.uint8))
    with pytest.raises(TypeError, match="numpy"):
        mtcnn.detect([[0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scale_x"):
        detect_on_reduced(mtcnn, np.zeros((32, 32, 3), np.uint8), 0.0, 1.0)


def test_factory_validation() -> None:
    with pytest.raises(ValueError, match="unknown face detector"):
        build_detector("yolo")
    with pytest.raises(ValueError, match="min_score"):
        build_detector("mtcnn", min_score=1.5)
    with pytest.raises(ValueError, match="model_path"):
        build_detector("mtcnn", model_path="/x.pt")
