"""The source interface of the PortraitSR-4K builder: where input photos come from.

A source lists its inputs as :class:`SourceItem` records (cheap: no file is read) in a
deterministic order, and :meth:`Source.fetch` turns one item into the photo's bytes or a
status. ``fetch`` never raises: every input ends as exactly one status row of the build
(``ok``, ``rejected:<reason>`` or ``error:<kind>``, the conventions of DESIGN.md §7).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_STATUS = re.compile(r"^(ok|(error|rejected):[a-z0-9_]+)$")


@dataclass(frozen=True)
class SourceItem:
    """One input of a source (metadata only; nothing is downloaded or read).

    Attributes:
        key: stable, unique id inside the build, ``<source>:<locator>`` (``folder:sub/a.jpg``,
            ``metadata:part-0:000000000042``, ``demo:grace_hopper``); the ``source`` column.
        path: local file path, when there is one.
        url: download URL, when there is one (the ``url`` column).
        license: licence string from the source's metadata, when known.
        width / height: size hints from metadata (pixels), when known; the gate still probes.
        extra: any other metadata worth keeping (JSON-serialisable values).
    """

    key: str
    path: str | None = None
    url: str | None = None
    license: str | None = None
    width: int | None = None
    height: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or ":" not in self.key or self.key.startswith(":"):
            raise ValueError(f"SourceItem.key must look like '<source>:<locator>', got {self.key!r}")
        for name in ("path", "url", "license"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"SourceItem.{name} must be str or None, got {type(value).__name__}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"SourceItem.{name} must be an int >= 0 or None, got {value!r}")
        if not isinstance(self.extra, dict):
            raise TypeError(f"SourceItem.extra must be a dict, got {type(self.extra).__name__}")


@dataclass(frozen=True)
class FetchResult:
    """Outcome of :meth:`Source.fetch` for one item.

    Attributes:
        status: ``ok``, ``error:<kind>`` (I/O or network failure) or ``rejected:<reason>``
            (policy: opt-out header, wrong content type, too large, symlink out of the root).
        message: human-readable detail (empty for ``ok``).
        data: the file's bytes for ``ok``, else ``None``.
        seconds: wall time spent fetching (retries and back-off included).
    """

    status: str
    message: str = ""
    data: bytes | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.status, str) or not _STATUS.match(self.status):
            raise ValueError(f"FetchResult.status must be 'ok', 'error:<kind>' or 'rejected:<reason>' "
                             f"(lowercase, digits, underscores), got {self.status!r}")
        if (self.status == "ok") != (self.data is not None):
            raise ValueError(f"FetchResult: data must be bytes exactly when status is 'ok' (status {self.status!r})")
        if self.data is not None and not isinstance(self.data, bytes):
            raise TypeError(f"FetchResult.data must be bytes, got {type(self.data).__name__}")
        if not isinstance(self.seconds, (int, float)) or self.seconds < 0:
            raise ValueError(f"FetchResult.seconds must be >= 0, got {self.seconds!r}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Source(abc.ABC):
    """Base class of builder sources; subclasses set :attr:`name` and implement both methods."""

    #: Short source name; the prefix of every item key and of the ``source`` column.
    name: str = ""

    @abc.abstractmethod
    def items(self) -> Iterator[SourceItem]:
        """Every input, in a deterministic order that does not depend on the file system's listing order."""

    @abc.abstractmethod
    def fetch(self, item: SourceItem) -> FetchResult:
        """The bytes of ``item`` or the reason there are none; never raises."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
