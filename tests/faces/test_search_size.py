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


class _FloorRecorder(_Recorder):
    """A detector with MTCNN's 20 px floor that records the input sizes it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[tuple[int, int]] = []

    @property
    def search_floor_px(self) -> float:
        return 20.0

    def _detect(self, rgb: np.ndarray, min_face_px: float | None = None) -> list[Face]:
        self.shapes.append(rgb.shape[:2])
        return super()._detect(rgb, min_face_px)


@pytest.mark.parametrize("height, width, expected_long", [
    (3000, 4000, 1000),  # 1/4 draft used as is (>= 781 px needed; below max_side is fine)
    (2160, 3840, 960),  # 1/4 draft, 750 px needed
    (6000, 8000, 1563),  # 1/4 draft is 2000 px, shrunk to ceil(8000 * 20 / 102.4), not to 1024
])
def test_threshold_sets_the_detector_input_size(make_encoded, height, width, expected_long) -> None:
    data = make_encoded("JPEG", height, width)
    recorder = _FloorRecorder()
    settings = FaceSettings(max_side=1024, min_interocular=64.0)
    finding = find_faces(data, recorder, settings)
    (shape,) = recorder.shapes
    assert max(shape) == expected_long
    # The smallest face to keep is at least the floor at this size, and the hint says so.
    scale = width / shape[1]
    assert 64.0 * MIN_BOX_PER_INTEROCULAR / scale >= 20.0 - 1e-9
    assert recorder.hints == [pytest.approx(64.0 / max(finding.decoded.scale_x, finding.decoded.scale_y)
                                            * MIN_BOX_PER_INTEROCULAR, rel=1e-9)]
    assert finding.outcome.status == "rejected:no_face"


def test_without_a_floor_or_the_rule_the_input_is_fitted_to_max_side(make_encoded) -> None:
    data = make_encoded("JPEG", 3000, 4000)
    floorless, off = _Recorder(), _FloorRecorder()
    seen: list[tuple[int, int]] = []
    floorless._detect = lambda rgb, min_face_px=None: seen.append(rgb.shape[:2]) or []  # type: ignore[method-assign]
    find_faces(data, floorless, FaceSettings(max_side=1024))
    find_faces(data, off, FaceSettings(max_side=1024, search_from_threshold=False))
    assert max(seen[0]) == 1024 and max(off.shapes[0]) == 1024
    relaxed = _FloorRecorder()  # 12 px rule: 19.2 px boxes are below the floor -> full resolution
    find_faces(make_encoded("JPEG", 600, 800), relaxed, FaceSettings(max_side=512), relaxed=True)
    assert max(relaxed.shapes[0]) == 800
