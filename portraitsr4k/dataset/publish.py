"""Publish a verified PortraitSR-4K build to a Hugging Face dataset repo.

:func:`prepare_publish` verifies the build (refusing one that fails), and lists exactly the
files that would be uploaded: ``README.md``, the card figures, ``manifest.json``,
``build_config.yaml`` (when the builder saved it) and every shard under ``data/`` and
``pairs/``. Status records, work caches, lock and temp files, Hydra logs and any other file in
``out_dir`` stay local. :func:`upload` sends them with ``huggingface_hub``:

- ``HfApi.upload_large_folder`` where the installed ``huggingface_hub`` has it (0.25-1.x): the
  resumable uploader (hash / pre-upload / commit tasks cached in ``<out_dir>/.cache/huggingface``);
- otherwise ``HfApi.upload_folder``: huggingface_hub 2.x removed ``upload_large_folder`` and made
  ``upload_folder`` itself resumable (with ``hf_xet``: already-committed files are skipped,
  uploaded chunks deduplicated, large folders split into several commits). Without ``hf_xet`` it
  falls back to one commit, which is not resumable; a warning says so.

Afterwards, remote shards under ``data/``/``pairs/`` that are not part of this build (left from a
build with a different shard count) are deleted, because ``data/train-*`` would match them.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portraitsr4k.card.readme import CARD_NAME, FIGURE_NAMES
from portraitsr4k.dataset.manifest import MANIFEST_NAME, read_manifest
from portraitsr4k.dataset.verify import verify_dataset
from portraitsr4k.dataset.writer import file_sha256

logger = logging.getLogger(__name__)

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SHARD_PREFIXES = ("data/", "pairs/")
#: The resolved build config the builder saves beside the card (uploaded when present).
BUILD_CONFIG_NAME = "build_config.yaml"


class PublishError(RuntimeError):
    """The build cannot be published (failed verification, no card, offline, upload failed)."""


@dataclass(frozen=True)
class PlannedFile:
    """One file of the upload: ``path`` relative to ``out_dir`` (POSIX), size and sha256."""

    path: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class PublishPlan:
    """What :func:`upload` would send: the build folder, its files and the card text."""

    out_dir: Path
    files: tuple[PlannedFile, ...]
    card: str

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set (in the environment now, or when the hub was imported)."""
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return value in {"1", "true", "yes", "on"} or bool(constants.HF_HUB_OFFLINE)


def prepare_publish(out_dir: Path | str, *, decode_images: bool = True, progress: bool = True) -> PublishPlan:
    """Verify ``out_dir`` and list the files to upload.

    Raises:
        PublishError: verification failed (every problem listed), or no dataset card.
    """
    out_dir = Path(out_dir)
    report = verify_dataset(out_dir, decode_images=decode_images, progress=progress)
    if not report.ok:
        details = "\n".join(f"  {p}" for p in report.problems)
        raise PublishError(f"refusing to publish {out_dir}: verification failed with "
                           f"{len(report.problems)} problem(s):\n{details}")
    card_path = out_dir / CARD_NAME
    if not card_path.is_file():
        raise PublishError(f"refusing to publish {out_dir}: no {CARD_NAME} dataset card "
                           "(portraitsr4k-build writes it; or call portraitsr4k.card.write_card)")
    manifest = read_manifest(out_dir)
    files = [PlannedFile(name, entry.bytes, entry.sha256) for name, entry in manifest.shards.items()]
    for name in (CARD_NAME, MANIFEST_NAME, BUILD_CONFIG_NAME, *sorted(FIGURE_NAMES.values())):
        path = out_dir / name
        if path.is_file():
            files.append(PlannedFile(name, path.stat().st_size, file_sha256(path)))
    files.sort(key=lambda f: f.path)
    return PublishPlan(out_dir=out_dir, files=tuple(files), card=card_path.read_text(encoding="utf-8"))


def format_plan(plan: PublishPlan) -> str:
    """Human-readable listing: one line per file (size, sha256, path) and the total."""
    lines = [f"{f.bytes:>14,d}  {f.sha256}  {f.path}" for f in plan.files]
    lines.append(f"{plan.total_bytes:>14,d}  total, {len(plan.files)} files from {plan.out_dir}")
    return "\n".join(lines)


def upload(plan: PublishPlan, repo_id: str, *, private: bool | None = None, revision: str | None = None,
           token: str | None = None, api: Any = None) -> str:
    """Upload ``plan`` to the dataset repo ``repo_id``; returns the repo URL.

    Args:
        plan: from :func:`prepare_publish`.
        repo_id: ``owner/name``.
        private: visibility when the repo is created (``None``: the Hub's default).
        revision: branch to commit to (``None``: ``main``).
        token: Hub token (``None``: ``HF_TOKEN`` or the saved login).
        api: a ``huggingface_hub.HfApi`` (built when ``None``).

    Raises:
        ValueError: malformed ``repo_id``.
        PublishError: offline mode, no network, no permission, or any failed request.
    """
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id):
        raise ValueError(f"repo_id must look like 'owner/name', got {repo_id!r}")
    if hub_offline():
        raise PublishError("cannot upload: HF_HUB_OFFLINE is set (this is what would be uploaded; "
                           "unset it on a connected machine, or pass dry_run=true)")
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    names = [f.path for f in plan.files]
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if hasattr(api, "upload_large_folder"):
            api.upload_large_folder(repo_id=repo_id, folder_path=str(plan.out_dir), repo_type="dataset",
                                    revision=revision, allow_patterns=names)
        else:
            if importlib.util.find_spec("hf_xet") is None:
                logger.warning("hf_xet is not installed: upload_folder makes one commit and cannot resume "
                               "an interrupted upload (pip install hf_xet)")
            api.upload_folder(repo_id=repo_id, folder_path=str(plan.out_dir), repo_type="dataset",
                              revision=revision, allow_patterns=names,
                              commit_message=f"Upload PortraitSR-4K build ({len(names)} files)")
        remote = api.list_repo_files(repo_id, repo_type="dataset", revision=revision)
        keep = set(names)
        stale = sorted(f for f in remote if f.startswith(_SHARD_PREFIXES) and f not in keep)
        if stale:
            logger.info("deleting %d stale remote shards: %s", len(stale), stale)
            api.delete_files(repo_id, delete_patterns=stale, repo_type="dataset", revision=revision,
                             commit_message=f"Remove {len(stale)} shards not in this build")
    except Exception as exc:  # network, auth and server errors all mean "not published"
        raise PublishError(f"upload to dataset repo {repo_id} failed: {type(exc).__name__}: {exc}") from exc
    return f"https://huggingface.co/datasets/{repo_id}"
