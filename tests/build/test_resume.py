"""Resumability: a killed build resumes to the same bytes; finished shards are kept untouched;
a full disk aborts cleanly; a second build on the same out_dir is refused."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from build_helpers import make_builder, shard_hashes

import portraitsr4k.build.runner as runner
from portraitsr4k.build.lock import BuildLock, BuildLockedError
from portraitsr4k.build.runner import BuildError

HERE = Path(__file__).parent


def _seed_work_cache(clean_out: Path, out: Path) -> None:
    """Start ``out`` with the clean build's per-sample cache (``work/`` only: no shard, no
    manifest), so these tests spend their time on shard writing and resuming, not on re-running
    face detection; the per-sample cache itself is what a resumed build reuses anyway."""
    shutil.copytree(clean_out / "work", out / "work", ignore=shutil.ignore_patterns("shard_plan.json"))


def test_rebuild_in_place_keeps_every_shard_untouched(clean_build, portrait_dir, monkeypatch):
    out, _ = clean_build
    before = shard_hashes(out)
    mtimes = {name: (out / name).stat().st_mtime_ns for name in before}
    calls = []
    monkeypatch.setattr(runner, "write_shard", lambda *a, **k: calls.append(a))
    make_builder(portrait_dir, out).run()
    assert calls == []  # nothing rewritten: all shards in the manifest with matching sha256
    assert shard_hashes(out) == before
    assert {name: (out / name).stat().st_mtime_ns for name in before} == mtimes


def test_killed_build_resumes_to_identical_shards(clean_build, portrait_dir, tmp_path):
    out = tmp_path / "out"
    _seed_work_cache(clean_build[0], out)
    child = subprocess.run([sys.executable, str(HERE / "kill_after_first_shard.py"), str(portrait_dir), str(out)],
                           capture_output=True, text=True, timeout=600)
    assert child.returncode == -9, child.stderr[-2000:]
    # Killed after the 2nd shard file landed but before its manifest entry.
    assert len(list((out / "data").glob("*.parquet"))) == 2
    assert not [p for p in (out / "data").iterdir() if p.name.startswith(".")]  # no partial file
    first = sorted((out / "data").glob("*.parquet"))[0]
    kept_mtime = first.stat().st_mtime_ns
    make_builder(portrait_dir, out).run()
    assert shard_hashes(out) == shard_hashes(clean_build[0])
    assert first.stat().st_mtime_ns == kept_mtime  # the finished, recorded shard was not rewritten


def test_disk_full_aborts_cleanly_and_stays_resumable(clean_build, portrait_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _seed_work_cache(clean_build[0], out)
    real_write = runner.write_shard
    calls = []

    def write_until_full(rows, path, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            # What the writer does on ENOSPC: remove its temp file, re-raise.
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(rows, path, **kwargs)

    monkeypatch.setattr(runner, "write_shard", write_until_full)
    with pytest.raises(BuildError, match="disk full"):
        make_builder(portrait_dir, out).run()
    assert len(list((out / "data").glob("*.parquet"))) == 1
    assert not (out / ".build.lock").read_text()  # lock released
    monkeypatch.setattr(runner, "write_shard", real_write)
    make_builder(portrait_dir, out).run()
    assert shard_hashes(out) == shard_hashes(clean_build[0])


def test_second_build_on_same_out_dir_is_refused(portrait_dir, tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from portraitsr4k.build.lock import BuildLock\n"
         f"l = BuildLock({str(out)!r}); l.acquire(); print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BuildLockedError, match=f"pid {holder.pid}"):
            make_builder(portrait_dir, out).run()
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing: its lock is stale and the next build takes it.
    with BuildLock(out):
        pass


def test_stale_lock_file_is_taken_over(tmp_path, caplog):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".build.lock").write_text('{"pid": 999999, "host": "gone", "since": 0}')
    with caplog.at_level("WARNING"), BuildLock(out) as lock:
        assert lock.path.read_text().startswith('{"pid": ' + str(os.getpid()))
    assert "stale" in caplog.text
