"""Installed commands find their Hydra configs from any directory, editable and regular installs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PACKAGES = ("portraitsr4k", "degradations", "benchmarks", "headsup_model", "conf")


def _env_without_repo_on_path() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def test_editable_install_finds_configs_from_another_directory(tmp_path: Path) -> None:
    exe = BIN / "portraitsr4k-demo"
    if not exe.exists():
        pytest.skip(f"console script not installed next to {sys.executable} (run `make test`)")
    out = subprocess.run(
        [str(exe), "--cfg", "job", f"out_dir={tmp_path / 'o'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env_without_repo_on_path(),
    )
    assert out.returncode == 0, out.stderr
    assert "presets:" in out.stdout and "realesrgan" in out.stdout
    assert not (tmp_path / "outputs").exists()  # Hydra must not litter the working directory


def test_every_config_group_is_importable_as_package_data() -> None:
    import importlib.resources as resources

    root = resources.files("portraitsr4k.conf")
    names = {p.name for p in root.iterdir()}
    assert "demo.yaml" in names and "degradation" in names
    assert any(p.name.endswith(".yaml") for p in (root / "degradation").iterdir())


def test_regular_wheel_ships_configs_and_runs_outside_the_repo(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for pkg in PACKAGES:
        shutil.copytree(REPO / pkg, src / pkg, ignore=ignore)
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("portraitsr4k-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        members = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    assert "portraitsr4k/conf/demo.yaml" in members
    assert any(m.startswith("portraitsr4k/conf/degradation/") and m.endswith(".yaml") for m in members)
    assert not any(m.startswith("conf/") for m in members), "conf must not be a top-level package"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _env_without_repo_on_path()
    env["PYTHONPATH"] = str(tmp_path / "site")
    code = (
        "import sys, portraitsr4k.conf as c; print(c.__file__);"
        "sys.argv = ['portraitsr4k-demo', '--cfg', 'job', 'out_dir=o'];"
        "from portraitsr4k.cli.demo import main; main()"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    first_line = run.stdout.splitlines()[0]
    assert first_line.startswith(str(tmp_path / "site")), first_line
    assert "presets:" in run.stdout
