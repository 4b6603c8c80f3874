"""Download catalog weights into the weights home (on a connected machine).

Files are streamed with ``requests`` into ``<dest>.part``, hashed while streaming, checked
against the catalog's sha256 (or name prefix) when known, then renamed into place with
``os.replace`` (atomic on one filesystem), so a killed download never leaves a file that
:func:`~portraitsr4k.weights.resolve` would accept. Offline, the first connection error ends
the fetch at once with a :class:`FetchError` that says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from portraitsr4k.weights.catalog import WeightFile, by_name
from portraitsr4k.weights.resolve import ChecksumError, MissingWeightsError, resolve, weights_home

__all__ = ["FetchError", "OfflineError", "fetch", "fetch_many", "download_url"]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


class FetchError(RuntimeError):
    """A download failed (network, HTTP status, archive content) or cannot be automated."""


class OfflineError(FetchError):
    """The host could not be reached at all (no network): further downloads are pointless."""


def download_url(url: str, dest: Path, *, sha256: str | None = None, sha256_prefix: str | None = None,
                 timeout: float = 30.0, progress: bool = True) -> Path:
    """Stream ``url`` to ``dest`` atomically, checking the sha256 when given.

    Raises:
        FetchError: connection failure (offline), HTTP error status.
        ChecksumError: the downloaded bytes do not match ``sha256`` / ``sha256_prefix``.
    """
    import requests
    from tqdm.auto import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    try:
        with requests.get(url, stream=True, timeout=timeout, allow_redirects=True) as response:
            if response.status_code != 200:
                raise FetchError(f"GET {url} returned HTTP {response.status_code} {response.reason}")
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(part, "wb") as fh, tqdm(total=total, unit="B", unit_scale=True, desc=dest.name,
                                              disable=not progress) as bar:
                for block in response.iter_content(chunk_size=_CHUNK):
                    fh.write(block)
                    digest.update(block)
                    bar.update(len(block))
                fh.flush()
                os.fsync(fh.fileno())
            if total is not None and part.stat().st_size != total:
                raise FetchError(f"GET {url}: got {part.stat().st_size} bytes, Content-Length said {total}")
    except (requests.ConnectionError, requests.Timeout) as exc:
        part.unlink(missing_ok=True)
        raise OfflineError(f"cannot download {url}: {type(exc).__name__} (is this machine offline? "
                         "fetch weights on a connected machine and copy the weights home over)") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    actual = digest.hexdigest()
    expected = sha256 or sha256_prefix
    if expected and not actual.startswith(expected):
        part.unlink(missing_ok=True)
        raise ChecksumError(f"{url}: downloaded sha256 {actual} does not match the expected {expected}; "
                            "nothing was written")
    os.replace(part, dest)
    logger.info("downloaded %s -> %s (sha256 %s)", url, dest, actual)
    return dest


def _extract_member(archive: Path, filename: str, dest: Path) -> None:
    """Copy the zip member whose base name is ``filename`` to ``dest`` (atomically)."""
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if os.path.basename(m) == filename]
        if not members:
            raise FetchError(f"{archive.name} holds no {filename!r} (members: {zf.namelist()[:20]})")
        part = dest.with_name(dest.name + ".part")
        with zf.open(members[0]) as src, open(part, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        os.replace(part, dest)


def _extract_siblings(entry: WeightFile, archive: Path) -> None:
    """Also unpack the other catalog files that live in the same archive (SCRFD and ArcFace share
    ``buffalo_l.zip``), so fetching both does not download the ~300 MB pack twice."""
    from portraitsr4k.weights.catalog import WEIGHTS

    with zipfile.ZipFile(archive) as zf:
        names = {os.path.basename(m) for m in zf.namelist()}
    for other in WEIGHTS:
        if other is entry or other.archive != entry.archive or other.subdir != entry.subdir:
            continue
        target = weights_home() / other.subdir / other.filename
        if other.filename in names and not target.exists():
            _extract_member(archive, other.filename, target)


def _fetch_hf_repo(entry: WeightFile, dest: Path) -> Path:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        raise FetchError(f"cannot fetch {entry.hf_repo}: HF_HUB_OFFLINE is set")
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(repo_id=entry.hf_repo, local_dir=str(dest))
    except Exception as exc:  # huggingface_hub raises many types; all mean "not fetched"
        raise FetchError(f"cannot download HF repo {entry.hf_repo} into {dest}: {exc}") from exc
    return dest


def fetch(name: str | WeightFile, *, force: bool = False, mirror: str | None = None,
          timeout: float = 30.0, progress: bool = True) -> Path:
    """Make weight ``name`` present in the weights home and return its path.

    Args:
        name: catalog name or a :class:`WeightFile`.
        force: download even when a copy is already found somewhere.
        mirror: base URL that replaces the catalog URL: ``<mirror>/<subdir>/<filename>``
            (an internal mirror laid out like the weights home). Archives are fetched from
            ``<mirror>/<subdir>/<archive>``.
        timeout: seconds for connect and for each read.

    Raises:
        FetchError: manual-only entries, network failures (offline), HTTP errors.
        ChecksumError: download does not match the catalog's sha256.
    """
    entry = name if isinstance(name, WeightFile) else by_name(name)
    if not force:
        try:
            found = resolve(entry)
            logger.info("%s already present at %s", entry.name, found)
            return found
        except MissingWeightsError:
            pass
    dest = weights_home() / entry.subdir / entry.filename
    if entry.manual and mirror is None:
        raise FetchError(f"{entry.name} cannot be downloaded automatically: get it as described at "
                         f"{entry.url} and place it at {dest}")
    if entry.is_dir:
        return _fetch_hf_repo(entry, dest)
    base = mirror.rstrip("/") + "/" + entry.subdir if mirror else None
    if entry.archive:
        url = f"{base}/{entry.archive}" if base else entry.url
        with tempfile.TemporaryDirectory(dir=_ensure(dest.parent)) as tmp:
            archive = download_url(url, Path(tmp) / entry.archive, timeout=timeout, progress=progress)
            _extract_member(archive, entry.filename, dest)
            _extract_siblings(entry, archive)
        _verify_after_extract(entry, dest)
        return dest
    url = f"{base}/{entry.filename}" if base else entry.url
    return download_url(url, dest, sha256=entry.sha256, sha256_prefix=entry.sha256_prefix, timeout=timeout,
                        progress=progress)


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _verify_after_extract(entry: WeightFile, dest: Path) -> None:
    from portraitsr4k.weights.resolve import verify_checksum

    try:
        verify_checksum(entry, dest)
    except ChecksumError:
        dest.unlink(missing_ok=True)
        raise


def fetch_many(names: Iterable[str | WeightFile], **kwargs: object) -> dict[str, Path | Exception]:
    """Fetch several entries; one failed file does not stop the others, but an
    :class:`OfflineError` does (every later one would fail the same way): those are reported
    as skipped. Returns name -> path or the exception."""
    results: dict[str, Path | Exception] = {}
    offline: OfflineError | None = None
    for name in names:
        key = name.name if isinstance(name, WeightFile) else name
        if offline is not None:
            results[key] = FetchError(f"skipped: offline ({offline})")
            continue
        try:
            results[key] = fetch(name, **kwargs)  # type: ignore[arg-type]
        except OfflineError as exc:
            logger.error("fetch %s failed: %s", key, exc)
            results[key] = offline = exc
        except (FetchError, ChecksumError, KeyError, OSError) as exc:
            logger.error("fetch %s failed: %s", key, exc)
            results[key] = exc
    return results
