"""RetinaFace backend: loading a real-format ``.pth`` state dict (random init, made here),
routing through the weights home, CPU safety and error paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from portraitsr4k.faces import Face, build_detector
from portraitsr4k.weights import MissingWeightsError


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PORTRAITSR4K_HOME", str(tmp_path / "psr"))
    return tmp_path / "psr" / "weights"


def save_random_retinaface(path: Path, network: str, prefix: str = "") -> dict:
    """A random-init RetinaFace state dict in the release file's format (optionally with the
    ``module.`` prefix DataParallel checkpoints carry)."""
    from facexlib.detection.retinaface import RetinaFace

    torch.manual_seed(0)
    model = RetinaFace(network_name=network, half=False, phase="test", device=torch.device("cpu"))
    state = {prefix + k: v for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return model.state_dict()


def test_loads_from_weights_home_and_runs_on_cpu(isolated_home: Path, make_image) -> None:
    target = isolated_home / "facexlib" / "detection_mobilenet0.25_Final.pth"
    reference = save_random_retinaface(target, "mobile0.25", prefix="module.")
    det = build_detector("retinaface", network="mobile0.25", min_score=0.0)
    assert det.weights_path == target.resolve()
    loaded = det._model.state_dict()
    assert all(torch.equal(loaded[k], reference[k]) for k in reference)  # every tensor, prefix stripped
    assert all(p.device.type == "cpu" for p in det._model.parameters())
    faces = det.detect(make_image(120, 160))
    # random weights give arbitrary boxes; the contract is the type and ordering
    assert all(isinstance(f, Face) for f in faces)
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)


def test_missing_weights_names_file_and_fetch_command(isolated_home: Path) -> None:
    with pytest.raises(MissingWeightsError) as info:
        build_detector("retinaface")
    message = str(info.value)
    assert "detection_Resnet50_Final.pth" in message
    assert "portraitsr4k-weights fetch facexlib_retinaface_r50" in message
    assert str(isolated_home / "facexlib" / "detection_Resnet50_Final.pth") in message


def test_wrong_state_dict_is_a_clear_error(tmp_path: Path, isolated_home: Path) -> None:
    path = tmp_path / "bad.pth"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="not a RetinaFace-mobile0.25 state dict"):
        build_detector("retinaface", network="mobile0.25", model_path=path)


def test_unknown_network(isolated_home: Path) -> None:
    with pytest.raises(ValueError, match="network"):
        build_detector("retinaface", network="resnet18")
