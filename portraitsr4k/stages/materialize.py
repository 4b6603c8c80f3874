"""Per-sample second half: re-fetch -> crop -> HR bytes -> degrade -> LQ bytes.

HR bytes are a lossless JPEG crop, the source bytes, or PNG (:mod:`portraitsr4k.stages.crop`);
the window is chosen from the header's size, so a JPEG crop never decodes the full photo. The
LQ is always degraded from the pixels the stored HR bytes decode to, so
``degradations.replay(decode(hr), record)`` reproduces the stored LQ for every ``hr_format``.

:class:`Materializer` runs after the global steps (dedup, identity, split) on the surviving
photos only; like :class:`portraitsr4k.stages.analyze.Analyzer` it is one picklable callable
that every executor runs unchanged, and models (the degradation) are built once per process.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portraitsr4k.stages.analyze import peak_rss_mb
from portraitsr4k.stages.crop import SOURCE_FORMATS, CropSettings, crop_window, decoded_hr, jpeg_crop_hr
from portraitsr4k.stages.degrade import degrade_sample
from portraitsr4k.stages.outcome import reason_token

__all__ = ["SOURCE_FORMATS", "MaterializeTask", "Materialized", "Materializer"]

logger = logging.getLogger(__name__)


@dataclass
class MaterializeTask:
    """One photo to materialise: the source ``item``, its ``id``/``source_sha256`` from the
    analysis and its kept ``faces`` (full-resolution ``Face.to_dict`` items)."""

    item: Any
    id: str
    source_sha256: str
    faces: list[dict[str, Any]]


@dataclass
class Materialized:
    """HR/LQ bytes and everything the row needs from them; ``status`` ``ok`` or ``error:*``."""

    id: str
    status: str = "ok"
    message: str = ""
    hr: bytes = b""
    lq: bytes = b""
    hr_format: str = ""
    hr_width: int = 0
    hr_height: int = 0
    lq_width: int = 0
    lq_height: int = 0
    degradation: str = ""
    degradation_preset: str = ""
    degradation_seed: int = 0
    faces: list[dict[str, Any]] = field(default_factory=list)
    crop: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0


def _shift(face: dict[str, Any], dx: int, dy: int) -> dict[str, Any]:
    x1, y1, x2, y2 = face["bbox"]
    return {
        "bbox": [x1 - dx, y1 - dy, x2 - dx, y2 - dy],
        "landmarks": [[x - dx, y - dy] for x, y in face["landmarks"]],
        "score": face["score"],
        "interocular": face["interocular"],
    }


class Materializer:
    """The per-sample materialisation function.

    Args:
        source: the source the photos come from (``fetch(item)``).
        crop: crop settings.
        degradation_factory: zero-argument callable returning a ``degradations`` degradation
            (``sample_params(generator)``, ``apply(hr, params)``, ``scale``).
        scale: LQ = HR / scale.
        build_seed: the build seed (per-sample seeds derive from it).
    """

    def __init__(self, *, source: Any, crop: CropSettings, degradation_factory: Callable[[], Any],
                 scale: int, build_seed: int) -> None:
        if not isinstance(crop, CropSettings):
            raise TypeError(f"crop must be a CropSettings, got {type(crop).__name__}")
        if not isinstance(scale, int) or scale < 1:
            raise ValueError(f"scale must be an int >= 1, got {scale!r}")
        self.source = source
        self.crop = crop
        self.degradation_factory = degradation_factory
        self.scale = scale
        self.build_seed = int(build_seed)
        self._degradation = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_degradation"] = None
        return state

    def __call__(self, task: MaterializeTask) -> Materialized:
        out = Materialized(id=task.id)
        try:
            self._run(task, out)
        except Exception as exc:
            logger.debug("materialising %s failed", task.id, exc_info=True)
            out.status, out.message = f"error:{reason_token(type(exc).__name__)}", f"{type(exc).__name__}: {exc}"
            out.hr = out.lq = b""
        finally:
            out.peak_rss_mb = round(peak_rss_mb(), 1)
        return out

    def _run(self, task: MaterializeTask, out: Materialized) -> None:
        from portraitsr4k import image_io

        start = time.perf_counter()
        fetched = self.source.fetch(task.item)
        if str(getattr(fetched, "status", "ok")) != "ok" or fetched.data is None:
            out.status, out.message = "error:refetch", f"second fetch failed: {fetched.status}: {fetched.message}"
            return
        data = bytes(fetched.data)
        if hashlib.sha256(data).hexdigest() != task.source_sha256:
            out.status, out.message = "error:source_changed", "source bytes changed since the analysis"
            return
        out.timings["refetch"] = round(time.perf_counter() - start, 6)

        start = time.perf_counter()
        info = image_io.probe(data)  # header only: the window needs the display size, not pixels
        if not info.ok:
            out.status, out.message = f"error:{reason_token(info.status)}", info.message
            return
        window = crop_window(info.width, info.height, task.faces, self.crop, self.scale)
        hr, note = jpeg_crop_hr(data, info, window, self.crop)
        if hr is None:
            decoded = image_io.decode(data)
            if not decoded.ok:
                out.status, out.message = f"error:{reason_token(decoded.status)}", decoded.message
                return
            if decoded.rgb.shape[:2] != (info.height, info.width):
                raise RuntimeError(f"the header says {info.width}x{info.height}, the decode gave "
                                   f"{decoded.rgb.shape[:2]}")
            hr = decoded_hr(data, decoded, window, self.crop, note=note)
        hr_bytes, hr_format, hr_rgb = hr.data, hr.format, hr.rgb
        out.crop = f"{window.reason}; HR {hr.format}" + (f" ({hr.note})" if hr.note else "")
        out.timings["crop"] = round(time.perf_counter() - start, 6)

        if self._degradation is None:
            self._degradation = self.degradation_factory()
        result = degrade_sample(hr_rgb, task.id, self.build_seed, self.degradation_factory,
                                degradation=self._degradation)
        expected = (hr_rgb.shape[0] // self.scale, hr_rgb.shape[1] // self.scale)
        if result.lq.shape[:2] != expected:
            raise RuntimeError(f"degradation gave LQ {result.lq.shape[:2]}, expected {expected} (scale {self.scale})")
        out.timings["degrade"] = round(result.seconds, 6)

        start = time.perf_counter()
        out.lq = image_io.encode_png(result.lq, compress_level=self.crop.png_level)
        out.timings["encode"] = round(time.perf_counter() - start, 6)
        out.hr, out.hr_format = hr_bytes, hr_format
        out.hr_height, out.hr_width = int(hr_rgb.shape[0]), int(hr_rgb.shape[1])
        out.lq_height, out.lq_width = int(result.lq.shape[0]), int(result.lq.shape[1])
        out.degradation, out.degradation_preset, out.degradation_seed = result.record, result.preset, result.seed
        out.faces = [_shift(f, window.x0, window.y0) for f in task.faces]
