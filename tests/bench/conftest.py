"""Fixtures for the benchmark tests: a tiny dataset in the builder's layout, written with the
project's shard writer from real shipped portraits (faces annotated by the offline MTCNN
detector) plus one synthetic image with no face."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from portraitsr4k import sample_photos

SCALE = 4


def _png(rgb: np.ndarray) -> bytes:
    from portraitsr4k.image_io import encode_png

    return encode_png(rgb, compress_level=1)


def _load(name: str, size: tuple[int, int]) -> np.ndarray:
    with Image.open(sample_photos.locate(name)) as img:
        return np.asarray(img.convert("RGB").resize(size, Image.Resampling.LANCZOS))


def make_row(hr: np.ndarray, faces: list[dict], *, sample_id: str | None = None, references: list[str] = (),
             split: str = "test", scale: int = SCALE) -> dict:
    """A full schema row for ``hr`` with a bicubic ``1/scale`` LQ."""
    from portraitsr4k.dataset.schema import empty_row

    h, w = hr.shape[:2]
    lq = np.asarray(Image.fromarray(hr).resize((w // scale, h // scale), Image.Resampling.BICUBIC))
    hr_bytes = _png(hr)
    row = empty_row()
    row.update(id=sample_id or hashlib.sha256(hr_bytes).hexdigest()[:16], source="test", hr=hr_bytes,
               hr_format="png", hr_width=w, hr_height=h, lq=_png(lq), lq_width=lq.shape[1], lq_height=lq.shape[0],
               scale=scale, degradation=json.dumps({"preset": "bicubic"}), degradation_preset="bicubic",
               degradation_seed=0, faces=faces, identity=-1, references=list(references), split=split,
               source_sha256=hashlib.sha256(hr_bytes).hexdigest())
    return row


def write_dataset(root: Path, rows: list[dict], split: str = "test") -> Path:
    from portraitsr4k.dataset.writer import shard_name, write_shard

    (root / "data").mkdir(parents=True, exist_ok=True)
    write_shard(rows, root / "data" / shard_name(split, 0, 1))
    return root


@pytest.fixture(scope="session")
def detected_faces() -> Callable[[np.ndarray], list[dict]]:
    from portraitsr4k.faces import build_detector

    detector = build_detector("mtcnn", device="cpu")

    def detect(rgb: np.ndarray) -> list[dict]:
        return [f.to_dict() for f in detector.detect(rgb)]

    return detect


@pytest.fixture(scope="session")
def portrait_images() -> dict[str, np.ndarray]:
    """Real portraits at test size (sides multiples of 4): HR ``(H, W, 3) uint8``."""
    gh = _load("grace_hopper", (240, 280))
    return {"grace": gh, "grace_other": np.ascontiguousarray(gh[:, ::-1][8:, 4:236]),
            "astronaut": _load("astronaut", (256, 256))}


@pytest.fixture(scope="session")
def bench_dataset(tmp_path_factory: pytest.TempPathFactory, portrait_images: dict[str, np.ndarray],
                  detected_faces: Callable[[np.ndarray], list[dict]]) -> Path:
    """4 test samples: grace (reference: grace_other), grace_other (reference: grace),
    astronaut (no reference), and a synthetic image with no face."""
    root = tmp_path_factory.mktemp("bench_dataset")
    rng = np.random.default_rng(0)
    noface = np.asarray(Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).resize(
        (192, 144), Image.Resampling.BICUBIC))
    rows = [
        make_row(portrait_images["grace"], detected_faces(portrait_images["grace"]), sample_id="a_grace",
                 references=["b_grace_other"]),
        make_row(portrait_images["grace_other"], detected_faces(portrait_images["grace_other"]),
                 sample_id="b_grace_other", references=["a_grace"]),
        make_row(portrait_images["astronaut"], detected_faces(portrait_images["astronaut"]), sample_id="c_astronaut"),
        make_row(noface, [], sample_id="d_noface"),
    ]
    for r in rows[:3]:
        assert r["faces"], f"MTCNN found no face in {r['id']}: the fixture needs real faces"
    return write_dataset(root, rows)
