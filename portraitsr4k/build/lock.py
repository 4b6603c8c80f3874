"""One builder per output directory: an exclusive ``fcntl.flock`` on ``out_dir/.build.lock``.

``flock`` locks die with their process, so a lock file left behind by a killed build (SIGKILL,
OOM killer, power loss) is *stale* by construction: the next build takes the lock again and
only logs who held it before. A live holder makes the second build fail at once with
:class:`BuildLockedError` naming the holder's pid and host.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path
from types import TracebackType

__all__ = ["BuildLock", "BuildLockedError", "LOCK_NAME"]

logger = logging.getLogger(__name__)

LOCK_NAME = ".build.lock"


class BuildLockedError(RuntimeError):
    """Another live build holds the lock of this output directory."""


class BuildLock:
    """Context manager holding ``<out_dir>/.build.lock`` exclusively for the life of a build."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.path = Path(out_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`BuildLockedError` (never waits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_holder(fd)
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise BuildLockedError(
                    f"another build is writing {self.path.parent} (lock {self.path} held by {holder}); "
                    "wait for it to finish or use another out_dir"
                ) from None
            raise
        previous = _read_holder(fd)
        if previous != "nobody":
            # The file exists but nobody holds the flock: its writer died without cleaning up.
            logger.warning("taking over stale build lock %s (last held by %s)", self.path, previous)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock and empty the file (a later build then sees no previous holder)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    raw = os.pread(fd, 4096, 0)
    if not raw.strip():
        return "nobody"
    try:
        info = json.loads(raw)
        return f"pid {info['pid']} on {info['host']}"
    except (ValueError, KeyError, TypeError):
        return "an unknown process"
