"""Hydra configs ``conf/detector/*`` and ``conf/identity/*``: compose all, instantiate the offline ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from hydra.utils import instantiate

from portraitsr4k.faces import FaceDetector
from portraitsr4k.identity import FaceEmbedder
from portraitsr4k.weights import MissingWeightsError


def compose_group(group: str, option: str):
    with initialize_config_module(config_module="portraitsr4k.conf", version_base="1.3"):
        return compose(config_name=None, overrides=[f"+{group}={option}"])[group]


def test_offline_configs_instantiate() -> None:
    detector = instantiate(compose_group("detector", "mtcnn"))
    assert isinstance(detector, FaceDetector) and detector.name == "mtcnn" and detector.min_score == 0.95
    embedder = instantiate(compose_group("identity", "dlib"))
    assert isinstance(embedder, FaceEmbedder) and embedder.name == "dlib_resnet_v1"


@pytest.mark.parametrize("group, option, missing", [
    ("detector", "scrfd", "det_10g.onnx"),
    ("detector", "retinaface", "detection_Resnet50_Final.pth"),
    ("identity", "arcface", "w600k_r50.onnx"),
    ("identity", "adaface", "adaface_ir101_webface12m.ckpt"),
])
def test_paper_grade_configs_name_their_missing_file(group: str, option: str, missing: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTRAITSR4K_HOME", str(tmp_path))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path))
    cfg = compose_group(group, option)
    assert cfg.name == option and cfg._target_.endswith(("build_detector", "build_embedder"))
    factory = instantiate(cfg, _partial_=True)  # how the builder uses it (built per worker)
    with pytest.raises(MissingWeightsError, match=missing):
        factory()
