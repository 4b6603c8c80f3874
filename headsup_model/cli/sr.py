"""``headsup-sr``: ×4 super-resolution with a trained HeadsUp checkpoint (``conf/sr.yaml``).

    headsup-sr checkpoint=DIR input=IMG_OR_DIR output=DIR [reference=IMG] [device=cuda]

Faces are detected on the bicubic-upscaled input (face-mask channel); with ``reference=IMG`` the
largest face of that photo is FFHQ-aligned and placed on the input's largest face.
Outputs are ``OUTPUT/<stem>.png``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from omegaconf import DictConfig
from tqdm.auto import tqdm

import headsup_model  # noqa: F401  (torchvision compat first)

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def read_rgb(path: Path) -> np.ndarray:
    """Decode through the project's safe image I/O (sRGB, EXIF-oriented); ValueError on a bad file."""
    from portraitsr4k.image_io import decode

    img = decode(path)
    if img.status != "ok":
        raise ValueError(f"{path}: cannot decode ({img.status}: {img.message})")
    return img.rgb


def list_inputs(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {path}")
        return files
    if not path.is_file():
        raise FileNotFoundError(f"input {path} does not exist")
    return [path]


def faces_on(detector: Any, rgb: np.ndarray) -> list[dict[str, Any]]:
    """Detected faces as ``{"bbox", "landmarks"}`` dicts, largest first."""
    faces = detector.detect(rgb)
    faces = sorted(faces, key=lambda f: (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]), reverse=True)
    return [{"bbox": list(f.bbox), "landmarks": [list(p) for p in f.landmarks]} for f in faces]


@hydra.main(version_base="1.3", config_path="pkg://portraitsr4k.conf", config_name="sr")
def main(cfg: DictConfig) -> None:
    import cv2
    from hydra.utils import instantiate

    from headsup_model.pipeline import HeadsUpPipeline, TilingConfig
    from portraitsr4k.faces.align import alignment_matrix, warp_face
    from portraitsr4k.image_io import encode_png

    pipe = HeadsUpPipeline.from_checkpoint(cfg.checkpoint, prompt=cfg.prompt, tiling=TilingConfig(**cfg.tiling),
                                           color_fix=cfg.color_fix, device=cfg.device, fp16=cfg.fp16)
    detector = instantiate(cfg.detector) if cfg.detect_faces or cfg.reference else None
    reference = None
    if cfg.reference:
        ref_rgb = read_rgb(Path(cfg.reference))
        ref_faces = faces_on(detector, ref_rgb)
        if not ref_faces:
            raise ValueError(f"reference {cfg.reference}: no face found")
        reference = warp_face(ref_rgb, alignment_matrix(np.asarray(ref_faces[0]["landmarks"]), 512), 512)
    out_dir = Path(cfg.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in tqdm(list_inputs(Path(cfg.input)), desc="headsup-sr"):
        lq = read_rgb(path)
        faces: list[dict[str, Any]] = []
        if detector is not None:
            up = cv2.resize(lq, (lq.shape[1] * cfg.scale, lq.shape[0] * cfg.scale), interpolation=cv2.INTER_CUBIC)
            faces = faces_on(detector, up)
        ref = reference if faces else None
        if reference is not None and not faces:
            logger.warning("%s: no face detected, reference not used", path.name)
        sr = pipe(lq, scale=int(cfg.scale), faces=faces, reference=ref)
        (out_dir / f"{path.stem}.png").write_bytes(encode_png(sr))
        logger.info("%s → %s (%dx%d, %d faces)", path.name, out_dir / f"{path.stem}.png", sr.shape[1], sr.shape[0],
                    len(faces))


if __name__ == "__main__":
    main()
