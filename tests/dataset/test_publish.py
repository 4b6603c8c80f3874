"""portraitsr4k-publish: dry run / offline listing, refusal of broken builds, upload calls."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portraitsr4k.card import write_card
from portraitsr4k.cli.publish import _positional_to_override, run
from portraitsr4k.dataset.publish import PublishError, prepare_publish, upload

EXPECTED_FILES = [
    "README.md", "card_degradation.png", "card_face_size.png", "card_quality.png",
    "data/test-00000-of-00001.parquet", "data/train-00000-of-00002.parquet",
    "data/train-00001-of-00002.parquet", "manifest.json", "pairs/train-00000-of-00001.parquet",
]


@pytest.fixture
def carded_build(manifested_build: Path, build_config: dict) -> Path:
    write_card(manifested_build, build_config)
    (manifested_build / "status").mkdir()
    (manifested_build / "status" / "records.parquet").write_bytes(b"local only")
    return manifested_build


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from portraitsr4k.cli.publish import main; sys.argv[0] = 'portraitsr4k-publish'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_plan_lists_exactly_the_dataset_files(carded_build: Path) -> None:
    plan = prepare_publish(carded_build, progress=False)
    assert [f.path for f in plan.files] == EXPECTED_FILES
    for f in plan.files:
        data = (carded_build / f.path).read_bytes()
        assert f.bytes == len(data) and f.sha256 == hashlib.sha256(data).hexdigest()
    assert plan.card.startswith("---\n")


def _run(*overrides: str) -> int:
    """The Hydra app's body on a composed config (in-process: no interpreter start-up)."""
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module="portraitsr4k.conf", version_base="1.3"):
        cfg = compose("publish", overrides=list(overrides))
    return run(cfg)


def test_dry_run_cli_entry_point(carded_build: Path) -> None:
    dry = _cli(str(carded_build), "repo_id=me/psr4k", "dry_run=true")
    assert dry.returncode == 0, dry.stderr
    assert "DRY RUN: would upload to dataset repo me/psr4k" in dry.stdout
    shard = carded_build / "data/train-00000-of-00002.parquet"
    digest = hashlib.sha256(shard.read_bytes()).hexdigest()
    assert f"{shard.stat().st_size:,d}  {digest}  data/train-00000-of-00002.parquet" in dry.stdout
    assert "status/" not in dry.stdout and "config_name: pairs" in dry.stdout  # the card is printed
    assert not (Path.cwd() / "publish.log").exists()


def test_offline_run_lists_and_fails(carded_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(f"out_dir={carded_build}", "repo_id=me/psr4k") == 1
    out, err = capsys.readouterr()
    assert "OFFLINE: would upload" in out and "config_name: default" in out
    for name in EXPECTED_FILES:
        assert f"  {name}\n" in out
    assert "HF_HUB_OFFLINE is set" in err
    assert _run(f"out_dir={carded_build}") == 2
    assert "repo_id=owner/name is required" in capsys.readouterr().err


def test_refuses_broken_build(carded_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shard = carded_build / "data/test-00000-of-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 3] ^= 0x10
    shard.write_bytes(bytes(data))
    with pytest.raises(PublishError, match="data/test-00000-of-00001.parquet: sha256"):
        prepare_publish(carded_build, progress=False)
    assert _run(f"out_dir={carded_build}", "dry_run=true") == 1
    assert "refusing to publish" in capsys.readouterr().err


def test_refuses_build_without_card(manifested_build: Path) -> None:
    with pytest.raises(PublishError, match="no README.md"):
        prepare_publish(manifested_build, progress=False)


class RecordingApi:
    """Stands in for HfApi where no Hub exists: records calls, serves a remote file list."""

    def __init__(self, remote: list[str]) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.remote = remote

    def create_repo(self, repo_id: str, **kw: Any) -> None:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kw}))

    def upload_folder(self, **kw: Any) -> None:
        self.calls.append(("upload_folder", kw))

    def list_repo_files(self, repo_id: str, **kw: Any) -> list[str]:
        return self.remote

    def delete_files(self, repo_id: str, delete_patterns: list[str], **kw: Any) -> None:
        self.calls.append(("delete_files", {"delete_patterns": delete_patterns, **kw}))


def test_upload_calls_and_stale_shard_cleanup(carded_build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    plan = prepare_publish(carded_build, progress=False)
    api = RecordingApi(remote=[*EXPECTED_FILES, "data/train-00002-of-00003.parquet", "notes.txt"])
    url = upload(plan, "me/psr4k", private=True, api=api)
    assert url == "https://huggingface.co/datasets/me/psr4k"
    names = [name for name, _ in api.calls]
    assert names == ["create_repo", "upload_folder", "delete_files"]
    assert api.calls[0][1] == {"repo_id": "me/psr4k", "repo_type": "dataset", "private": True, "exist_ok": True}
    sent = api.calls[1][1]
    assert sent["repo_type"] == "dataset" and sent["folder_path"] == str(carded_build)
    assert sent["allow_patterns"] == EXPECTED_FILES
    assert api.calls[2][1]["delete_patterns"] == ["data/train-00002-of-00003.parquet"]
    with pytest.raises(ValueError, match="owner/name"):
        upload(plan, "not a repo", api=api)


def test_upload_without_network_fails_clearly(carded_build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token_not_real")
    plan = prepare_publish(carded_build, progress=False)
    with pytest.raises(PublishError, match="upload to dataset repo me/psr4k failed"):
        upload(plan, "me/psr4k")  # the real HfApi; the test harness refuses non-loopback sockets


def test_positional_out_dir() -> None:
    assert _positional_to_override(["/data/psr4k", "repo_id=a/b"]) == ["out_dir=/data/psr4k", "repo_id=a/b"]
    assert _positional_to_override(["/my data/x'y"]) == ["out_dir='/my data/x\\'y'"]
    assert _positional_to_override(["out_dir=/x", "dry_run=true"]) == ["out_dir=/x", "dry_run=true"]
