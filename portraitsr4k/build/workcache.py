"""Per-sample results cached under ``out_dir/work/`` so a rerun skips finished samples.

Layout: ``work/<phase>-<fingerprint>/<k[:2]>/<k>.<ext>`` where ``fingerprint`` hashes every
setting the phase's output depends on (a changed threshold starts a fresh folder instead of
reusing stale results) and ``k`` is a hash of the sample key. Every file is written to a unique
temporary name, fsynced and renamed, so a killed build leaves either a whole file or none; a
file that fails to parse is treated as missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from portraitsr4k.dataset.writer import atomic_write_bytes

__all__ = ["WorkCache", "fingerprint"]

logger = logging.getLogger(__name__)


def fingerprint(settings: Any) -> str:
    """16 hex digits of the sha256 of ``settings`` as canonical JSON (``default=repr`` for
    dataclasses and other objects, whose ``repr`` lists their fields)."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)


class WorkCache:
    """Atomic key -> JSON / bytes store for one phase of one build configuration."""

    def __init__(self, out_dir: str | os.PathLike[str], phase: str, settings: Any) -> None:
        if not phase.isidentifier():
            raise ValueError(f"phase must be an identifier, got {phase!r}")
        self.root = Path(out_dir) / "work" / f"{phase}-{fingerprint(settings)}"

    def path(self, key: str, ext: str) -> Path:
        """Where ``key``'s ``ext`` file lives (whether or not it exists)."""
        return self._path(key, ext)

    def _path(self, key: str, ext: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        return self.root / digest[:2] / f"{digest}.{ext}"

    def get_json(self, key: str) -> dict[str, Any] | None:
        path = self._path(key, "json")
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            logger.warning("ignoring unreadable cache file %s", path)
            return None

    def put_json(self, key: str, value: dict[str, Any]) -> None:
        _atomic_write(self._path(key, "json"), json.dumps(value, sort_keys=True).encode("utf-8"))

    def get_bytes(self, key: str, ext: str) -> bytes | None:
        try:
            return self._path(key, ext).read_bytes()
        except FileNotFoundError:
            return None

    def put_bytes(self, key: str, ext: str, data: bytes) -> None:
        _atomic_write(self._path(key, ext), data)
