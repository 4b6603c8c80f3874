"""Benchmark method ``headsup``: the HeadsUp pipeline of ``headsup_model`` (same code as ``headsup-sr``).

Uses ``sample.faces`` (HR-frame landmarks = output frame) for the face-mask channel. With
``references_from`` set to the dataset root, the largest face of the sample's first reference
photo (same split) is FFHQ-aligned and used as the reference face; otherwise no reference.
Missing checkpoint or base model → :class:`MethodUnavailable`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.methods.base import MethodUnavailable, SRMethod, check_lq


class HeadsUpMethod(SRMethod):
    """Args:
        checkpoint: a ``headsup-train`` output folder (``headsup.safetensors`` + config).
        references_from: dataset root to read reference photos from (None: no reference).
        color_fix: ``adain`` | ``wavelet`` | ``none``; ``latent_tile``/``latent_overlap``: UNet tiles.
        fp16: None = fp16 on CUDA only.
    """

    version = "1"

    def __init__(self, *, name: str = "headsup", checkpoint: str | None = None, references_from: str | None = None,
                 color_fix: str = "adain", latent_tile: int = 96, latent_overlap: int = 32,
                 vae_encoder_tile: int = 1024, vae_decoder_tile: int = 224, reference_size: int = 512,
                 fp16: bool | None = None, device: str = "cpu") -> None:
        super().__init__(name=name, device=device)
        self.checkpoint = checkpoint
        self.references_from = references_from
        self.color_fix = color_fix
        self.tiles = {"latent_tile": latent_tile, "latent_overlap": latent_overlap,
                      "vae_encoder_tile": vae_encoder_tile, "vae_decoder_tile": vae_decoder_tile}
        self.reference_size, self.fp16 = int(reference_size), fp16
        self._pipe: Any = None
        self._readers: dict[str, Any] = {}

    def config(self) -> dict[str, Any]:
        return {"color_fix": self.color_fix, **self.tiles, "uses_references": self.references_from is not None,
                "reference_size": self.reference_size}

    def weight_files(self) -> dict[str, Path]:
        if self.checkpoint is None:
            return {}
        p = Path(self.checkpoint).expanduser() / "headsup.safetensors"
        return {"headsup": p} if p.is_file() else {}

    def check_available(self) -> None:
        from headsup_model.weights_io import read_config

        if self.checkpoint is None:
            raise MethodUnavailable(f"{self.name}: no checkpoint given; train one with headsup-train and pass "
                                    f"method.{self.name}.checkpoint=DIR")
        try:
            read_config(Path(self.checkpoint).expanduser())
        except (FileNotFoundError, ValueError) as err:
            raise MethodUnavailable(f"{self.name}: {err}", str(self.checkpoint)) from err

    @property
    def pipe(self) -> Any:
        if self._pipe is None:
            self.check_available()
            from headsup_model.models.components import MissingBaseModelError
            from headsup_model.pipeline import HeadsUpPipeline, TilingConfig

            try:
                self._pipe = HeadsUpPipeline.from_checkpoint(Path(self.checkpoint).expanduser(),
                                                             tiling=TilingConfig(**self.tiles),
                                                             color_fix=self.color_fix, device=self.device,
                                                             fp16=self.fp16)
            except MissingBaseModelError as err:
                raise MethodUnavailable(f"{self.name}: {err}", "stable-diffusion-2-1-base") from err
        return self._pipe

    def _reference(self, sample: Any) -> np.ndarray | None:
        if self.references_from is None or sample is None or not getattr(sample, "references", None):
            return None
        from portraitsr4k.dataset.reader import DatasetReader
        from portraitsr4k.faces.align import alignment_matrix, warp_face

        split = sample.split
        if split not in self._readers:
            self._readers[split] = DatasetReader(self.references_from, split=split)
        reader = self._readers[split]
        for ref_id in sample.references:
            if ref_id in reader:
                ref = reader.get(ref_id)
                if ref.faces:
                    face = max(ref.faces, key=lambda f: f["interocular"])
                    size = self.reference_size
                    return warp_face(ref.hr(), alignment_matrix(np.asarray(face["landmarks"]), size), size)
        return None

    def upscale(self, lq: np.ndarray, *, scale: int, sample: Any = None) -> np.ndarray:
        """``(h, w, 3) uint8`` → ``(h*scale, w*scale, 3) uint8``; faces/reference from ``sample``."""
        lq = check_lq(lq)
        faces = list(getattr(sample, "faces", None) or [])
        faces.sort(key=lambda f: f["interocular"] if "interocular" in f else 0.0, reverse=True)
        reference = self._reference(sample) if faces else None
        return self.pipe(lq, scale=scale, faces=faces, reference=reference)
