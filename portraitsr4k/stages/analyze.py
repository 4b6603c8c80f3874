"""Per-sample analysis (the first half of the pipeline): fetch -> gate -> faces -> quality -> embed.

:class:`Analyzer` is one picklable callable, ``Analyzer(item) -> Analysis``, that every executor
(local process pool, Ray) runs unchanged. Cheap rejects come first: the metadata size check
before any download, the header probe before any pixel is decoded, the detector-sized decode
before any full decode. Models (detector, embedder, learned IQA) are built lazily, once per
worker process, from picklable factories, and are never pickled themselves.

An exception inside a stage becomes ``error:<exception type>`` for that sample only; the
run goes on.
"""

from __future__ import annotations

import hashlib
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from portraitsr4k.stages.embed import EmbedSettings, embed_faces
from portraitsr4k.stages.faces import FaceSettings, find_faces
from portraitsr4k.stages.gate import GateSettings, gate_header, gate_size
from portraitsr4k.stages.outcome import StageOutcome, error, reason_token, rejected
from portraitsr4k.stages.quality import QualitySettings, texture_check

__all__ = ["Analysis", "Analyzer", "sample_id", "peak_rss_mb", "source_label"]

logger = logging.getLogger(__name__)


def sample_id(data: bytes) -> str:
    """The sample id: first 16 hex digits of the sha256 of the source bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def source_label(source: Any, key: str) -> str:
    """``<source name>:<key>`` as stored in the ``source`` column."""
    name = getattr(source, "name", None) or type(source).__name__.lower().removesuffix("source")
    # portraitsr4k.sources keys already carry the source name as their prefix.
    return key if key.startswith(f"{name}:") else f"{name}:{key}"


@dataclass
class Analysis:
    """Result of :class:`Analyzer` for one input item (JSON-serialisable with :meth:`to_dict`).

    ``status`` / ``stage`` / ``message`` are the final verdict and the stage that gave it;
    ``timings`` maps stage name to seconds; ``faces`` are kept faces in full-resolution pixels
    (``Face.to_dict`` items); ``embeddings`` one unit vector per kept face.
    """

    key: str
    source: str
    url: str | None = None
    license: str | None = None
    id: str | None = None
    source_sha256: str | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    status: str = "ok"
    stage: str = "fetch"
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    faces: list[dict[str, Any]] = field(default_factory=list)
    embeddings: list[list[float]] = field(default_factory=list)
    laplacian_var: float | None = None
    flat_patch_ratio: float | None = None
    iqa: dict[str, float] = field(default_factory=dict)
    phash: str | None = None
    peak_rss_mb: float = 0.0

    def apply(self, outcome: StageOutcome) -> bool:
        """Record ``outcome``; True when the sample goes on to the next stage."""
        self.stage = outcome.stage
        self.timings[outcome.stage] = round(self.timings.get(outcome.stage, 0.0) + outcome.seconds, 6)
        if outcome.message and outcome.ok:
            self.notes.append(f"{outcome.stage}: {outcome.message}")
        if not outcome.ok:
            self.status, self.message = outcome.status, outcome.message
        return outcome.ok

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Analysis:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class Analyzer:
    """The per-sample analysis function.

    Args:
        source: a ``portraitsr4k.sources`` source (``fetch(item) -> FetchResult``).
        gate / faces / quality / embed: stage settings.
        detector_factory: zero-argument callable building a ``FaceDetector`` (e.g.
            ``functools.partial(portraitsr4k.faces.build_detector, "mtcnn")``).
        embedder_factory: zero-argument callable building an identity embedder, or None to skip
            identity (then no reference pairs, every photo is its own split unit).
        iqa: a :class:`portraitsr4k.quality.iqa.LearnedIQA` or None.
        relaxed: relax the 4K size and face-size rules (the ``demo`` source).
        phash_size: ImageHash ``hash_size`` (8 gives the 64-bit hash of the ``phash`` column).
    """

    def __init__(
        self,
        *,
        source: Any,
        gate: GateSettings,
        faces: FaceSettings,
        quality: QualitySettings,
        embed: EmbedSettings,
        detector_factory: Callable[[], Any],
        embedder_factory: Callable[[], Any] | None = None,
        iqa: Any | None = None,
        relaxed: bool = False,
        phash_size: int = 8,
    ) -> None:
        for name, value, kind in (("gate", gate, GateSettings), ("faces", faces, FaceSettings),
                                  ("quality", quality, QualitySettings), ("embed", embed, EmbedSettings)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} must be a {kind.__name__}, got {type(value).__name__}")
        if not callable(detector_factory):
            raise TypeError(f"detector_factory must be callable, got {type(detector_factory).__name__}")
        self.source = source
        self.gate = gate
        self.faces = faces
        self.quality = quality
        self.embed = embed
        self.detector_factory = detector_factory
        self.embedder_factory = embedder_factory
        self.iqa = iqa
        self.relaxed = bool(relaxed)
        self.phash_size = int(phash_size)
        self._detector = None
        self._embedder = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_detector"] = state["_embedder"] = None
        return state

    @property
    def detector(self) -> Any:
        if self._detector is None:
            self._detector = self.detector_factory()
        return self._detector

    @property
    def embedder(self) -> Any:
        if self._embedder is None and self.embedder_factory is not None:
            self._embedder = self.embedder_factory()
        return self._embedder

    def __call__(self, item: Any) -> Analysis:
        result = Analysis(key=str(item.key), source=source_label(self.source, item.key),
                          url=getattr(item, "url", None), license=getattr(item, "license", None))
        stage = "fetch"
        try:
            stage = "gate"
            if not result.apply(gate_size(getattr(item, "width", None), getattr(item, "height", None), self.gate)):
                return result
            stage = "fetch"
            data = self._fetch(item, result)
            if data is None:
                return result
            self._analyse_bytes(data, result)
        except Exception as exc:  # one bad input never stops the run
            logger.debug("sample %s failed in %s", result.key, stage, exc_info=True)
            result.apply(error(result.stage if result.stage != "fetch" else stage, type(exc).__name__,
                               f"{type(exc).__name__}: {exc}"))
        finally:
            result.peak_rss_mb = round(peak_rss_mb(), 1)
        return result

    def _fetch(self, item: Any, result: Analysis) -> bytes | None:
        start = time.perf_counter()
        fetched = self.source.fetch(item)
        seconds = float(getattr(fetched, "seconds", 0.0) or (time.perf_counter() - start))
        status = str(getattr(fetched, "status", "ok"))
        if status != "ok" or fetched.data is None:
            kind = reason_token(status.split(":", 1)[-1])
            if status.startswith("error:") and getattr(item, "path", None) is None and getattr(item, "url", None):
                # A dead or failing URL is a property of web metadata (a large share of LAION links
                # are gone), so a failed download is a reject, not a builder error that could trip
                # max_error_share; an unreadable *local* file stays an error.
                result.apply(rejected("fetch", f"download_{kind}", str(fetched.message), seconds))
            elif status.startswith("error:"):
                result.apply(StageOutcome("fetch", f"error:{kind}", str(fetched.message), seconds))
            else:
                result.apply(rejected("fetch", kind, str(fetched.message), seconds))
            return None
        data = bytes(fetched.data)
        result.timings["fetch"] = round(seconds, 6)
        result.source_sha256 = hashlib.sha256(data).hexdigest()
        result.id = result.source_sha256[:16]
        return data

    def _analyse_bytes(self, data: bytes, result: Analysis) -> None:
        from portraitsr4k import image_io

        start = time.perf_counter()
        info = image_io.probe(data, max_pixels=self.gate.max_pixels)
        result.format = getattr(info, "format", None)
        result.width, result.height = getattr(info, "width", None), getattr(info, "height", None)
        outcome = gate_header(info, self.gate)
        if not result.apply(StageOutcome("gate", outcome.status, outcome.message, time.perf_counter() - start)):
            return
        finding = find_faces(data, self.detector, self.faces, relaxed=self.relaxed)
        if not result.apply(finding.outcome):
            return
        result.faces = [f.to_dict() for f in finding.faces]
        rgb = finding.decoded.rgb
        outcome, scores = texture_check(rgb, max(result.width, result.height), self.quality)
        result.laplacian_var, result.flat_patch_ratio = scores.laplacian_var, scores.flat_patch_ratio
        if self.iqa is not None:
            start = time.perf_counter()
            result.iqa[self.iqa.name] = self.iqa.score(rgb)
            outcome = StageOutcome("quality", outcome.status, outcome.message,
                                   outcome.seconds + time.perf_counter() - start)
        if not result.apply(outcome):
            return
        if self.embedder is not None:
            outcome, vectors = embed_faces(data, finding.faces, self.embedder, self.embed)
            if not result.apply(outcome):
                return
            result.embeddings = [[float(v) for v in row] for row in vectors]
        start = time.perf_counter()
        result.phash = _phash(rgb, self.phash_size)
        result.timings["dedup_hash"] = round(time.perf_counter() - start, 6)
        result.stage = "analysed"


def _phash(rgb: Any, hash_size: int) -> str:
    import imagehash
    from PIL import Image

    return str(imagehash.phash(Image.fromarray(rgb), hash_size=hash_size))
