"""AdaFace IR backend: loading real checkpoint layouts (random weights saved by the test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from portraitsr4k.faces import Face
from portraitsr4k.identity import build_embedder
from portraitsr4k.identity.adaface import ARCFACE_112_TEMPLATE, IR_UNITS, build_ir_backbone
from portraitsr4k.weights import MissingWeightsError

from .conftest import load_rgb


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PORTRAITSR4K_HOME", str(tmp_path / "psr"))
    return tmp_path / "psr" / "weights"


@pytest.fixture(scope="module")
def ir18_state() -> dict:
    torch.manual_seed(0)
    net = build_ir_backbone(18).eval()
    # non-trivial BN statistics so a loading mistake would show
    for module in net.modules():
        if isinstance(module, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return net.state_dict()


def test_ir101_layout() -> None:
    assert sum(IR_UNITS[100]) == 49 and sum(IR_UNITS[50]) == 24
    net = build_ir_backbone(100)
    assert len(net.body) == 49
    names = set(net.state_dict())
    # parameter names of AdaFace's net.py, so its checkpoints load strictly
    assert {"input_layer.0.weight", "body.0.res_layer.1.weight", "body.3.shortcut_layer.0.weight",
            "output_layer.3.weight", "output_layer.4.running_mean"} <= names


def test_missing_checkpoint_explains_manual_download(home: Path) -> None:
    with pytest.raises(MissingWeightsError) as info:
        build_embedder("adaface")
    message = str(info.value)
    assert "adaface_ir101_webface12m.ckpt" in message
    assert "no direct download" in message
    assert str(home / "adaface" / "adaface_ir101_webface12m.ckpt") in message


def test_lightning_ckpt_layout_loads_and_embeds(home: Path, ir18_state: dict) -> None:
    ckpt = home / "adaface" / "adaface_ir101_webface12m.ckpt"
    ckpt.parent.mkdir(parents=True)
    state = {"model." + k: v for k, v in ir18_state.items()}
    state["head.kernel"] = torch.zeros(512, 10)  # training-only margin head, must be ignored
    torch.save({"state_dict": state, "epoch": 3}, ckpt)
    emb = build_embedder("adaface", depth=18)
    assert emb.name == "adaface_ir18" and emb.dim == 512 and emb.same_person_threshold == 0.65

    img = load_rgb("tom_hanks_aligned")
    face = Face(bbox=(0, 0, 112, 112), landmarks=tuple(map(tuple, ARCFACE_112_TEMPLATE)), score=1.0)
    v = emb.embed(img, face)
    assert v.shape == (512,) and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
    # independent forward: aligned image is the image itself; BGR in [-1, 1]
    reference = build_ir_backbone(18).eval()
    reference.load_state_dict(ir18_state)
    x = torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255 * 2 - 1
    with torch.no_grad():
        expected = reference(x)[0].numpy()
    assert np.allclose(v, expected / np.linalg.norm(expected), atol=1e-4)


def test_cvlface_safetensors_layout(tmp_path: Path, home: Path, ir18_state: dict) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "model.safetensors"
    save_file({"net." + k: v.contiguous() for k, v in ir18_state.items()}, str(path))
    emb = build_embedder("adaface", depth=18, model_path=path)
    img = load_rgb("tom_hanks_aligned")
    face = Face(bbox=(0, 0, 112, 112), landmarks=tuple(map(tuple, ARCFACE_112_TEMPLATE)), score=1.0)
    assert emb.embed_many(img, [face, face]).shape == (2, 512)


def test_depth_mismatch_is_explained(tmp_path: Path, home: Path, ir18_state: dict) -> None:
    path = tmp_path / "ir18.pt"
    torch.save(ir18_state, path)
    with pytest.raises(ValueError, match="not an AdaFace IR-50 checkpoint"):
        build_embedder("adaface", depth=50, model_path=path)
    with pytest.raises(ValueError, match="depth"):
        build_embedder("adaface", depth=77, model_path=path)
