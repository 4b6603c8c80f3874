"""``portraitsr4k-demo``: degrade the shipped portraits with every preset.

Writes ``<out_dir>/degradation_sheet.png`` and ``<out_dir>/degradation_params.json`` (every
drawn parameter, replayable with :func:`degradations.replay`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import hydra
import numpy as np
from omegaconf import DictConfig
from PIL import Image

from portraitsr4k import sample_photos

logger = logging.getLogger(__name__)


def run(cfg: DictConfig) -> Path:
    """Build the sheet described by ``cfg`` and return the output folder."""
    from portraitsr4k.demo.sheet import make_degradation_sheet

    out_dir = Path(cfg.out_dir).expanduser().resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    photos = {}
    for name in cfg.photos:
        with Image.open(sample_photos.locate(name)) as img:
            photos[name] = np.asarray(img.convert("RGB"))
    sheet = make_degradation_sheet(
        photos, list(cfg.presets), scale=int(cfg.scale), seed=int(cfg.seed), cell=int(cfg.cell)
    )
    sheet.image.save(out_dir / "degradation_sheet.png", optimize=False)
    payload = {"seed": int(cfg.seed), "scale": int(cfg.scale), "lq_shapes": sheet.lq_shapes,
               "params": sheet.params}
    tmp = out_dir / f".degradation_params.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True))
    os.replace(tmp, out_dir / "degradation_params.json")
    logger.info("wrote %s and %s", out_dir / "degradation_sheet.png", out_dir / "degradation_params.json")
    return out_dir


@hydra.main(version_base="1.3", config_path="pkg://portraitsr4k.conf", config_name="demo")
def _main(cfg: DictConfig) -> None:
    out = run(cfg)
    print(f"degradation sheet: {out / 'degradation_sheet.png'}")
    print(f"drawn parameters:  {out / 'degradation_params.json'}")


def main() -> None:
    """Console entry point."""
    _main()


if __name__ == "__main__":
    main()
