"""``headsup-train``: train HeadsUp on PortraitSR-4K shards (Hydra config ``conf/train.yaml``).

    headsup-train dataset.path=DS out_dir=DIR [experiment=tiny_smoke|stage1|stage2] [key=value ...]

Writes ``DIR/headsup.safetensors`` + ``DIR/headsup_config.json`` (trained tensors only) at the
end, resumable checkpoints in ``DIR/checkpoints/``, losses in ``DIR/train_log.jsonl``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

import headsup_model  # noqa: F401  (torchvision compat before peft/lpips)

logger = logging.getLogger(__name__)


def build_trainer(cfg: DictConfig) -> Any:
    """Everything a run needs, from the composed config (also used by tests)."""
    from hydra.utils import instantiate

    from headsup_model.data import DataConfig, TrainingSamples
    from headsup_model.losses.face import FaceLosses, FaceLossWeights
    from headsup_model.losses.vsd import VSDLoss
    from headsup_model.model import HeadsUpConfig, HeadsUpModel
    from headsup_model.training import checkpoint as ckpt
    from headsup_model.training.trainer import LossWeights, OptimConfig, TrainConfig, Trainer
    from headsup_model.weights_io import base_spec_from_config, build_base, load_state_into, read_config
    from portraitsr4k.dataset.reader import DatasetReader

    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    base_spec = base_spec_from_config(model_cfg)
    components = build_base(base_spec)
    regulariser_unet = copy.deepcopy(components.unet) if cfg.loss.vsd > 0 else None
    opts = OmegaConf.to_container(cfg.model_options, resolve=True)
    lora_seed = int(opts.pop("lora_seed", 0))
    model = HeadsUpModel(components=components, config=HeadsUpConfig(**opts), lora_seed=lora_seed)
    if cfg.init_from:
        from safetensors.torch import load_file

        from headsup_model.weights_io import WEIGHTS_NAME

        init_cfg = read_config(cfg.init_from)
        logger.info("initialising from %s (use_reference=%s)", cfg.init_from, init_cfg["model"]["use_reference"])
        load_state_into(model, load_file(f"{cfg.init_from}/{WEIGHTS_NAME}"))
    reader = DatasetReader(cfg.dataset.path, split=cfg.dataset.split)
    data_cfg = OmegaConf.to_container(cfg.data, resolve=True)
    samples = TrainingSamples(reader=reader, config=DataConfig(seed=int(cfg.train.seed), **data_cfg))
    degradation = instantiate(cfg.degradation)
    weights = LossWeights(**OmegaConf.to_container(cfg.loss, resolve=True))
    lpips = instantiate(cfg.lpips) if weights.lpips > 0 or (cfg.face_loss.enabled and cfg.face_loss.lpips > 0) else None
    face = None
    if cfg.face_loss.enabled:
        fw = FaceLossWeights(mse=cfg.face_loss.mse, lpips=cfg.face_loss.lpips, identity=cfg.face_loss.identity,
                             gan=cfg.face_loss.gan)
        face = FaceLosses(weights=fw, lpips=lpips if fw.lpips > 0 else None,
                          identity_net=instantiate(cfg.identity_net) if fw.identity > 0 else None,
                          discriminator=instantiate(cfg.discriminator) if fw.gan > 0 else None)
    vsd = None
    if regulariser_unet is not None:
        vsd = VSDLoss(unet=regulariser_unet, alphas_cumprod=components.scheduler.alphas_cumprod,
                      lora_rank=int(cfg.vsd.lora_rank), cfg_scale=float(cfg.vsd.cfg_scale),
                      t_range=(int(cfg.vsd.t_min), int(cfg.vsd.t_max)), lora_seed=lora_seed + 2)
    optim = OmegaConf.to_container(cfg.optim, resolve=True)
    optim["betas"] = tuple(optim["betas"])
    trainer = Trainer(model=model, prompt_encoder=components.prompt_encoder, samples=samples,
                      degradation=degradation, config=TrainConfig(**OmegaConf.to_container(cfg.train, resolve=True)),
                      weights=weights, optim=OptimConfig(**optim), vsd=vsd, lpips=lpips, face_losses=face,
                      out_dir=cfg.out_dir, base_spec=base_spec)
    if cfg.resume and (last := ckpt.latest(cfg.out_dir)) is not None:
        trainer.load_checkpoint(last)
    return trainer


@hydra.main(version_base="1.3", config_path="pkg://portraitsr4k.conf", config_name="train")
def main(cfg: DictConfig) -> None:
    trainer = build_trainer(cfg)
    logs = trainer.train()
    logger.info("finished at step %d (%s); trained weights in %s", trainer.step,
                " ".join(f"{k}={v:.4f}" for k, v in logs.items()), cfg.out_dir)


if __name__ == "__main__":
    main()
