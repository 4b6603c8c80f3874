"""Real portrait photos that ship inside installed packages (demo source and tests).

None of them is 4K: the ``demo`` source relaxes the size gate for them and says so. Files are
located through ``importlib.util.find_spec`` only, never by importing the owning package
(``face_recognition_models``' ``__init__`` needs the removed ``pkg_resources``; importing
insightface or pyiqa costs seconds).

| name | package | size | content |
|---|---|---|---|
| ``grace_hopper`` | matplotlib ``mpl-data/sample_data`` | 512x600 JPEG | head-and-shoulders portrait |
| ``astronaut`` | scikit-image ``data`` | 512x512 PNG | portrait (Eileen Collins) |
| ``group_t1`` | insightface ``data/images/t1.jpg`` | 1280x886 JPEG | group photo, 6 faces |
| ``tom_hanks_aligned`` | insightface ``data/images`` | 112x112 PNG | ArcFace-aligned face crop |
| ``pyiqa_i04_ref`` / ``pyiqa_i04_dist`` | pyiqa's stray ``ResultsCalibra`` folder | 512x384 BMP | close-up face and a distorted copy |
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SamplePhoto", "SAMPLE_PHOTOS", "PORTRAIT_NAMES", "locate", "available"]


@dataclass(frozen=True)
class SamplePhoto:
    """Where one shipped photo lives: ``package`` root + ``relpath``."""

    name: str
    package: str
    relpath: str
    description: str
    licence: str


SAMPLE_PHOTOS: dict[str, SamplePhoto] = {
    p.name: p
    for p in (
        SamplePhoto("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
                    "Grace Hopper, head-and-shoulders portrait", "public domain (US Navy photo)"),
        SamplePhoto("astronaut", "skimage", "data/astronaut.png",
                    "Eileen Collins, NASA portrait", "public domain (NASA)"),
        SamplePhoto("group_t1", "insightface", "data/images/t1.jpg",
                    "group photo with six faces", "insightface sample image (MIT code repo)"),
        SamplePhoto("tom_hanks_aligned", "insightface", "data/images/Tom_Hanks_54745.png",
                    "112x112 ArcFace-aligned face", "insightface sample image (MIT code repo)"),
        SamplePhoto("pyiqa_i04_ref", "ResultsCalibra", "ref_dir/I04.bmp",
                    "TID2013 I04 reference (pyiqa calibration pair)", "TID2013 research use"),
        SamplePhoto("pyiqa_i04_dist", "ResultsCalibra", "dist_dir/I04.bmp",
                    "TID2013 I04 distorted (pyiqa calibration pair)", "TID2013 research use"),
    )
}

# Photos that show real people in a natural frame (used by the demo build).
PORTRAIT_NAMES: tuple[str, ...] = ("grace_hopper", "astronaut", "group_t1", "pyiqa_i04_ref")


def _package_root(package: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def locate(name: str) -> Path:
    """Absolute path of the shipped photo ``name``.

    Raises:
        KeyError: unknown name (the message lists the known ones).
        FileNotFoundError: the owning package is not installed, naming it.
    """
    if name not in SAMPLE_PHOTOS:
        raise KeyError(f"unknown sample photo {name!r}; known: {sorted(SAMPLE_PHOTOS)}")
    photo = SAMPLE_PHOTOS[name]
    root = _package_root(photo.package)
    path = None if root is None else root / photo.relpath
    if path is None or not os.path.isfile(path):
        raise FileNotFoundError(
            f"sample photo {name!r} ships in the package {photo.package!r} "
            f"({photo.relpath}), which is not installed here; run `make test` or "
            f"`pip install {photo.package}` (pyiqa with --no-deps)"
        )
    return path


def available(names: tuple[str, ...] | None = None) -> dict[str, Path]:
    """The subset of ``names`` (default: all) whose files are present, name -> path."""
    found: dict[str, Path] = {}
    for name in names or tuple(SAMPLE_PHOTOS):
        try:
            found[name] = locate(name)
        except FileNotFoundError:
            continue
    return found
