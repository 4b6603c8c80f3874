"""HeadsUp training loop (accelerate): OSEDiff losses + face-region losses, three optimisers.

Per step (batch of ``B`` HR crops from :class:`headsup_model.data.TrainingSamples`):
1. LQ on the training device: ``degradation.apply(hr, [sample_params(gen_k)])`` with one
   generator per sample seeded from ``(seed, k)``; bicubic back to the crop size (OSEDiff's
   ``resize_bak``); reference canvas and face mask from the stored landmarks;
2. generator: ``L = 1·MSE + 2·LPIPS + 1·VSD + 1·face MSE + 0.8·face LPIPS + 4·identity + λ·face GAN``
   (every weight a config value), AdamW 5e-5, grad-norm clip 1.0;
3. VSD regulariser LoRA: its own AdamW on the ε-prediction loss;
4. face discriminator: its own AdamW on the non-saturating loss.
Per-step randomness (VSD timesteps/noise) comes from a generator seeded from ``(seed, step)``,
so resuming at step k reproduces the uninterrupted run bit for bit on CPU.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from headsup_model.data import TrainingSamples
from headsup_model.facecrop import aligned_faces, reference_canvas
from headsup_model.losses.face import FaceLosses
from headsup_model.losses.perceptual import LPIPSLoss
from headsup_model.losses.vsd import VSDLoss
from headsup_model.model import HeadsUpModel
from headsup_model.models.text import DEFAULT_NEGATIVE_PROMPT, DEFAULT_PROMPT, PromptEncoder
from headsup_model.training import checkpoint as ckpt
from headsup_model.weights_io import load_state_into, save_trained

logger = logging.getLogger(__name__)


def derive_seed(*parts: int) -> int:
    """A 63-bit seed from integers (stable across runs and platforms)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, dtype=np.uint64)[0] >> 1)


@dataclass(frozen=True)
class LossWeights:
    """OSEDiff's 1/2/1 and HeadsUp's stated 1/0.8/4; the face-GAN weight is ours (paper: unknown)."""

    mse: float = 1.0
    lpips: float = 2.0
    vsd: float = 1.0

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            if v < 0:
                raise ValueError(f"loss weight {k}: expected >= 0, got {v}")


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 5e-5
    lr_regulariser: float = 5e-5
    lr_discriminator: float = 5e-5
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 1e-2
    eps: float = 1e-8
    grad_clip: float = 1.0
    warmup_steps: int = 0

    def __post_init__(self) -> None:
        if min(self.lr, self.lr_regulariser, self.lr_discriminator) <= 0:
            raise ValueError("learning rates must be > 0")
        if self.grad_clip <= 0 or self.warmup_steps < 0:
            raise ValueError(f"expected grad_clip > 0 and warmup_steps >= 0, got {self.grad_clip}, {self.warmup_steps}")


@dataclass(frozen=True)
class TrainConfig:
    max_steps: int = 100_000
    batch_size: int = 4
    face_size: int = 512
    scale: int = 4
    mixed_precision: str = "fp16"
    checkpoint_every: int = 1000
    log_every: int = 10
    seed: int = 0
    prompt: str = DEFAULT_PROMPT
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    num_workers: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.batch_size < 1 or self.checkpoint_every < 1 or self.log_every < 1:
            raise ValueError("max_steps, batch_size, checkpoint_every and log_every must be >= 1")
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise ValueError(f"mixed_precision: expected 'no', 'fp16' or 'bf16', got {self.mixed_precision!r}")


