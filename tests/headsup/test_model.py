"""HeadsUp generator: shapes, LoRA targets, zero-init equivalence with OSEDiff, reference on/off,
save → load round trip."""

from __future__ import annotations

import json

import pytest
import torch

from headsup_model.model import HeadsUpConfig, HeadsUpModel
from headsup_model.models.lora import count_lora_layers
from headsup_model.weights_io import CONFIG_NAME, base_spec_from_config, load_state_into, load_trained, save_trained

# Counted by hand from the tiny config (conf/model/tiny.yaml):
# VAE encoder: conv_in, conv_out, 4 blocks × (conv1, conv2) + 3 downsampler convs + 1 conv_shortcut
#   (16→32 in block 2), mid block 2 resnets × 2 convs + attention to_q/k/v/out.0, plus quant_conv
#   = 2 + 8 + 3 + 1 + 4 + 4 + 1 = 23.
# UNet: conv_in, conv_out; 3 transformer blocks (down 0, mid, up 1 ×2 = 4) × (2 attn × 4 + ff 2) + proj_in/out;
#   resnets: down 2×2 + 1 shortcut, mid 2×2, up 4×2 + 4 shortcuts; 1 downsampler, 1 upsampler conv.
VAE_LORA_TARGETS = 23
UNET_LORA_TARGETS = 2 + 4 * (2 * 4 + 2 + 2) + (4 + 1) + 4 + (8 + 4) + 2


def _randomise_lora(model: torch.nn.Module, seed: int) -> None:
    """Make every LoRA B non-zero, as after training (A is already random)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)


def _inputs(b: int = 2, size: int = 64, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    mask = torch.zeros(b, 1, size, size)
    mask[:, :, 16:48, 16:48] = 1
    return {"lq": torch.rand(b, 3, size, size, generator=gen) * 2 - 1,
            "ref": torch.rand(b, 3, size, size, generator=gen) * 2 - 1, "mask": mask}


def test_forward_shapes_and_range(tiny_components):
    comps = tiny_components()
    model = HeadsUpModel(components=comps)
    x = _inputs()
    pe = comps.prompt_encoder(["a portrait", "a portrait"])
    out = model(x["lq"], pe, reference_canvas=x["ref"], face_mask=x["mask"])
    assert out.image.shape == (2, 3, 64, 64)
    assert out.latent.shape == (2, 4, 8, 8)
    assert out.image.min() >= -1 and out.image.max() <= 1
    assert model.unet.conv_in.base_layer.weight.shape[1] == 9
    with pytest.raises(ValueError, match="multiples of 8"):
        model(x["lq"][:, :, :60], pe)


def test_lora_counts_and_trainable_set(tiny_components):
    model = HeadsUpModel(components=tiny_components(), config=HeadsUpConfig(lora_rank=4))
    assert len(model.vae_lora_targets) == VAE_LORA_TARGETS == count_lora_layers(model.vae)
    assert len(model.unet_lora_targets) == UNET_LORA_TARGETS == count_lora_layers(model.unet)
    assert "quant_conv" in model.vae_lora_targets and "post_quant_conv" not in model.vae_lora_targets
    assert not any(n.startswith("decoder.") for n in model.vae_lora_targets)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert all("lora_" in n or n.startswith("unet.conv_in.base_layer.") for n in trainable)
    assert "unet.conv_in.base_layer.weight" in trainable and "unet.conv_in.base_layer.bias" in trainable
    assert not any(n.startswith("vae.decoder.") or n.startswith("vae.post_quant_conv") for n in trainable)
    # every LoRA module is rank 4
    ranks = {p.shape[0] for n, p in model.named_parameters() if "lora_A" in n}
    assert ranks == {4}


def test_zero_init_equals_osediff_with_and_without_reference(tiny_components):
    """A HeadsUp model initialised from (trained-looking) OSEDiff weights computes exactly the
    OSEDiff output, whatever the reference and mask inputs are."""
    osediff = HeadsUpModel(components=tiny_components(), config=HeadsUpConfig(use_reference=False)).eval()
    _randomise_lora(osediff, seed=1)
    headsup = HeadsUpModel(components=tiny_components(), config=HeadsUpConfig(use_reference=True)).eval()
    load_state_into(headsup, osediff.trainable_state_dict())
    x = _inputs()
    pe = torch.randn(2, 77, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ref_out = osediff(x["lq"], pe).image
        no_ref = headsup(x["lq"], pe).image
        with_ref = headsup(x["lq"], pe, reference_canvas=x["ref"], face_mask=x["mask"]).image
    # Mathematically identical (the new kernels are exact zeros); a 9-channel conv sums in a
    # different order than a 4-channel one, so allow float32 rounding only.
    assert (no_ref - ref_out).abs().max() <= 1e-5
    assert (with_ref - ref_out).abs().max() <= 1e-5
    assert torch.equal(with_ref, no_ref)  # the reference/mask kernels contribute exact zeros


def test_reference_changes_output_once_new_kernels_are_trained(tiny_components):
    model = HeadsUpModel(components=tiny_components()).eval()
    _randomise_lora(model, seed=2)
    with torch.no_grad():
        model.unet.conv_in.base_layer.weight[:, 4:].normal_(0, 0.1, generator=torch.Generator().manual_seed(4))
    x = _inputs()
    pe = torch.zeros(2, 77, 32)
    with torch.no_grad():
        plain = model(x["lq"], pe, face_mask=x["mask"]).image
        with_ref = model(x["lq"], pe, reference_canvas=x["ref"], face_mask=x["mask"]).image
        dropped = model(x["lq"], pe, reference_canvas=x["ref"], face_mask=x["mask"],
                        reference_present=torch.tensor([False, True])).image
    assert not torch.allclose(plain, with_ref)
    assert torch.equal(dropped[0], plain[0]) and torch.equal(dropped[1], with_ref[1])


def test_save_load_round_trip_identical(tiny_components, tiny_model_cfg, tmp_path):
    model = HeadsUpModel(components=tiny_components()).eval()
    _randomise_lora(model, seed=5)
    save_trained(model, tmp_path, base_spec=base_spec_from_config(tiny_model_cfg))
    cfg = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert cfg["unet_lora_targets"] == model.unet_lora_targets
    from safetensors import safe_open

    with safe_open(str(tmp_path / "headsup.safetensors"), "pt") as f:
        keys = set(f.keys())
    assert keys == set(model.trainable_state_dict())
    assert not any(k.startswith("vae.decoder.") or ".base_layer." in k and "conv_in" not in k for k in keys)
    loaded = load_trained(tmp_path)
    x = _inputs()
    pe = torch.randn(2, 77, 32, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        a = model(x["lq"], pe, reference_canvas=x["ref"], face_mask=x["mask"]).image
        b = loaded(x["lq"], pe, reference_canvas=x["ref"], face_mask=x["mask"]).image
    assert torch.equal(a, b)


def test_checkpoint_errors(tmp_path, tiny_model_cfg):
    with pytest.raises(FileNotFoundError, match="not a HeadsUp checkpoint"):
        load_trained(tmp_path)
    with pytest.raises(ValueError, match="_target_"):
        base_spec_from_config({"_target_": "os.system", "command": "true"})


def test_missing_base_model_is_a_clear_error(tmp_path):
    from headsup_model.models.components import MissingBaseModelError, load_pretrained

    with pytest.raises(MissingBaseModelError, match="portraitsr4k-weights"):
        load_pretrained(source=str(tmp_path / "no-such-model"))
    with pytest.raises(MissingBaseModelError, match="stable-diffusion-2-1-base"):
        load_pretrained()
