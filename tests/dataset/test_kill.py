"""A writer killed with SIGKILL mid-write leaves no file under the final name (failure mode 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from portraitsr4k.dataset.reader import DatasetReader
from portraitsr4k.dataset.writer import remove_temp_files, shard_name, temp_files, write_shard

_CHILD = r"""
import sys
from pathlib import Path
import numpy as np
from portraitsr4k.dataset.schema import empty_row
from portraitsr4k.dataset.writer import write_shard

rng = np.random.default_rng(0)
rows = []
for i in range(100):
    row = empty_row()
    row.update(id=f"{i:016x}", hr=rng.bytes(300_000), lq=rng.bytes(25_000), scale=4, split="train")
    rows.append(row)
print("ready", flush=True)
write_shard(rows, Path(sys.argv[1]), max_row_group_bytes=4_000_000)
print("done", flush=True)
"""


def test_sigkill_mid_write_leaves_no_partial_shard(tmp_path: Path, make_row) -> None:
    data = tmp_path / "data"
    data.mkdir()
    target = data / shard_name("train", 0, 1)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while not temp_files(data) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert not target.exists()  # never a partial file under the final name
    leftovers = temp_files(data)
    assert len(leftovers) == 1 and leftovers[0].name.startswith(f".{target.name}.{child.pid}.")
    # The rerun writes the shard; readers never see the leftover; cleanup removes it.
    write_shard([make_row(1)], target)
    assert DatasetReader(tmp_path, split="train").ids == [f"{1:016x}"]
    assert remove_temp_files(data) == leftovers and temp_files(data) == []
