"""The ray executor runs the same per-sample functions as local and gives the same bytes."""

from __future__ import annotations

import pytest
from build_helpers import make_builder, shard_hashes

from portraitsr4k.build.executors import RayExecutor

pytest.importorskip("ray.data", reason="the ray executor is the optional extra `ray` (in the dev extra)")


@pytest.fixture(scope="module")
def ray_session():
    """A local Ray whose workers can import the test sources (Ray workers do not inherit the
    driver's sys.path; installed sources need nothing of the kind)."""
    import os
    from pathlib import Path

    import ray

    paths = [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}})
    yield
    if ray.is_initialized():
        ray.shutdown()


def test_ray_executor_matches_local_shards(clean_build, portrait_dir, tmp_path, ray_session):
    out = tmp_path / "out"
    summary = make_builder(portrait_dir, out, executor=RayExecutor(workers=2)).run()
    assert {r.status for r in summary.records} == {"ok"}
    assert shard_hashes(out) == shard_hashes(clean_build[0])
