"""headsup-train (tiny_smoke, shortened) → trained-only safetensors → headsup-sr writes ×4 outputs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hydra import compose, initialize_config_module
from PIL import Image
from safetensors import safe_open

from headsup_model.cli.train import build_trainer
from headsup_model.weights_io import WEIGHTS_NAME


@pytest.mark.slow
def test_train_then_sr(tiny_dataset, tmp_path, make_image):
    """Slow (~2.5 min on a loaded 2-core CPU: a full-loss training step plus a headsup-sr
    subprocess that rebuilds the model). The same code paths run fast in test_training.py
    (Trainer, checkpoints) and test_pipeline.py (HeadsUpPipeline)."""
    out = tmp_path / "run"
    with initialize_config_module(version_base="1.3", config_module="portraitsr4k.conf"):
        cfg = compose("train", overrides=["experiment=tiny_smoke", f"dataset.path={tiny_dataset}", f"out_dir={out}",
                                          "train.max_steps=1", "data.crop_size=32", "data.reference_size=16",
                                          "train.face_size=16"])
    trainer = build_trainer(cfg)
    logs = trainer.train()
    assert trainer.step == 1 and np.isfinite(logs["total"])
    with safe_open(str(out / WEIGHTS_NAME), "pt") as f:
        keys = set(f.keys())
    assert keys == set(trainer._generator().trainable_state_dict())
    assert (out / "train_log.jsonl").is_file() and (out / "checkpoints" / "step-0000001" / "state.json").is_file()

    inp = tmp_path / "in"
    inp.mkdir()
    Image.fromarray(make_image(12, 20, seed=3)).save(inp / "a.png")
    res = subprocess.run([sys.executable, "-m", "headsup_model.cli.sr", f"checkpoint={out}", f"input={inp}",
                          f"output={tmp_path / 'sr'}", "detect_faces=false"], capture_output=True, text=True,
                         env=os.environ.copy(), timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    with Image.open(tmp_path / "sr" / "a.png") as img:
        assert img.size == (80, 48)
