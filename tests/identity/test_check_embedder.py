"""check_embedder: the availability check that loads no model raises what build_embedder raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.metrics.base import MetricUnavailable
from benchmarks.metrics.identity import IdentitySimilarity
from portraitsr4k.identity import check_embedder
from portraitsr4k.weights import MissingWeightsError

from .conftest import make_arcface_onnx


@pytest.fixture
def empty_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PORTRAITSR4K_HOME", str(tmp_path / "psr"))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path / "insightface"))
    return tmp_path


def test_dlib_files_ship_with_the_package() -> None:
    check_embedder("dlib")


def test_missing_weights_raise_like_build_embedder(empty_homes: Path) -> None:
    for name, filename in (("arcface", "w600k_r50.onnx"), ("adaface", "adaface_ir101_webface12m.ckpt")):
        with pytest.raises(MissingWeightsError, match=filename):
            check_embedder(name)
    with pytest.raises(FileNotFoundError, match="dlib model file"):
        check_embedder("dlib", model_dir=str(empty_homes / "nowhere"))
    with pytest.raises(ValueError, match="unknown face embedder"):
        check_embedder("facenet")


def test_arcface_with_its_file_present_passes(empty_homes: Path) -> None:
    path = empty_homes / "w600k_r50.onnx"
    make_arcface_onnx(path)
    check_embedder("arcface", model_path=str(path))


def test_identity_metric_checks_without_loading_the_model(empty_homes: Path) -> None:
    metric = IdentitySimilarity(model="dlib")
    metric.check_available()
    assert metric._embedder is None, "a fully cached run must not load the model"
    with pytest.raises(MetricUnavailable, match="w600k_r50.onnx"):
        IdentitySimilarity(model="arcface").check_available()
