"""Save and load only what HeadsUp trains: LoRA weights, the (widened) UNet ``conv_in``.

A checkpoint folder holds ``headsup.safetensors`` (tensors only: loading never unpickles) and
``headsup_config.json`` (model config, how to rebuild the frozen base, the explicit LoRA target
lists). The base is rebuilt only through the two builders of
:mod:`headsup_model.models.components`; the JSON never names arbitrary code to import.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from headsup_model.model import HeadsUpConfig, HeadsUpModel
from headsup_model.models.components import SDComponents, build_random, load_pretrained
from headsup_model.models.unet_input import pad_input_channels

logger = logging.getLogger(__name__)

WEIGHTS_NAME = "headsup.safetensors"
CONFIG_NAME = "headsup_config.json"
FORMAT_VERSION = 1
_BUILDERS = {"pretrained": load_pretrained, "random": build_random}


def base_spec_from_config(model_cfg: dict[str, Any]) -> dict[str, Any]:
    """Turn a ``conf/model/*.yaml`` dict (with ``_target_``) into a safe ``{"kind", "kwargs"}`` spec."""
    target = model_cfg.get("_target_", "")
    kwargs = {k: v for k, v in model_cfg.items() if k != "_target_"}
    for kind, fn in _BUILDERS.items():
        if target == f"{fn.__module__}.{fn.__name__}":
            return {"kind": kind, "kwargs": kwargs}
    raise ValueError(f"model._target_: expected one of {[f'{f.__module__}.{f.__name__}' for f in _BUILDERS.values()]}, "
                     f"got {target!r}")


def build_base(spec: dict[str, Any]) -> SDComponents:
    """Rebuild the frozen base from a spec written by :func:`base_spec_from_config`."""
    kind = spec.get("kind")
    if kind not in _BUILDERS:
        raise ValueError(f"base kind: expected one of {sorted(_BUILDERS)}, got {kind!r}")
    return _BUILDERS[kind](**spec.get("kwargs", {}))


def save_trained(model: HeadsUpModel, directory: str | Path, *, base_spec: dict[str, Any],
                 extra: dict[str, Any] | None = None) -> Path:
    """Write the trainable tensors and config to ``directory`` (created); returns the weights path.

    Files are written to temporary names and renamed, so a reader never sees half a checkpoint.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.trainable_state_dict().items()}
    config = {
        "format_version": FORMAT_VERSION,
        "model": {"lora_rank": model.config.lora_rank, "use_reference": model.config.use_reference,
                  "timestep": model.config.timestep},
        "base": base_spec,
        "vae_lora_targets": model.vae_lora_targets,
        "unet_lora_targets": model.unet_lora_targets,
        "tensors": sorted(tensors),
        "extra": extra or {},
    }
    tmp_w, tmp_c = out / (WEIGHTS_NAME + ".tmp"), out / (CONFIG_NAME + ".tmp")
    save_file(tensors, str(tmp_w), metadata={"format": "pt", "headsup_format_version": str(FORMAT_VERSION)})
    tmp_c.write_text(json.dumps(config, indent=2, sort_keys=True))
    tmp_w.replace(out / WEIGHTS_NAME)
    tmp_c.replace(out / CONFIG_NAME)
    logger.info("saved %d trained tensors (%.2fM values) to %s", len(tensors),
                sum(t.numel() for t in tensors.values()) / 1e6, out)
    return out / WEIGHTS_NAME


def read_config(directory: str | Path) -> dict[str, Any]:
    """The JSON config of a checkpoint folder (clear error when it is not one)."""
    path = Path(directory) / CONFIG_NAME
    if not path.is_file() or not (Path(directory) / WEIGHTS_NAME).is_file():
        raise FileNotFoundError(f"{directory} is not a HeadsUp checkpoint: expected {WEIGHTS_NAME} and {CONFIG_NAME} "
                                "(written by headsup-train)")
    config = json.loads(path.read_text())
    if config.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: format_version {config.get('format_version')!r}, expected {FORMAT_VERSION}")
    return config


def load_state_into(model: HeadsUpModel, tensors: dict[str, torch.Tensor]) -> None:
    """Copy trained tensors into ``model``. Tensors from a plain-OSEDiff (4-channel) model are
    zero-padded on ``conv_in``'s input channels when ``model`` has the widened input, which keeps
    the OSEDiff output exactly (HeadsUp stage 2 starting from stage-1 OSEDiff weights)."""
    expected = model.trainable_state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise ValueError(f"checkpoint tensors do not match the model: missing {missing[:5]}"
                         f"{'...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}")
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in tensors.items():
            target = params[name]
            if value.shape != target.shape:
                if name.startswith("unet.conv_in.") and value.ndim == 4 and value.shape[1] < target.shape[1]:
                    value = pad_input_channels(value, target.shape[1])
                else:
                    raise ValueError(f"{name}: checkpoint shape {tuple(value.shape)}, model {tuple(target.shape)}")
            target.copy_(value.to(target.dtype))


def load_trained(directory: str | Path, *, components: SDComponents | None = None,
                 use_reference: bool | None = None) -> HeadsUpModel:
    """Rebuild a model from a checkpoint folder.

    Args:
        components: fresh base parts; rebuilt from the stored base spec when None.
        use_reference: override (True loads an OSEDiff checkpoint into a widened HeadsUp model).
    """
    config = read_config(directory)
    model_cfg = dict(config["model"])
    if use_reference is not None:
        model_cfg["use_reference"] = bool(use_reference)
    base = components if components is not None else build_base(config["base"])
    model = HeadsUpModel(components=base, config=HeadsUpConfig(**model_cfg))
    for key in ("vae_lora_targets", "unet_lora_targets"):
        if getattr(model, key) != config[key]:
            raise ValueError(f"{key} of the rebuilt model differ from the checkpoint's: base model mismatch?")
    load_state_into(model, load_file(str(Path(directory) / WEIGHTS_NAME)))
    return model.eval()
