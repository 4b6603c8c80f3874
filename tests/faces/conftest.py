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
def shipped_faces(mtcnn: FaceDetector, all_candidates: Callable[[str], list[Face]]) -> Callable[[str], list[Face]]:
    """``shipped_faces(name)``: the default detector's faces (candidates cut at its min_score);
    ``test_mtcnn.py::test_default_detector_equals_cut_candidates`` checks the equivalence."""

    def get(name: str) -> list[Face]:
        return [f for f in all_candidates(name) if f.score >= mtcnn.min_score]

    return get
