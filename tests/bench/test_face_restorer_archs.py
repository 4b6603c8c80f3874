"""GFPGAN and CodeFormer restorers with their real architectures and random weights saved in the
official checkpoint layouts (``params_ema`` .pth), end to end through the blend method."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from benchmarks.methods.blend import BlendMethod
from benchmarks.methods.face_restorers import CodeFormerRestorer, GFPGANRestorer
from benchmarks.methods.interpolation import BicubicMethod

gfpgan_arch = pytest.importorskip("gfpgan.archs.gfpganv1_clean_arch",
                                  reason="the gfpgan package is installed by `make test` (Makefile NODEPS)")


def _random_state(net: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    # Small random weights keep activations finite through the deep StyleGAN2 decoder.
    return {k: (torch.randn(v.shape, generator=gen) * 0.02 if v.is_floating_point() else v.clone())
            for k, v in net.state_dict().items()}


@pytest.fixture(scope="module")
def gfpgan_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A thin (narrow=0.125, 7.6M parameters) GFPGANv1Clean saved as ``{"params_ema": ...}``."""
    net = gfpgan_arch.GFPGANv1Clean(out_size=512, num_style_feat=512, channel_multiplier=2, decoder_load_path=None,
                                    fix_decoder=False, num_mlp=8, input_is_latent=True, different_w=True,
                                    narrow=0.125, sft_half=True)
    path = tmp_path_factory.mktemp("gfpgan") / "GFPGANv1.4-tiny.pth"
    torch.save({"params_ema": _random_state(net, 0)}, path)
    return path


def test_gfpgan_restorer_loads_official_layout_and_restores(gfpgan_ckpt: Path, sample_rgb) -> None:
    restorer = GFPGANRestorer(model_path=str(gfpgan_ckpt), weights=None, narrow=0.125)
    restorer.check_available()
    face = np.asarray(Image.fromarray(sample_rgb("grace_hopper")).resize((512, 512)))
    out = restorer.restore(face)
    assert out.shape == (512, 512, 3) and out.dtype == np.uint8
    assert np.array_equal(out, restorer.restore(face)), "inference must be deterministic"
    assert out.std() > 0


def test_gfpgan_wrong_width_is_a_load_error(gfpgan_ckpt: Path) -> None:
    restorer = GFPGANRestorer(model_path=str(gfpgan_ckpt), weights=None, narrow=0.25)
    with pytest.raises(RuntimeError, match="size mismatch"):
        restorer.restore(np.zeros((512, 512, 3), np.uint8))


def test_blend_with_gfpgan_end_to_end(gfpgan_ckpt: Path, sample_rgb) -> None:
    hr = sample_rgb("grace_hopper")[:480, :400]
    lq = np.asarray(Image.fromarray(hr).resize((100, 120), Image.Resampling.BICUBIC))
    blend = BlendMethod(name="bicubic+gfpgan_tiny", base=BicubicMethod(), face_source="detect", mask="feather",
                        restorer=GFPGANRestorer(model_path=str(gfpgan_ckpt), weights=None, narrow=0.125))
    out = blend.upscale(lq, scale=4)
    assert out.shape == (480, 400, 3)
    assert blend.last_counts["pasted"] == 1, blend.last_counts
    base = BicubicMethod().upscale(lq, scale=4)
    changed = np.any(out != base, axis=2)
    assert changed.any() and not changed.all(), "only the face region is replaced"


def test_restorer_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="narrow"):
        GFPGANRestorer(narrow=0)
    with pytest.raises(ValueError, match="divisible"):
        CodeFormerRestorer(dim_embd=30, n_head=8)


@pytest.mark.slow
def test_codeformer_restorer_with_random_weights(tmp_path: Path) -> None:
    """Slow (~30 s CPU): CodeFormer's VQGAN encoder/decoder has a fixed width (~70M parameters)
    even with a one-layer transformer."""
    arch = pytest.importorskip("codeformer.basicsr.archs.codeformer_arch",
                               reason="codeformer-pip is installed by `make test` (Makefile NODEPS)")
    size = {"dim_embd": 64, "codebook_size": 64, "n_head": 2, "n_layers": 1}
    net = arch.CodeFormer(**size, connect_list=["32", "64", "128", "256"])
    path = tmp_path / "codeformer-tiny.pth"
    torch.save({"params_ema": _random_state(net, 1)}, path)
    restorer = CodeFormerRestorer(model_path=str(path), weights=None, fidelity=0.7, **size)
    out = restorer.restore(np.full((512, 512, 3), 128, np.uint8))
    assert out.shape == (512, 512, 3) and out.dtype == np.uint8
