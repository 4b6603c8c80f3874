"""``demo`` source: the real portraits that ship inside installed packages.

The photos (:data:`portraitsr4k.sample_photos.PORTRAIT_NAMES`: Grace Hopper, Eileen Collins,
insightface's six-face group photo, the TID2013 I04 close-up) are 384-1280 px, far below 4K,
so ``conf/source/demo.yaml`` sets ``relax_gate: true``: the builder then skips the 4K size
rule (and uses its relaxed face-size threshold) for this source only. ``make demo`` builds it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from portraitsr4k import sample_photos
from portraitsr4k.sources.base import FetchResult, Source, SourceItem


class DemoSource(Source):
    """The shipped portraits ``names`` (default: every portrait), sorted by name.

    Args:
        names: sample-photo names from :data:`portraitsr4k.sample_photos.SAMPLE_PHOTOS`.
        skip_missing: leave out photos whose owning package is not installed (logged by the
            caller through the item count) instead of reporting them as ``error:missing``.
    """

    name = "demo"

    def __init__(self, names: Sequence[str] | None = None, *, skip_missing: bool = False) -> None:
        chosen = tuple(sample_photos.PORTRAIT_NAMES if names is None else names)
        if isinstance(names, str) or not chosen:
            raise ValueError(f"names must be a non-empty list of sample photo names, got {names!r}")
        unknown = [n for n in chosen if n not in sample_photos.SAMPLE_PHOTOS]
        if unknown:
            raise ValueError(f"unknown demo photos {unknown}; known: {sorted(sample_photos.SAMPLE_PHOTOS)}")
        self.names = tuple(sorted(set(chosen)))
        self.skip_missing = bool(skip_missing)

    def items(self) -> Iterator[SourceItem]:
        for name in self.names:
            photo = sample_photos.SAMPLE_PHOTOS[name]
            try:
                path: str | None = str(sample_photos.locate(name))
            except FileNotFoundError:
                if self.skip_missing:
                    continue
                path = None
            yield SourceItem(key=f"{self.name}:{name}", path=path, license=photo.licence,
                             extra={"package": photo.package, "description": photo.description})

    def fetch(self, item: SourceItem) -> FetchResult:
        """Read the shipped file; a missing package gives ``error:missing`` naming it."""
        start = time.perf_counter()
        name = item.key.split(":", 1)[1]
        try:
            path = sample_photos.locate(name)
            data = path.read_bytes()
        except (KeyError, FileNotFoundError) as exc:
            return FetchResult("error:missing", str(exc), seconds=time.perf_counter() - start)
        except OSError as exc:
            return FetchResult("error:io", f"{item.key}: {type(exc).__name__}: {exc}",
                               seconds=time.perf_counter() - start)
        return FetchResult("ok", data=data, seconds=time.perf_counter() - start)
