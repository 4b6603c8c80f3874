"""Rank-4 LoRA on the VAE encoder and the UNet, with explicit ``target_modules`` lists.

The OSEDiff research code picks LoRA layers by substring matching at run time. Here the
target lists are *computed once* from module names and types (:func:`lora_target_names`)
and handed to ``peft.LoraConfig`` as full, explicit module names, so what is adapted is a
plain list that can be logged, saved in the checkpoint config and counted in tests.

Targets (OSEDiff, ``osediff.py``):

- VAE encoder: every ``Conv2d``/``Linear`` under ``encoder.`` whose name ends with one of
  :data:`VAE_ENCODER_SUFFIXES`, plus ``quant_conv`` (not ``post_quant_conv``). The decoder stays
  frozen and un-adapted.
- UNet: every ``Conv2d``/``Linear`` whose name ends with one of :data:`UNET_SUFFIXES`.
  OSEDiff splits these into three adapters (down / up / other blocks) only to name them; one
  adapter holds the same layers here. ``conv_in`` is LoRA-adapted *and* fully trained, as in
  OSEDiff (see :mod:`headsup_model.model`).
"""

from __future__ import annotations

import logging

from torch import nn

logger = logging.getLogger(__name__)

VAE_ENCODER_SUFFIXES: tuple[str, ...] = (
    "conv1", "conv2", "conv_in", "conv_shortcut", "conv", "conv_out", "to_k", "to_q", "to_v", "to_out.0",
)
UNET_SUFFIXES: tuple[str, ...] = (
    "to_k", "to_q", "to_v", "to_out.0", "conv", "conv1", "conv2", "conv_in", "conv_shortcut", "conv_out",
    "proj_out", "proj_in", "ff.net.2", "ff.net.0.proj",
)
ADAPTABLE_TYPES = (nn.Conv2d, nn.Linear)


def lora_target_names(model: nn.Module, suffixes: tuple[str, ...], *, prefix: str = "",
                      extra: tuple[str, ...] = ()) -> list[str]:
    """Full names of the ``Conv2d``/``Linear`` modules of ``model`` whose dotted name ends with one
    of ``suffixes`` (matched on whole name components) and starts with ``prefix``, plus the exact
    names in ``extra``. Sorted, so the list is stable across runs."""
    names = []
    for name, module in model.named_modules():
        if not isinstance(module, ADAPTABLE_TYPES) or not name.startswith(prefix):
            continue
        if name in extra or any(name == s or name.endswith("." + s) for s in suffixes):
            names.append(name)
    missing = [e for e in extra if e not in names]
    if missing:
        raise ValueError(f"extra LoRA targets not found as Conv2d/Linear in the model: {missing}")
    return sorted(names)


def vae_encoder_targets(vae: nn.Module) -> list[str]:
    """Explicit LoRA target names for the VAE encoder (+ ``quant_conv``)."""
    extra = ("quant_conv",) if isinstance(getattr(vae, "quant_conv", None), nn.Conv2d) else ()
    names = lora_target_names(vae, VAE_ENCODER_SUFFIXES, prefix="encoder.")
    return sorted(names + list(extra))


def unet_targets(unet: nn.Module) -> list[str]:
    """Explicit LoRA target names for the UNet."""
    return lora_target_names(unet, UNET_SUFFIXES)


def add_lora(model: nn.Module, targets: list[str], *, rank: int, adapter_name: str = "default",
             seed: int = 0) -> None:
    """Attach a Gaussian-initialised LoRA (``lora_alpha = rank``, as OSEDiff) to exactly ``targets``.

    Uses diffusers' ``add_adapter`` (peft under the hood). peft matches a target string against
    a module name by equality or ``.endswith("." + target)``; full names make that an equality.
    peft draws ``lora_A`` from the global RNG: it is forked and seeded with ``seed`` here, so the
    initial weights are reproducible and the caller's RNG state is untouched.
    """
    import torch
    from peft import LoraConfig

    if rank < 1:
        raise ValueError(f"rank: expected >= 1, got {rank}")
    if not targets:
        raise ValueError("targets: expected at least one module name, got an empty list")
    config = LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian", target_modules=list(targets))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model.add_adapter(config, adapter_name=adapter_name)
    logger.debug("added rank-%d LoRA %r on %d modules of %s", rank, adapter_name, len(targets),
                 type(model).__name__)


def count_lora_layers(model: nn.Module) -> int:
    """Number of modules carrying a peft LoRA layer (``lora_A`` present)."""
    from peft.tuners.lora import LoraLayer

    return sum(1 for m in model.modules() if isinstance(m, LoraLayer))
