"""HeadsUp training on a tiny dataset in the builder's layout: data sampling, loss decrease on a
fixed batch, exact resume."""

from __future__ import annotations

import copy

import pytest
import torch

import degradations
from headsup_model.data import DataConfig, TrainingSamples
from headsup_model.losses.face import FaceLosses, FaceLossWeights
from headsup_model.losses.perceptual import LPIPSLoss
from headsup_model.losses.vsd import VSDLoss
from headsup_model.model import HeadsUpModel
from headsup_model.models.arcface_irse import ArcFaceIRSE50
from headsup_model.models.discriminator import PatchDiscriminator
from headsup_model.training.trainer import LossWeights, OptimConfig, TrainConfig, Trainer
from headsup_model.weights_io import base_spec_from_config
from portraitsr4k.dataset.reader import DatasetReader

TINY_ARCFACE = ((8, 8, 1), (8, 8, 1), (8, 16, 1), (16, 16, 1))
_LPIPS: list[LPIPSLoss] = []


def _shared_lpips() -> LPIPSLoss:
    """One frozen smoke-test LPIPS for the module (building VGG16 costs seconds; it holds no state)."""
    if not _LPIPS:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(7)
            _LPIPS.append(LPIPSLoss(random_backbone=True))
    return _LPIPS[0]


def _samples(root, **kw) -> TrainingSamples:
    cfg = dict(crop_size=32, reference_size=16, sources={"portrait": 1.0, "aligned_face": 0.5, "general": 0.5},
               reference_dropout=0.2, seed=3)
    cfg.update(kw)
    return TrainingSamples(reader=DatasetReader(root, split="train"), config=DataConfig(**cfg))


def _trainer(tiny_components, tiny_model_cfg, root, out_dir, *, steps, lr=5e-5, full=True) -> Trainer:
    comps = tiny_components()
    vsd_unet = copy.deepcopy(comps.unet)
    model = HeadsUpModel(components=comps)
    face = None
    if full:
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(7)
        lpips = _shared_lpips()
        face = FaceLosses(weights=FaceLossWeights(), lpips=lpips, identity_net=ArcFaceIRSE50(stages=TINY_ARCFACE),
                          discriminator=PatchDiscriminator(base_channels=8, n_layers=2))
        torch.random.set_rng_state(gen_state)
    vsd = VSDLoss(unet=vsd_unet, alphas_cumprod=comps.scheduler.alphas_cumprod) if full else None
    return Trainer(model=model, prompt_encoder=comps.prompt_encoder, samples=_samples(root, crop_size=32),
                   degradation=degradations.build("osediff", scale=4),
                   config=TrainConfig(max_steps=steps, batch_size=2, face_size=16, checkpoint_every=1, log_every=1,
                                      seed=11, mixed_precision="no"),
                   weights=LossWeights() if full else LossWeights(lpips=0, vsd=0), optim=OptimConfig(lr=lr),
                   vsd=vsd, lpips=face.lpips if face else None, face_losses=face, out_dir=out_dir,
                   base_spec=base_spec_from_config(tiny_model_cfg))


def test_samples_are_deterministic_and_well_formed(tiny_dataset):
    ds = _samples(tiny_dataset, crop_size=64, reference_size=32)
    a, b = ds[5], ds[5]
    for key in a:
        assert torch.equal(a[key], b[key]), key
    seen_face = seen_ref = False
    for k in range(24):
        item = ds[k]
        assert item["hr"].shape == (3, 64, 64) and item["hr"].dtype == torch.float32
        assert 0 <= item["hr"].min() and item["hr"].max() <= 1
        assert item["mask"].shape == (1, 64, 64) and item["reference"].shape == (3, 32, 32)
        if item["has_face"]:
            seen_face = True
            lm = item["landmarks"]
            assert (lm >= -1).all() and (lm <= 65).all()  # primary face inside the crop
            assert item["mask"].sum() > 0
        seen_ref |= bool(item["reference_present"])
    assert seen_face and seen_ref


def test_data_config_validation():
    with pytest.raises(ValueError, match="sources"):
        DataConfig(sources={"faces": 1.0})
    with pytest.raises(ValueError, match="crop_size"):
        DataConfig(crop_size=100)


def test_training_reduces_loss_on_fixed_batch(tiny_components, tiny_model_cfg, tiny_dataset, tmp_path):
    """A few steps on one fixed batch reduce the pixel losses (MSE-only run: fast; every loss
    term is exercised by the resume test)."""
    trainer = _trainer(tiny_components, tiny_model_cfg, tiny_dataset, tmp_path / "run", steps=100, lr=2e-3,
                       full=False)
    batch = next(iter(trainer.loader()))
    assert bool(batch["has_face"].any())

    def loss() -> float:
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            terms, _ = trainer.losses(trainer.make_inputs(batch), gen)
        return float(terms["mse"] + terms.get("face_mse", 0.0))

    before = loss()
    for _ in range(5):
        trainer.train_step(batch)
    after = loss()
    assert after < 0.9 * before, (before, after)


def test_resume_is_bit_identical(tiny_components, tiny_model_cfg, tiny_dataset, tmp_path):
    """N=2 steps straight == k=1 step + checkpoint + resume in a fresh trainer + 1 step (CPU),
    with every loss term, the VSD regulariser and the face discriminator active."""
    from headsup_model.training.checkpoint import latest

    straight = _trainer(tiny_components, tiny_model_cfg, tiny_dataset, tmp_path / "a", steps=2)
    logs = straight.train()
    assert set(logs) >= {"mse", "lpips", "vsd", "face_mse", "face_lpips", "identity", "face_gan", "regulariser",
                         "discriminator", "total"}
    first = _trainer(tiny_components, tiny_model_cfg, tiny_dataset, tmp_path / "b", steps=2)
    first.train(until=1)
    resumed = _trainer(tiny_components, tiny_model_cfg, tiny_dataset, tmp_path / "b", steps=2)
    resumed.load_checkpoint(latest(tmp_path / "b"))
    assert resumed.step == 1
    resumed.train()
    a = straight._generator().trainable_state_dict()
    b = resumed._generator().trainable_state_dict()
    assert a.keys() == b.keys()
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, diff[:5]
    ra, rb = straight.vsd.trainable_state_dict(), resumed.vsd.trainable_state_dict()
    assert all(torch.equal(ra[k], rb[k]) for k in ra)
    da, db = straight.disc.state_dict(), resumed.disc.state_dict()
    assert all(torch.equal(da[k], db[k]) for k in da)
    # the final checkpoint holds only trained tensors
    assert (tmp_path / "a" / "headsup.safetensors").is_file()
