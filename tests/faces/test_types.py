"""Face record: validation, scaling to full resolution, schema round trip."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from portraitsr4k.dataset.schema import FACE_FEATURE, FEATURES
from portraitsr4k.faces import Face

LMK = ((10.0, 20.0), (40.0, 24.0), (25.0, 35.0), (14.0, 48.0), (38.0, 50.0))


def test_interocular_and_coercion() -> None:
    face = Face(bbox=[0, 1, 50, 60], landmarks=[list(p) for p in LMK], score=1)
    assert face.bbox == (0.0, 1.0, 50.0, 60.0) and isinstance(face.landmarks[0], tuple)
    assert face.interocular == pytest.approx(math.hypot(30.0, 4.0))
    assert face.width == 50.0 and face.height == 59.0


def test_scaled_maps_every_coordinate() -> None:
    face = Face(bbox=(1, 2, 3, 4), landmarks=LMK, score=0.9)
    big = face.scaled(4.0, 2.0)
    assert big.bbox == (4.0, 4.0, 12.0, 8.0)
    assert big.landmarks[1] == (160.0, 48.0)
    assert big.score == 0.9
    # anisotropic scaling changes the interocular distance consistently
    assert big.interocular == pytest.approx(math.hypot(30.0 * 4, 4.0 * 2))
    with pytest.raises(ValueError, match="scale factors"):
        face.scaled(0.0, 1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(bbox=(0, 0, 1), landmarks=LMK, score=1.0), "bbox"),
        (dict(bbox=(5, 0, 1, 1), landmarks=LMK, score=1.0), "x1 <= x2"),
        (dict(bbox=(0, 0, 1, 1), landmarks=LMK[:4], score=1.0), "5"),
        (dict(bbox=(0, 0, 1, 1), landmarks=LMK[:4] + ((1.0, 2.0, 3.0),), score=1.0), r"landmarks\[4\]"),
        (dict(bbox=(0, 0, 1, 1), landmarks=LMK, score=float("nan")), "finite"),
    ],
)
def test_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Face(**kwargs)


def test_non_numeric_is_type_error() -> None:
    with pytest.raises(TypeError, match="bbox"):
        Face(bbox=("a", 0, 1, 1), landmarks=LMK, score=1.0)


def test_dict_round_trip_matches_dataset_schema() -> None:
    face = Face(bbox=(1.5, 2.5, 80.0, 90.0), landmarks=LMK, score=0.97)
    item = face.to_dict()
    assert set(item) == set(FACE_FEATURE)
    assert len(item["landmarks"]) == 5 and all(len(p) == 2 for p in item["landmarks"])
    # through the shard's Arrow type (float32 columns) and back
    arrow_type = FEATURES.arrow_schema.field("faces").type
    stored = pa.array([[item]], type=arrow_type).to_pylist()[0][0]
    back = Face.from_dict(stored)
    assert back.bbox == pytest.approx(face.bbox) and back.score == pytest.approx(face.score)
    assert back.landmarks == face.landmarks  # these values are exact in float32
    assert item["interocular"] == pytest.approx(face.interocular)
    with pytest.raises(ValueError, match="missing"):
        Face.from_dict({"bbox": [0, 0, 1, 1]})
    with pytest.raises(TypeError):
        Face.from_dict([1, 2, 3])  # type: ignore[arg-type]
