"""``portraitsr4k-build``: configs compose and instantiate; the demo command builds a loadable
dataset; a locked out_dir exits 2 with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_module

from portraitsr4k.build.executors import LocalExecutor, RayExecutor
from portraitsr4k.build.from_config import builder_from_config
from portraitsr4k.build.lock import BuildLock
from portraitsr4k.weights.resolve import MissingWeightsError

BUILD = [sys.executable, "-c", "from portraitsr4k.cli.build import main; main()"]


def _compose(*overrides: str):
    with initialize_config_module(config_module="portraitsr4k.conf", version_base="1.3"):
        return compose("build", overrides=list(overrides))


@pytest.mark.parametrize("executor,kind", [("local", LocalExecutor), ("ray", RayExecutor)])
def test_every_executor_config_instantiates(tmp_path, executor, kind):
    builder = builder_from_config(_compose("source=demo", f"out_dir={tmp_path}", f"executor={executor}", "workers=2"))
    assert isinstance(builder.executor, kind) and builder.executor.workers == 2
    assert builder.analyzer.relaxed and builder.analyzer.gate.relax_size  # demo: relax_gate
    assert builder.materializer.scale == 4 and builder.analyzer.iqa is None
    assert "out_dir" not in builder.config and "workers" not in builder.config  # resumable with other workers


def test_learned_iqa_without_weights_fails_before_any_work(tmp_path):
    with pytest.raises(MissingWeightsError, match="portraitsr4k-weights fetch pyiqa_musiq_koniq"):
        builder_from_config(_compose("source=demo", f"out_dir={tmp_path}", "iqa=musiq"))
    assert not (tmp_path / "data").exists()


def test_demo_command_builds_a_loadable_dataset_and_refuses_a_locked_out_dir(tmp_path):
    import datasets

    out = tmp_path / "demo"
    env = dict(os.environ)
    done = subprocess.run([*BUILD, "source=demo", f"out_dir={out}"], capture_output=True, text=True,
                          timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "total" in done.stdout and "train:" in done.stdout
    for name in ("README.md", "manifest.json", "build_config.yaml", "status/samples.parquet"):
        assert (out / name).is_file(), name
    assert list((out / ".hydra_runs").glob("*/.hydra/config.yaml"))
    assert not list(tmp_path.glob("outputs"))  # nothing written to the working directory
    ds = datasets.load_dataset(str(out))
    assert set(ds) == {"train", "test"} and all(ds[s].num_rows > 0 for s in ds)
    verify = subprocess.run([sys.executable, "-c", "from portraitsr4k.cli.verify import main; main()", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    with BuildLock(out):
        locked = subprocess.run([*BUILD, "source=demo", f"out_dir={out}"], capture_output=True, text=True,
                                timeout=600, env=env, cwd=tmp_path)
    assert locked.returncode == 2
    assert "another build is writing" in locked.stderr
