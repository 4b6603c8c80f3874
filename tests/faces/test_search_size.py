"""The detector search-size hint: derived from the interocular rule, and it really restricts MTCNN."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from portraitsr4k.faces import MIN_BOX_PER_INTEROCULAR, Face, FaceDetector, detect_on_reduced
from portraitsr4k.stages.faces import FaceSettings, find_faces

from .conftest import load_rgb


def _shrunk(name: str, factor: float) -> np.ndarray:
    rgb = load_rgb(name)
    size = (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def test_box_to_interocular_bound_holds_on_every_shipped_face(mtcnn: FaceDetector) -> None:
    """The margin behind MIN_BOX_PER_INTEROCULAR: every real face's box is wider than the bound."""
    for name, factor in (("grace_hopper", 0.3), ("astronaut", 0.5), ("group_t1", 1.0), ("pyiqa_i04_ref", 0.5)):
        for face in mtcnn.detect(_shrunk(name, factor)):
            assert min(face.width, face.height) >= 1.15 * MIN_BOX_PER_INTEROCULAR * face.interocular, (name, face)


def test_hint_drops_faces_far_below_it_and_restores_the_setting(mtcnn: FaceDetector) -> None:
    small = _shrunk("astronaut", 0.3)  # ~13 px interocular, ~25 px box
    assert len(mtcnn.detect(small)) == 1
    assert mtcnn.detect(small, min_face_px=80) == []
    assert mtcnn._model.min_face_size == mtcnn.min_face_size == 20
    assert len(mtcnn.detect(small)) == 1


def test_face_exactly_at_the_threshold_is_still_found(mtcnn: FaceDetector) -> None:
    """A face whose interocular equals the keep threshold survives the derived search size."""
    rgb = _shrunk("grace_hopper", 0.3)
    (face,) = mtcnn.detect(rgb)
    # Pretend the photo is 4x larger (a reduced decode): the threshold is this face's own
    # full-resolution interocular distance, i.e. the face is exactly at the limit.
    threshold = face.interocular * 4.0
    found = detect_on_reduced(mtcnn, rgb, 4.0, 4.0, min_interocular=threshold)
    assert len(found) == 1 and found[0].interocular == pytest.approx(threshold, rel=0.02)


class _Recorder(FaceDetector):
    name = "recorder"
    supports_min_face = True

    def __init__(self) -> None:
        super().__init__(min_score=0.0)
        self.hints: list[float | None] = []

    def _detect(self, rgb: np.ndarray, min_face_px: float | None = None) -> list[Face]:
        self.hints.append(min_face_px)
        return []


def test_faces_stage_derives_the_hint_from_its_threshold(make_encoded) -> None:
    data = make_encoded("JPEG", 1500, 4000)  # reduced decode fitted to 1024 px: scale 4000 / 1024
    recorder = _Recorder()
    find_faces(data, recorder, FaceSettings(max_side=1024, min_interocular=64.0))
    find_faces(data, recorder, FaceSettings(max_side=1024, min_interocular=64.0), relaxed=True)
    find_faces(data, recorder, FaceSettings(max_side=1024, search_from_threshold=False))
    strict, relaxed, off = recorder.hints
    scale = 4000 / 1024
    assert strict == pytest.approx(64.0 / scale * MIN_BOX_PER_INTEROCULAR, rel=1e-3)
    assert relaxed == pytest.approx(12.0 / scale * MIN_BOX_PER_INTEROCULAR, rel=1e-3)
    assert off is None


def test_bad_hints_are_refused(mtcnn: FaceDetector) -> None:
    rgb = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="min_face_px"):
        mtcnn.detect(rgb, min_face_px=-1)
    with pytest.raises(ValueError, match="min_interocular"):
        detect_on_reduced(mtcnn, rgb, 1.0, 1.0, min_interocular=-3)
