"""``folder`` source: photos in a local directory tree.

Rules:

- files are matched by an allow-list of extensions, case-insensitively (``IMG_1.JPG`` counts);
  other files are skipped (counted in a log line), as are hidden files and folders
  (``.DS_Store``, macOS ``._x.jpg`` resource forks, ``.git``) unless ``include_hidden``;
- items come sorted by their path relative to the root (POSIX form), independent of the
  file system's listing order;
- a symlink is followed only when its target resolves inside the root. A file symlink pointing
  outside is still listed, and its fetch returns ``rejected:symlink_outside_root``, so it shows
  up as a status row rather than vanishing. A directory symlink pointing outside is listed the
  same way (one item for the directory). A directory symlink pointing inside the root is not
  descended (its files are listed under their real path already; this also stops cycles);
- ``fetch`` resolves the path again (the tree may have changed since listing), refuses files
  larger than ``max_bytes`` (``rejected:too_large``) and reports unreadable files, dangling
  links and files that vanished as ``error:io``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from portraitsr4k.sources.base import FetchResult, Source, SourceItem

logger = logging.getLogger(__name__)

DEFAULT_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp")


class FolderSource(Source):
    """Photos under ``path``.

    Args:
        path: root directory.
        extensions: allowed file extensions (with or without the dot, any case).
        recursive: descend into sub-folders.
        include_hidden: also list files/folders whose name starts with ``.``.
        license: licence string recorded for every photo (e.g. your own photos' licence).
        max_bytes: largest file read; bigger files give ``rejected:too_large``.
    """

    name = "folder"

    def __init__(self, path: str | os.PathLike[str], *, extensions: Sequence[str] = DEFAULT_EXTENSIONS,
                 recursive: bool = True, include_hidden: bool = False, license: str | None = None,
                 max_bytes: int = 1 << 30) -> None:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"folder source: {root} is not a directory")
        if isinstance(extensions, str) or not extensions:
            raise ValueError(f"extensions must be a non-empty list of suffixes like ['.jpg'], got {extensions!r}")
        if not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(f"max_bytes must be an int > 0, got {max_bytes!r}")
        if license is not None and not isinstance(license, str):
            raise TypeError(f"license must be a str or None, got {type(license).__name__}")
        self.root = root.resolve()
        self.extensions = tuple(sorted({("." + e.lstrip(".")).lower() for e in extensions}))
        self.recursive = bool(recursive)
        self.include_hidden = bool(include_hidden)
        self.license = license
        self.max_bytes = max_bytes

    def _inside_root(self, path: Path) -> bool:
        try:
            path.resolve(strict=False).relative_to(self.root)
        except ValueError:
            return False
        return True

    def _item(self, path: Path, **extra: object) -> SourceItem:
        relative = path.relative_to(self.root).as_posix()
        return SourceItem(key=f"{self.name}:{relative}", path=str(path), license=self.license, extra=dict(extra))

    def items(self) -> Iterator[SourceItem]:
        """Allowed files under the root, sorted by relative path (see the module docstring)."""
        found: list[SourceItem] = []
        skipped = 0
        for directory, dirnames, filenames in os.walk(self.root, followlinks=False):
            here = Path(directory)
            kept_dirs = []
            for name in sorted(dirnames):
                if name.startswith(".") and not self.include_hidden:
                    continue
                sub = here / name
                if sub.is_symlink():
                    if not self._inside_root(sub):
                        found.append(self._item(sub, symlink_target=os.readlink(sub)))
                    continue  # inside-root targets are walked under their real path
                kept_dirs.append(name)
            dirnames[:] = kept_dirs if self.recursive else []
            for name in filenames:
                if name.startswith(".") and not self.include_hidden:
                    skipped += 1
                    continue
                if os.path.splitext(name)[1].lower() not in self.extensions:
                    skipped += 1
                    continue
                path = here / name
                if path.is_symlink():
                    found.append(self._item(path, symlink_target=os.readlink(path)))
                else:
                    found.append(self._item(path))
        found.sort(key=lambda item: item.key)
        logger.info("folder source %s: %d files listed, %d skipped (extension not in %s or hidden)",
                    self.root, len(found), skipped, list(self.extensions))
        yield from found

    def fetch(self, item: SourceItem) -> FetchResult:
        """Read the file of ``item``; never raises."""
        start = time.perf_counter()

        def result(status: str, message: str = "", data: bytes | None = None) -> FetchResult:
            return FetchResult(status, message, data, time.perf_counter() - start)

        if item.path is None:
            return result("error:bad_item", f"folder item {item.key!r} has no path")
        path = Path(item.path)
        try:
            if not self._inside_root(path):
                return result("rejected:symlink_outside_root",
                              f"{item.key} resolves to {path.resolve(strict=False)}, outside {self.root}")
            real = path.resolve(strict=True)
            if not real.is_file():
                return result("error:io", f"{item.key} is not a regular file")
            size = real.stat().st_size
            if size > self.max_bytes:
                return result("rejected:too_large", f"{item.key} has {size} bytes (max_bytes={self.max_bytes})")
            with open(real, "rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:  # permission denied, vanished file, dangling link, I/O error
            return result("error:io", f"{item.key}: {type(exc).__name__}: {exc}")
        if len(data) > self.max_bytes:  # the file grew after stat
            return result("rejected:too_large", f"{item.key} has more than {self.max_bytes} bytes")
        return result("ok", data=data)

    def __repr__(self) -> str:
        return f"FolderSource(path={str(self.root)!r}, extensions={list(self.extensions)})"
