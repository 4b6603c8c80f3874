"""Exactly-resumable training state: ``<out_dir>/checkpoints/step-NNNNNNN/``.

Files (written into a temporary folder, fsynced, then renamed, so a crash never leaves a
half checkpoint that looks complete):
- ``tensors.safetensors``: generator, regulariser and discriminator trainable tensors
  (prefixed ``generator.``, ``regulariser.``, ``discriminator.``) and the torch RNG state;
- ``optimizers.pt``: optimizer / LR-scheduler / grad-scaler state dicts (tensors, numbers and
  lists only), read back with ``torch.load(weights_only=True)``, which refuses arbitrary objects;
- ``state.json``: the step, the run seed and the config fingerprint.

Data position needs no file: sample ``k`` and every per-step random draw are functions of
``(seed, k)`` / ``(seed, step)`` (see :mod:`headsup_model.data`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

_STEP_DIR = re.compile(r"^step-(\d{7})$")


def step_dir(out_dir: Path, step: int) -> Path:
    return Path(out_dir) / "checkpoints" / f"step-{step:07d}"


def latest(out_dir: str | Path) -> Path | None:
    """The newest complete checkpoint folder under ``out_dir/checkpoints`` (None when there is none)."""
    root = Path(out_dir) / "checkpoints"
    if not root.is_dir():
        return None
    found = sorted(p for p in root.iterdir() if _STEP_DIR.match(p.name) and (p / "state.json").is_file())
    return found[-1] if found else None


def save_state(directory: Path, *, tensors: dict[str, torch.Tensor], optim_state: dict[str, Any],
               state: dict[str, Any]) -> Path:
    """Write one checkpoint folder atomically (replacing an existing one of the same name)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.parent / f".{directory.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp / "tensors.safetensors"))
    torch.save(optim_state, tmp / "optimizers.pt")
    (tmp / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
    for f in tmp.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    if directory.exists():
        shutil.rmtree(directory)
    tmp.rename(directory)
    return directory


def load_state(directory: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    """Read back ``(tensors, optim_state, state)`` of a checkpoint folder; never unpickles code."""
    directory = Path(directory)
    if not (directory / "state.json").is_file():
        raise FileNotFoundError(f"{directory} is not a training checkpoint (no state.json)")
    tensors = load_file(str(directory / "tensors.safetensors"))
    optim_state = torch.load(directory / "optimizers.pt", map_location="cpu", weights_only=True)
    state = json.loads((directory / "state.json").read_text())
    return tensors, optim_state, state


def split_prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose name starts with ``prefix + "."``, with the prefix removed."""
    p = prefix + "."
    return {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}
