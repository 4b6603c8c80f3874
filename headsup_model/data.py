"""Training samples from PortraitSR-4K builder shards (HR only; the LQ is made on the fly on
the training device by :mod:`degradations`, see :mod:`headsup_model.training.trainer`).

Every training sample ``k`` (the k-th sample drawn in the whole run) is a pure function of
``(seed, k)``: which source, which photo, which crop, flip and reference dropout are drawn from
``numpy.random.default_rng([seed, k])``. So results do not depend on worker count, and a
resumed run continues with exactly the samples it would have seen (data position = step).

Sources, mixed by config weights (the paper's "two-stage mixed training" mixes general-image SR
and face SR; stages, ratios and sizes are not recovered, our choice is in ``conf/experiment``):

- ``portrait``: a random ``crop_size`` crop that contains a whole face (the photo is first
  downscaled, never upscaled past 1, when the face would fill more than ``max_face_fraction``
  of the crop, so 4K photos and ~512-px demo photos both work);
- ``aligned_face``: the FFHQ-aligned face (``crop_size``), like the FFHQ part of OSEDiff's data;
- ``general``: a random crop anywhere (face losses only when a face lies fully inside).

The "primary" face (largest face inside the crop) gets the face losses and the reference.
The reference is the largest face of one of the sample's ``references`` photos (same split),
FFHQ-aligned at ``reference_size``; dropped with probability ``reference_dropout`` (zeros).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from headsup_model.facecrop import box_mask
from portraitsr4k.dataset.reader import DatasetReader
from portraitsr4k.faces.align import alignment_matrix, template_for, warp_face

logger = logging.getLogger(__name__)

SOURCES = ("portrait", "aligned_face", "general")


@dataclass(frozen=True)
class DataConfig:
    crop_size: int = 512
    reference_size: int = 512
    sources: dict[str, float] = field(default_factory=lambda: {"portrait": 1.0})
    reference_dropout: float = 0.2
    max_face_fraction: float = 0.6
    hflip: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.crop_size < 16 or self.crop_size % 8:
            raise ValueError(f"crop_size: expected a multiple of 8 >= 16, got {self.crop_size}")
        if self.reference_size < 16:
            raise ValueError(f"reference_size: expected >= 16, got {self.reference_size}")
        unknown = set(self.sources) - set(SOURCES)
        if unknown or not self.sources or any(v < 0 for v in self.sources.values()) or sum(self.sources.values()) <= 0:
            raise ValueError(f"sources: expected non-negative weights over {SOURCES} with a positive sum, got {self.sources}")
        if not 0.0 <= self.reference_dropout <= 1.0:
            raise ValueError(f"reference_dropout: expected a probability, got {self.reference_dropout}")
        if not 0.05 <= self.max_face_fraction <= 1.0:
            raise ValueError(f"max_face_fraction: expected in [0.05, 1], got {self.max_face_fraction}")


def _resize(rgb: np.ndarray, factor: float) -> np.ndarray:
    if factor >= 1.0:
        return rgb
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)


class TrainingSamples(Dataset):
    """Map-style dataset over the infinite sample sequence ``k = 0, 1, ...`` (``len`` is nominal).

    Item ``k`` is a dict:
        ``hr``: ``(3, S, S)`` float32 in ``[0, 1]``; ``has_face``: bool tensor;
        ``landmarks``: ``(5, 2)`` float32, primary face in crop pixels (zeros without a face);
        ``mask``: ``(1, S, S)`` float32 face mask; ``reference``: ``(3, R, R)`` float32 in ``[-1, 1]``
        (zeros when absent/dropped); ``reference_present``: bool tensor; ``index``: k.
    """

    def __init__(self, *, reader: DatasetReader, config: DataConfig) -> None:
        if len(reader) == 0:
            raise ValueError(f"dataset split {reader.split!r} at {reader.root} is empty")
        self.reader, self.config = reader, config
        names = [s for s in SOURCES if config.sources.get(s, 0) > 0]
        weights = np.array([config.sources[s] for s in names], dtype=np.float64)
        self.source_names, self.source_p = names, weights / weights.sum()
        # face lists only (image bytes are not read): the index of every sample with a face
        has_face = {row["id"]: bool(row["faces"]) for row in reader.iter_columns(["id", "faces"])}
        with_faces = [i for i, sid in enumerate(reader.ids) if has_face.get(sid)]
        if not with_faces and ("portrait" in names or "aligned_face" in names):
            raise ValueError("portrait/aligned_face sources need samples with faces; none has any")
        self.with_faces = with_faces

    def __len__(self) -> int:
        return 2**31 - 1

    def _reference(self, sample, rng: np.random.Generator) -> tuple[torch.Tensor, bool]:
        size = self.config.reference_size
        zeros = torch.zeros(3, size, size)
        refs = [r for r in sample.references if r in self.reader]
        dropped = rng.random() < self.config.reference_dropout
        if not refs or dropped:
            return zeros, False
        ref = self.reader.get(refs[int(rng.integers(len(refs)))])
        if not ref.faces:
            return zeros, False
        face = max(ref.faces, key=lambda f: f["interocular"])
        aligned = warp_face(ref.hr(), alignment_matrix(np.asarray(face["landmarks"]), size), size)
        return torch.from_numpy(aligned).permute(2, 0, 1).float() / 127.5 - 1, True

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, int(k)])
        source = self.source_names[int(rng.choice(len(self.source_names), p=self.source_p))]
        pool = self.with_faces if source != "general" else range(len(self.reader))
        sample = self.reader[int(pool[int(rng.integers(len(pool)))])]
        rgb = sample.hr()
        faces = [(np.asarray(f["bbox"], np.float64), np.asarray(f["landmarks"], np.float64)) for f in sample.faces]
        s = cfg.crop_size
        if source == "aligned_face":
            box, lm = max(faces, key=lambda f: f[0][2] - f[0][0])
            crop = warp_face(rgb, alignment_matrix(lm, s), s, border="reflect")
            boxes = [np.array([0.0, 0.0, s, s])]
            lms = [template_for(s).copy()]
        else:
            h0, w0 = rgb.shape[:2]
            factor, chosen = 1.0, None
            if source == "portrait":
                chosen = int(rng.integers(len(faces)))
                box = faces[chosen][0]
                side = max(box[2] - box[0], box[3] - box[1])
                factor = min(1.0, cfg.max_face_fraction * s / max(side, 1.0))
            # never below the crop size: photos smaller than the crop (demo data) are upscaled
            factor = max(factor, s / min(h0, w0))
            if factor != 1.0:
                interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
                rgb = cv2.resize(rgb, (max(s, round(w0 * factor)), max(s, round(h0 * factor))), interpolation=interp)
            sx, sy = rgb.shape[1] / w0, rgb.shape[0] / h0
            faces = [(b * [sx, sy, sx, sy], lm * [sx, sy]) for b, lm in faces]
            h, w = rgb.shape[:2]
            if chosen is not None:
                fb = faces[chosen][0]
                lo_x, hi_x = max(0, int(np.ceil(fb[2])) - s), min(int(np.floor(fb[0])), w - s)
                lo_y, hi_y = max(0, int(np.ceil(fb[3])) - s), min(int(np.floor(fb[1])), h - s)
                # a face larger than the crop (max_face_fraction > 1 is refused, so only rounding) is centred
                x0 = int(rng.integers(lo_x, hi_x + 1)) if hi_x >= lo_x else int(np.clip((fb[0] + fb[2] - s) / 2, 0, w - s))
                y0 = int(rng.integers(lo_y, hi_y + 1)) if hi_y >= lo_y else int(np.clip((fb[1] + fb[3] - s) / 2, 0, h - s))
            else:
                x0, y0 = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
            crop = rgb[y0:y0 + s, x0:x0 + s]
            boxes, lms = [], []
            for b, lm in faces:
                b2, lm2 = b - [x0, y0, x0, y0], lm - [x0, y0]
                if b2[0] >= 0 and b2[1] >= 0 and b2[2] <= s and b2[3] <= s:
                    boxes.append(b2)
                    lms.append(lm2)
        if cfg.hflip and rng.random() < 0.5:
            crop = crop[:, ::-1]
            boxes = [np.array([s - b[2], b[1], s - b[0], b[3]]) for b in boxes]
            # mirrored: image-left/right landmarks swap (eyes, mouth corners)
            lms = [np.stack([[s - 1 - lm[i, 0], lm[i, 1]] for i in (1, 0, 2, 4, 3)]) for lm in lms]
        has_face = bool(boxes)
        if has_face:
            primary = int(np.argmax([b[2] - b[0] for b in boxes]))
            landmarks = torch.from_numpy(lms[primary]).float()
            reference, present = self._reference(sample, rng)
        else:
            landmarks = torch.zeros(5, 2)
            reference, present = torch.zeros(3, cfg.reference_size, cfg.reference_size), False
        return {
            "hr": torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1).float() / 255.0,
            "has_face": torch.tensor(has_face),
            "landmarks": landmarks,
            "mask": box_mask(boxes, s, s) if has_face else torch.zeros(1, s, s),
            "reference": reference,
            "reference_present": torch.tensor(present),
            "index": torch.tensor(int(k)),
        }
