"""Every HeadsUp Hydra config composes; the tiny ones instantiate; the prompt encoder works offline."""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_module

from headsup_model.models.text import PromptEncoder, tiny_clip_tokenizer


@pytest.mark.parametrize("experiment", ["tiny_smoke", "stage1", "stage2"])
def test_train_configs_compose(experiment):
    with initialize_config_module(version_base="1.3", config_module="portraitsr4k.conf"):
        cfg = compose("train", overrides=[f"experiment={experiment}", "dataset.path=/x", "out_dir=/y",
                                          "init_from=/z"])
    assert cfg.loss.mse == 1.0 and cfg.loss.lpips == 2.0 and cfg.loss.vsd == 1.0
    assert cfg.face_loss.lpips == 0.8 and cfg.face_loss.identity == 4.0 and cfg.optim.lr == 5e-5
    assert cfg.vsd.cfg_scale == 7.5 and cfg.optim.grad_clip == 1.0
    if experiment == "tiny_smoke":
        assert cfg.lpips.random_backbone is True and cfg.model._target_.endswith("build_random")
    else:
        assert cfg.lpips.random_backbone is False and cfg.model._target_.endswith("load_pretrained")


def test_sr_and_method_configs_compose():
    with initialize_config_module(version_base="1.3", config_module="portraitsr4k.conf"):
        cfg = compose("sr", overrides=["checkpoint=/c", "input=/i", "output=/o"])
        assert cfg.scale == 4 and cfg.color_fix == "adain"
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    method = instantiate(OmegaConf.load(__import__("pathlib").Path(__file__).parents[2] / "conf/method/headsup.yaml"))
    from benchmarks.methods.base import MethodUnavailable

    with pytest.raises(MethodUnavailable, match="checkpoint"):
        method.check_available()


def test_prompt_encoder_offline(tiny_components):
    comps = tiny_components()
    emb = comps.prompt_encoder(["a portrait", "another, longer prompt!"])
    assert emb.shape == (2, 77, 32) and emb.dtype == torch.float32
    assert not torch.equal(emb[0], emb[1])
    tok = tiny_clip_tokenizer()
    assert isinstance(comps.prompt_encoder, PromptEncoder) and len(tok) == 2 + 2 * 68  # 26+10+32 symbols
    with pytest.raises(TypeError, match="list of str"):
        comps.prompt_encoder("a portrait")
