"""Fixtures of the builder tests: a folder of the shipped portraits and one clean build of it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Spawned worker processes must import the test sources by module name.
sys.path.insert(0, str(Path(__file__).parent))

from build_helpers import copy_portraits, make_builder  # noqa: E402


@pytest.fixture(scope="session")
def portrait_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_portraits(tmp_path_factory.mktemp("portraits"))


@pytest.fixture(scope="session")
def clean_build(portrait_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """One uninterrupted in-process build of the portraits: (out_dir, summary)."""
    out = tmp_path_factory.mktemp("clean") / "out"
    summary = make_builder(portrait_dir, out).run()
    return out, summary
