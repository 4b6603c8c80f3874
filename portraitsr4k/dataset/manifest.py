"""``manifest.json`` of a PortraitSR-4K build: what was built, with what, and each shard's hash.

Layout (keys sorted, 2-space indent, no timestamps, so a rebuild gives identical bytes)::

    {
      "config_hash": "<sha256 of the canonical JSON of the resolved build config>",
      "dependencies": {"datasets": "5.2.0", "numpy": "2.4.0", "pyarrow": "26.0.1", ...},
      "package": {"name": "portraitsr4k", "version": "0.1.0"},
      "python": "3.11.9",
      "schema_version": 1,
      "shards": {"data/train-00000-of-00002.parquet": {"bytes": 123, "rows": 5, "sha256": "..."}, ...}
    }

Protocol ("manifest entry last"): :func:`start_manifest` at the start of a build (a resumed build
must have the same config hash), then :func:`record_shard` *after* :func:`write_shard` has put
the shard in place. A shard file with no entry is therefore an unfinished write (verify reports
it as extra); an entry always describes a complete file. The manifest itself is replaced
atomically (temp file + fsync + ``os.replace``) under an advisory lock, so concurrent shard
writers in several processes do not lose each other's entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import platform
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from portraitsr4k.dataset.schema import SCHEMA_VERSION
from portraitsr4k.dataset.writer import ShardInfo, atomic_write_bytes

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
_LOCK_NAME = ".manifest.lock"

#: Distributions whose versions can change shard bytes or sample content.
TRACKED_DISTRIBUTIONS = (
    "datasets",
    "huggingface_hub",
    "numpy",
    "opencv-python-headless",
    "pillow",
    "pyarrow",
    "scipy",
    "scikit-image",
    "torch",
    "facenet-pytorch",
    "dlib-bin",
    "pyiqa",
    "insightface",
    "ImageHash",
)


def _canonical(value: Any, where: str) -> Any:
    """JSON-ready copy of ``value``; TypeError for anything that has no stable text form.

    An unhashable config must fail loudly: silently hashing ``repr`` (with memory addresses) would
    give a fresh hash each run and defeat resume (failure mode 17).
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)  # "nan"/"inf": JSON has no literal for them
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"config key at {where} must be str, got {type(key).__name__} ({key!r})")
            out[key] = _canonical(item, f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [_canonical(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(
        f"config value at {where} has type {type(value).__name__}, which has no stable hash; "
        "expected None, bool, int, float, str, Path, mappings or lists of them"
    )


def config_to_container(config: Any) -> dict[str, Any]:
    """A resolved plain-dict copy of ``config`` (an OmegaConf ``DictConfig`` or a mapping)."""
    try:
        from omegaconf import DictConfig, OmegaConf
    except ImportError:  # omegaconf is a core dependency; plain mappings work without it
        DictConfig = None  # type: ignore[assignment,misc]  # noqa: N806
    if DictConfig is not None and isinstance(config, DictConfig):
        config = OmegaConf.to_container(config, resolve=True)
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping or an OmegaConf DictConfig, got {type(config).__name__}")
    return _canonical(config, "config")


def config_hash(config: Any) -> str:
    """sha256 (hex) of the canonical JSON (sorted keys, compact) of the resolved config."""
    text = json.dumps(config_to_container(config), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dependency_versions() -> dict[str, str]:
    """Installed versions of :data:`TRACKED_DISTRIBUTIONS` (absent ones are left out)."""
    versions = {}
    for name in TRACKED_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return dict(sorted(versions.items()))


def _package_version() -> str:
    from portraitsr4k import __version__

    return __version__


@dataclass(frozen=True)
class ShardEntry:
    """Manifest record of one shard: ``sha256`` (64 hex), ``rows`` (>= 0) and ``bytes`` (> 0)."""

    sha256: str
    rows: int
    bytes: int

    def __post_init__(self) -> None:
        if not isinstance(self.sha256, str) or len(self.sha256) != 64:
            raise ValueError(f"ShardEntry.sha256 must be 64 hex digits, got {self.sha256!r}")
        if not isinstance(self.rows, int) or self.rows < 0:
            raise ValueError(f"ShardEntry.rows must be an int >= 0, got {self.rows!r}")
        if not isinstance(self.bytes, int) or self.bytes <= 0:
            raise ValueError(f"ShardEntry.bytes must be an int > 0, got {self.bytes!r}")


@dataclass
class Manifest:
    """In-memory ``manifest.json``; ``shards`` maps POSIX paths relative to ``out_dir`` to entries."""

    config_hash: str
    schema_version: int = SCHEMA_VERSION
    package_version: str = field(default_factory=_package_version)
    python: str = field(default_factory=platform.python_version)
    dependencies: dict[str, str] = field(default_factory=dependency_versions)
    shards: dict[str, ShardEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.config_hash, str) or len(self.config_hash) != 64:
            raise ValueError(f"Manifest.config_hash must be 64 hex digits, got {self.config_hash!r}")
        if not isinstance(self.schema_version, int) or self.schema_version < 1:
            raise ValueError(f"Manifest.schema_version must be an int >= 1, got {self.schema_version!r}")
        for name, entry in self.shards.items():
            if not isinstance(entry, ShardEntry):
                raise TypeError(f"Manifest.shards[{name!r}] must be a ShardEntry, got {type(entry).__name__}")
            if name.startswith("/") or ".." in Path(name).parts:
                raise ValueError(f"Manifest shard path must be relative inside out_dir, got {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "config_hash": self.config_hash,
            "dependencies": dict(sorted(self.dependencies.items())),
            "package": {"name": "portraitsr4k", "version": self.package_version},
            "python": self.python,
            "schema_version": self.schema_version,
            "shards": {
                name: {"bytes": e.bytes, "rows": e.rows, "sha256": e.sha256} for name, e in sorted(self.shards.items())
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        required = ("config_hash", "dependencies", "package", "python", "schema_version", "shards")
        missing = [key for key in required if key not in data]
        if missing:
            raise ValueError(f"manifest lacks keys {missing}")
        return cls(
            config_hash=data["config_hash"],
            schema_version=data["schema_version"],
            package_version=data["package"]["version"],
            python=data["python"],
            dependencies=dict(data["dependencies"]),
            shards={name: ShardEntry(**entry) for name, entry in data["shards"].items()},
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def rows_per_split(self) -> dict[str, int]:
        """Row counts per ``data/`` split (``pairs/`` shards are counted as ``pairs/<split>``)."""
        counts: dict[str, int] = {}
        for name, entry in self.shards.items():
            folder, _, file_name = name.rpartition("/")
            split = file_name.split("-", 1)[0]
            key = split if folder == "data" else f"{folder}/{split}"
            counts[key] = counts.get(key, 0) + entry.rows
        return dict(sorted(counts.items()))


def read_manifest(out_dir: Path | str) -> Manifest:
    """Load ``out_dir/manifest.json``; FileNotFoundError / ValueError naming the file."""
    path = Path(out_dir) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    try:
        return Manifest.from_dict(data)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{path} is malformed: {exc}") from exc


def write_manifest(out_dir: Path | str, manifest: Manifest) -> Path:
    """Atomically replace ``out_dir/manifest.json`` with ``manifest`` (temp + fsync + rename)."""
    return atomic_write_bytes(Path(out_dir) / MANIFEST_NAME, manifest.to_json().encode("utf-8"))


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Advisory exclusive lock for manifest read-modify-write across processes (POSIX flock)."""
    try:
        import fcntl
    except ImportError:  # non-POSIX: a single writer process is assumed there
        yield
        return
    with open(out_dir / _LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def start_manifest(out_dir: Path | str, config: Any) -> Manifest:
    """Create ``manifest.json`` for a new build, or return the existing one when resuming.

    Raises:
        ValueError: an existing manifest was written for a different config or schema version
            (resuming would mix shards of two builds; use a new ``out_dir`` or delete it).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = config_hash(config)
    with _locked(out_dir):
        if (out_dir / MANIFEST_NAME).exists():
            existing = read_manifest(out_dir)
            if existing.config_hash != digest or existing.schema_version != SCHEMA_VERSION:
                raise ValueError(
                    f"{out_dir / MANIFEST_NAME} belongs to another build (config hash {existing.config_hash[:12]}, "
                    f"schema v{existing.schema_version}); this config hashes to {digest[:12]} with schema "
                    f"v{SCHEMA_VERSION}. Use a new out_dir or remove the old build."
                )
            logger.info("resuming build in %s: %d shards already recorded", out_dir, len(existing.shards))
            return existing
        manifest = Manifest(config_hash=digest)
        write_manifest(out_dir, manifest)
        return manifest


def record_shard(out_dir: Path | str, info: ShardInfo) -> Manifest:
    """Add (or replace) the entry of a shard that :func:`write_shard` has already put in place."""
    out_dir = Path(out_dir)
    try:
        relative = info.path.resolve().relative_to(out_dir.resolve()).as_posix()
    except ValueError as exc:
        raise ValueError(f"shard {info.path} is not inside out_dir {out_dir}") from exc
    if not info.path.is_file():
        raise FileNotFoundError(f"shard {info.path} does not exist; record it only after write_shard returned")
    with _locked(out_dir):
        manifest = read_manifest(out_dir)
        manifest.shards[relative] = ShardEntry(sha256=info.sha256, rows=info.rows, bytes=info.bytes)
        write_manifest(out_dir, manifest)
    return manifest


def forget_shards(out_dir: Path | str, names: list[str]) -> Manifest:
    """Remove entries (relative POSIX paths) before their files are deleted or rewritten.

    Order for replacing a stale shard: ``forget_shards`` → delete/rewrite the file →
    :func:`record_shard`, so an entry never describes a file that is not there.
    """
    out_dir = Path(out_dir)
    with _locked(out_dir):
        manifest = read_manifest(out_dir)
        for name in names:
            manifest.shards.pop(name, None)
        write_manifest(out_dir, manifest)
    return manifest