class Trainer:
    """Owns the model, losses, optimisers and checkpoints of one run in ``out_dir``.

    ``vsd``, ``lpips`` and ``face_losses`` may be None when their weights are 0 (tests).
    ``base_spec`` is written into the final checkpoint config (see :mod:`headsup_model.weights_io`).
    """

    def __init__(self, *, model: HeadsUpModel, prompt_encoder: PromptEncoder, samples: TrainingSamples,
                 degradation: Any, config: TrainConfig, weights: LossWeights = LossWeights(),
                 optim: OptimConfig = OptimConfig(), vsd: VSDLoss | None = None, lpips: LPIPSLoss | None = None,
                 face_losses: FaceLosses | None = None, out_dir: str | Path, base_spec: dict[str, Any]) -> None:
        from accelerate import Accelerator

        if weights.vsd > 0 and vsd is None:
            raise ValueError("weights.vsd > 0 needs a VSDLoss (vsd=None given)")
        if weights.lpips > 0 and lpips is None:
            raise ValueError("weights.lpips > 0 needs an LPIPSLoss (lpips=None given)")
        if model.config.use_reference is False and face_losses is None:
            logger.info("plain OSEDiff run (no reference inputs, no face losses)")
        self.config, self.weights, self.optim_cfg = config, weights, optim
        self.out_dir, self.base_spec = Path(out_dir), base_spec
        mp = config.mixed_precision if torch.cuda.is_available() else "no"
        self.accelerator = Accelerator(mixed_precision=mp, cpu=not torch.cuda.is_available())
        self.device = self.accelerator.device
        self.model, self.vsd, self.lpips, self.face_losses = model, vsd, lpips, face_losses
        self.samples, self.degradation = samples, degradation
        with torch.no_grad():
            embeds = prompt_encoder([config.prompt, config.negative_prompt])
        self.positive, self.negative = embeds[:1].to(self.device), embeds[1:].to(self.device)

        def adamw(params: list[torch.nn.Parameter], lr: float) -> torch.optim.AdamW:
            return torch.optim.AdamW(params, lr=lr, betas=optim.betas, weight_decay=optim.weight_decay, eps=optim.eps)

        def warmup(opt: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LambdaLR:
            # OSEDiff: "constant"; optional linear warm-up.
            return torch.optim.lr_scheduler.LambdaLR(
                opt, lambda s: min(1.0, (s + 1) / optim.warmup_steps) if optim.warmup_steps else 1.0)

        self.gen_params = [p for p in model.parameters() if p.requires_grad]
        self.opt = adamw(self.gen_params, optim.lr)
        self.sched = warmup(self.opt)
        self.opt_reg = adamw(vsd.trainable_parameters(), optim.lr_regulariser) if vsd is not None else None
        self.disc = face_losses.discriminator if face_losses is not None else None
        self.opt_disc = adamw(list(self.disc.parameters()), optim.lr_discriminator) if self.disc is not None else None
        modules = [m for m in (model, vsd, lpips, face_losses) if m is not None]
        for m in modules:
            m.to(self.device)
        self.model, self.opt = self.accelerator.prepare(self.model, self.opt)
        if self.opt_reg is not None:
            self.opt_reg = self.accelerator.prepare(self.opt_reg)
        if self.opt_disc is not None:
            self.opt_disc = self.accelerator.prepare(self.opt_disc)
        self.step = 0
        self.log_path = self.out_dir / "train_log.jsonl"

    # --- one step ----------------------------------------------------------------------------
    def make_inputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """LQ (degraded on device, resized back), canvas, mask; all in ``[-1, 1]`` except the mask."""
        hr = batch["hr"].to(self.device)
        hr_size = (int(hr.shape[-2]), int(hr.shape[-1]))
        params = [self.degradation.sample_params(
                      torch.Generator().manual_seed(derive_seed(self.config.seed, 1, int(k))), hr_size=hr_size)
                  for k in batch["index"]]
        lq = self.degradation.apply(hr, params)
        lq_up = F.interpolate(lq, size=hr.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
        has_face = batch["has_face"].to(self.device)
        present = batch["reference_present"].to(self.device) & has_face
        canvas = torch.zeros_like(hr)
        if bool(present.any()):
            idx = present.nonzero().flatten().cpu()
            canvas[idx] = reference_canvas(batch["reference"][idx].to(self.device),
                                           batch["landmarks"][idx].numpy(), tuple(hr.shape[-2:])).to(canvas.dtype)
        return {"hr": hr * 2 - 1, "lq": lq_up * 2 - 1, "canvas": canvas, "mask": batch["mask"].to(self.device),
                "present": present, "has_face": has_face, "landmarks": batch["landmarks"]}

    def losses(self, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> tuple[dict[str, torch.Tensor], Any]:
        """Weighted generator loss terms and the model output."""
        b = inputs["hr"].shape[0]
        use_ref = self.accelerator.unwrap_model(self.model).config.use_reference
        with self.accelerator.autocast():
            out = self.model(inputs["lq"], self.positive.expand(b, -1, -1),
                             reference_canvas=inputs["canvas"] if use_ref else None,
                             face_mask=inputs["mask"] if use_ref else None,
                             reference_present=inputs["present"] if use_ref else None)
        w = self.weights
        terms = {"mse": w.mse * F.mse_loss(out.image.float(), inputs["hr"])}
        if w.lpips > 0:
            terms["lpips"] = w.lpips * self.lpips(out.image, inputs["hr"])
        if w.vsd > 0:
            terms["vsd"] = w.vsd * self.vsd.generator_loss(out.latent, self.positive.expand(b, -1, -1),
                                                           self.negative.expand(b, -1, -1), generator)
        out.sr_faces = out.hr_faces = None
        if self.face_losses is not None and bool(inputs["has_face"].any()):
            idx = inputs["has_face"].nonzero().flatten().cpu()
            lms = inputs["landmarks"][idx].numpy()
            out.sr_faces = aligned_faces(out.image[idx].float(), lms, self.config.face_size)
            out.hr_faces = aligned_faces(inputs["hr"][idx], lms, self.config.face_size)
            terms.update(self.face_losses(out.sr_faces, out.hr_faces))
        return terms, out

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        gen = torch.Generator().manual_seed(derive_seed(self.config.seed, 2, self.step))
        self.model.train()
        inputs = self.make_inputs(batch)
        terms, out = self.losses(inputs, gen)
        total = sum(terms.values())
        self.accelerator.backward(total)
        self.accelerator.clip_grad_norm_(self.gen_params, self.optim_cfg.grad_clip)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        logs = {k: float(v.detach()) for k, v in terms.items()}
        logs["total"] = float(total.detach())
        if self.vsd is not None and self.weights.vsd > 0:
            with self.accelerator.autocast():
                reg = self.vsd.regulariser_loss(out.latent, self.positive.expand(out.latent.shape[0], -1, -1), gen)
            self.accelerator.backward(reg)
            self.accelerator.clip_grad_norm_(self.vsd.trainable_parameters(), self.optim_cfg.grad_clip)
            self.opt_reg.step()
            self.opt_reg.zero_grad(set_to_none=True)
            logs["regulariser"] = float(reg.detach())
        if self.opt_disc is not None and out.sr_faces is not None and self.face_losses.weights.gan > 0:
            d_loss = self.face_losses.discriminator_loss(out.sr_faces, out.hr_faces)
            self.accelerator.backward(d_loss)
            self.accelerator.clip_grad_norm_(list(self.disc.parameters()), self.optim_cfg.grad_clip)
            self.opt_disc.step()
            self.opt_disc.zero_grad(set_to_none=True)
            logs["discriminator"] = float(d_loss.detach())
        self.step += 1
        return logs

    # --- loop ---------------------------------------------------------------------------------
    def loader(self) -> DataLoader:
        b = self.config.batch_size
        return DataLoader(self.samples, batch_size=b, sampler=range(self.step * b, self.config.max_steps * b),
                          num_workers=self.config.num_workers)

    def train(self, until: int | None = None) -> dict[str, float]:
        """Train from ``self.step`` to ``until`` (default ``max_steps``); checkpoints every
        ``checkpoint_every`` steps and at the end; returns the last step's losses."""
        until = self.config.max_steps if until is None else min(until, self.config.max_steps)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        logs: dict[str, float] = {}
        bar = tqdm(total=until - self.step, desc="headsup-train", disable=not self.accelerator.is_main_process)
        for batch in self.loader():
            if self.step >= until:
                break
            logs = self.train_step(batch)
            bar.update(1)
            bar.set_postfix(loss=f"{logs['total']:.4f}")
            if self.step % self.config.log_every == 0 or self.step == until:
                logger.info("step %d: %s", self.step, " ".join(f"{k}={v:.4f}" for k, v in logs.items()))
                with open(self.log_path, "a") as fh:
                    fh.write(json.dumps({"step": self.step, **logs}) + "\n")
            if self.step % self.config.checkpoint_every == 0 or self.step == until:
                self.save_checkpoint()
        bar.close()
        if self.step >= self.config.max_steps:
            self.save_final()
        return logs

    # --- checkpoints --------------------------------------------------------------------------
    def _generator(self) -> HeadsUpModel:
        return self.accelerator.unwrap_model(self.model)

    def save_final(self) -> Path:
        """Trained tensors only (LoRA + conv_in) + config into ``out_dir`` (what headsup-sr loads)."""
        return save_trained(self._generator(), self.out_dir, base_spec=self.base_spec,
                            extra={"step": self.step, "seed": self.config.seed})

    def save_checkpoint(self) -> Path:
        tensors = {f"generator.{k}": v for k, v in self._generator().trainable_state_dict().items()}
        if self.vsd is not None:
            tensors.update({f"regulariser.{k}": v for k, v in self.vsd.trainable_state_dict().items()})
        if self.disc is not None:
            tensors.update({f"discriminator.{k}": v for k, v in self.disc.state_dict().items()})
        tensors["rng.torch_cpu"] = torch.get_rng_state()
        optim_state = {"opt": self.opt.state_dict(), "sched": self.sched.state_dict()}
        if self.opt_reg is not None:
            optim_state["opt_reg"] = self.opt_reg.state_dict()
        if self.opt_disc is not None:
            optim_state["opt_disc"] = self.opt_disc.state_dict()
        if self.accelerator.scaler is not None:
            optim_state["scaler"] = self.accelerator.scaler.state_dict()
        state = {"step": self.step, "seed": self.config.seed, "batch_size": self.config.batch_size}
        path = ckpt.save_state(ckpt.step_dir(self.out_dir, self.step), tensors=tensors, optim_state=optim_state,
                               state=state)
        logger.info("checkpoint at step %d: %s", self.step, path)
        return path

    def load_checkpoint(self, directory: str | Path) -> None:
        tensors, optim_state, state = ckpt.load_state(directory)
        if state["seed"] != self.config.seed or state["batch_size"] != self.config.batch_size:
            raise ValueError(f"checkpoint {directory} was made with seed {state['seed']}, batch {state['batch_size']}; "
                             f"this run has seed {self.config.seed}, batch {self.config.batch_size}")
        load_state_into(self._generator(), ckpt.split_prefixed(tensors, "generator"))
        if self.vsd is not None:
            params = dict(self.vsd.unet.named_parameters())
            with torch.no_grad():
                for k, v in ckpt.split_prefixed(tensors, "regulariser").items():
                    params[k].copy_(v)
        if self.disc is not None:
            self.disc.load_state_dict(ckpt.split_prefixed(tensors, "discriminator"))
        torch.set_rng_state(tensors["rng.torch_cpu"])
        self.opt.load_state_dict(optim_state["opt"])
        self.sched.load_state_dict(optim_state["sched"])
        if self.opt_reg is not None:
            self.opt_reg.load_state_dict(optim_state["opt_reg"])
        if self.opt_disc is not None:
            self.opt_disc.load_state_dict(optim_state["opt_disc"])
        if self.accelerator.scaler is not None and "scaler" in optim_state:
            self.accelerator.scaler.load_state_dict(optim_state["scaler"])
        self.step = int(state["step"])
        logger.info("resumed from %s at step %d", directory, self.step)
