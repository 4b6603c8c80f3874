"""Tiny in-test sources with the ``portraitsr4k.sources`` interface (items / fetch).

Importable by spawned worker processes (``tests/build`` is put on ``sys.path`` by the conftest),
so they can be pickled into the builder's process pool.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Item:
    key: str
    path: str | None = None
    url: str | None = None
    license: str | None = None
    width: int | None = None
    height: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fetched:
    status: str
    message: str
    data: bytes | None
    seconds: float


class DirSource:
    """Every regular file of ``root`` (not recursive), in ``order`` (``sorted`` or ``reversed``)."""

    name = "testdir"

    def __init__(self, root: str, order: str = "sorted", crash_on: str | None = None) -> None:
        self.root = str(root)
        self.order = order
        self.crash_on = crash_on

    def items(self):
        names = sorted(os.listdir(self.root))
        if self.order == "reversed":
            names = names[::-1]
        for name in names:
            yield Item(key=name, path=os.path.join(self.root, name), license="test")

    def fetch(self, item: Item) -> Fetched:
        if self.crash_on is not None and item.key == self.crash_on:
            os.abort()  # simulates a codec segfault in the worker
        start = time.perf_counter()
        try:
            data = Path(item.path).read_bytes()
        except OSError as exc:
            return Fetched("error:io", str(exc), None, time.perf_counter() - start)
        return Fetched("ok", "", data, time.perf_counter() - start)


class MissingFileSource(DirSource):
    """Items whose files do not exist: every fetch is ``error:io`` (a builder-side failure)."""

    name = "missing"

    def items(self):
        for i in range(int(self.root)):
            yield Item(key=f"gone{i}.jpg", path=f"/nonexistent/psr4k/gone{i}.jpg")


def abort_on_negative(value: int) -> int:
    """Per-sample function for executor tests: squares ``value``, kills its worker on < 0."""
    if value < 0:
        os.abort()
    return value * value
