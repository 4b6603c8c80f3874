"""Method contract (every conf/method config), Real-ESRGAN checkpoint layouts and tiling, folder."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from benchmarks.methods.archs.rrdbnet import RRDBNet
from benchmarks.methods.archs.srvgg import SRVGGNetCompact
from benchmarks.methods.base import MethodUnavailable, SRMethod, check_sr
from benchmarks.methods.folder import FolderMethod
from benchmarks.methods.realesrgan import RealESRGANMethod
from benchmarks.methods.tiling import tiled_forward

CONF = Path(__file__).resolve().parents[2] / "conf" / "method"
METHOD_CONFIGS = sorted(p.stem for p in CONF.glob("*.yaml"))


def _compose(overrides: list[str]):
    from hydra import compose, initialize_config_module

    with initialize_config_module(version_base="1.3", config_module="portraitsr4k.conf"):
        return compose("bench", overrides=["dataset.path=unused", *overrides])


@pytest.mark.parametrize("name", METHOD_CONFIGS)
def test_every_method_config_honours_the_contract(name: str, make_image) -> None:
    """Available methods return (h*s, w*s, 3) uint8; unavailable ones say what file they need."""
    from hydra.utils import instantiate

    cfg = _compose([])
    method = instantiate(cfg.method[name], device="cpu")
    assert isinstance(method, SRMethod) and method.name
    assert len(method.config_hash()) == 12
    lq = make_image(24, 32)
    sample = SimpleNamespace(id="x", faces=[], references=[], scale=4)
    try:
        method.check_available()
    except MethodUnavailable as err:
        # the reason must tell the user what to get (a file, a package, a setting), not just "no"
        assert len(err.reason) > 30 and any(hint in err.reason for hint in (
            "portraitsr4k-weights fetch", "pip install", "path", "checkpoint", ".pth", ".safetensors")), err.reason
        with pytest.raises(MethodUnavailable):  # and it never produces an output
            method.upscale(lq, scale=4, sample=sample)
        return
    out = method.upscale(lq, scale=4, sample=sample)
    check_sr(out, lq.shape, 4, method.name)


def test_default_method_set_runs_offline() -> None:
    """bicubic and lanczos (the demo's methods) must be available everywhere."""
    from hydra.utils import instantiate

    cfg = _compose([])
    for name in cfg.methods:
        instantiate(cfg.method[name]).check_available()


def _save_official(net: torch.nn.Module, path: Path, key: str) -> Path:
    torch.save({key: net.state_dict()}, path)
    return path


@pytest.mark.parametrize("arch,key", [("rrdb", "params_ema"), ("srvgg", "params")])
def test_realesrgan_loads_official_layout_and_tiles(tmp_path: Path, make_image, arch: str, key: str) -> None:
    torch.manual_seed(0)
    if arch == "rrdb":
        net = RRDBNet(num_feat=8, num_block=1, num_grow_ch=4)
        sizes = {"num_feat": 8, "num_block": 1, "num_grow_ch": 4}
        # official key names (RealESRGAN_x4plus.pth)
        assert {"conv_first.weight", "body.0.rdb1.conv1.weight", "body.0.rdb3.conv5.bias", "conv_body.weight",
                "conv_up1.weight", "conv_up2.weight", "conv_hr.weight", "conv_last.weight"} <= set(net.state_dict())
    else:
        net = SRVGGNetCompact(num_feat=8, num_conv=2)
        sizes = {"num_feat": 8, "num_conv": 2}
        # official layout: body.0 conv, body.1 PReLU (num_feat,), ..., last conv to 3*16 channels
        sd = net.state_dict()
        assert sd["body.1.weight"].shape == (8,) and sd[f"body.{2 * 2 + 2}.weight"].shape == (48, 8, 3, 3)
    ckpt = _save_official(net, tmp_path / "w.pth", key)
    lq = make_image(40, 56)
    untiled = RealESRGANMethod(arch=arch, weights=None, model_path=str(ckpt), tile=0, **sizes)
    tiled = RealESRGANMethod(arch=arch, weights=None, model_path=str(ckpt), tile=16, tile_pad=12, **sizes)
    a = untiled.upscale(lq, scale=4)
    b = tiled.upscale(lq, scale=4)
    assert a.shape == (160, 224, 3) and a.dtype == np.uint8
    # pad 12 >= the tiny nets' receptive-field radius, so tiles reproduce untiled inference
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    assert untiled.config_hash() != tiled.config_hash()
    # other dataset scales: network x4, then Lanczos to the target size (Real-ESRGAN --outscale)
    assert untiled.upscale(lq, scale=2).shape == (80, 112, 3)
    # a same-size batch (one (B, 3, h, w) forward) equals image-by-image inference
    lq2 = make_image(40, 56, seed=1)
    batch = untiled.upscale_batch([lq, lq2], scale=4)
    assert np.abs(batch[0].astype(int) - a.astype(int)).max() <= 1
    assert np.abs(batch[1].astype(int) - untiled.upscale(lq2, scale=4).astype(int)).max() <= 1


def test_tiled_forward_float_equality() -> None:
    torch.manual_seed(0)
    net = SRVGGNetCompact(num_feat=4, num_conv=3).eval()
    x = torch.rand(1, 3, 37, 45)
    with torch.no_grad():
        full = net(x)
    tiled = tiled_forward(net, x, scale=4, tile=16, pad=8)
    assert torch.allclose(full, tiled, atol=1e-5)


def test_realesrgan_missing_weights_is_unavailable_with_fetch_hint() -> None:
    m = RealESRGANMethod(arch="rrdb", weights="realesrgan_x4plus")
    with pytest.raises(MethodUnavailable) as info:
        m.check_available()
    assert "RealESRGAN_x4plus.pth" in info.value.reason and "portraitsr4k-weights fetch realesrgan_x4plus" in info.value.reason


def test_realesrgan_rejects_a_mismatched_checkpoint(tmp_path: Path, make_image) -> None:
    ckpt = _save_official(RRDBNet(num_feat=8, num_block=1, num_grow_ch=4), tmp_path / "w.pth", "params_ema")
    m = RealESRGANMethod(arch="rrdb", weights=None, model_path=str(ckpt), num_feat=8, num_block=2, num_grow_ch=4)
    with pytest.raises(RuntimeError, match="body.1"):
        m.upscale(make_image(16, 16), scale=4)


def test_folder_method_matches_ids_and_lists_problems(tmp_path: Path, make_image) -> None:
    from PIL import Image

    Image.fromarray(make_image(64, 96)).save(tmp_path / "a.png")
    Image.fromarray(make_image(60, 96)).save(tmp_path / "b.png")
    m = FolderMethod(name="ext", path=str(tmp_path))
    lq = make_image(16, 24)
    out = m.upscale(lq, scale=4, sample=SimpleNamespace(id="a"))
    assert out.shape == (64, 96, 3)
    problems = m.check_ids({"a": (64, 96), "b": (64, 96), "c": (64, 96)})
    assert problems == ["b.png: size 96x60, expected 96x64", "missing c.png"]
    with pytest.raises(ValueError, match="b.png is 96x60, expected 96x64"):
        m.upscale(lq, scale=4, sample=SimpleNamespace(id="b"))
    with pytest.raises(FileNotFoundError, match="no output for id 'c'"):
        m.upscale(lq, scale=4, sample=SimpleNamespace(id="c"))
    with pytest.raises(MethodUnavailable, match="path=DIR"):
        FolderMethod().check_available()


def test_method_validation() -> None:
    from benchmarks.methods.interpolation import BicubicMethod

    with pytest.raises(ValueError, match="folder name"):
        BicubicMethod(name="a/b")
    with pytest.raises(ValueError, match="uint8"):
        BicubicMethod().upscale(np.zeros((4, 4, 3), np.float32), scale=2)
    with pytest.raises(ValueError, match="must return"):
        check_sr(np.zeros((8, 8, 3), np.uint8), (4, 4, 3), 4, "m")
