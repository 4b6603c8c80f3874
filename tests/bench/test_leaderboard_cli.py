"""Leaderboard statistics, the Hydra app (incl. --multirun) and portraitsr4k-leaderboard merging."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.leaderboard import bootstrap_ci, build_leaderboard, paired_test, to_markdown
from benchmarks.records import RecordWriter, load_records


def _records(tmp_path: Path, values: dict[str, list[float]], metric: str = "m", lower_better: bool = False) -> Path:
    with RecordWriter(tmp_path / "records", run_id="r1") as w:
        for method, vals in values.items():
            for i, v in enumerate(vals):
                w.add(dataset="d", split="test", method=method, method_hash="h" + method, image_id=f"i{i}",
                      metric=metric, metric_hash="mh", region="full", face_index=-1, value=v, status="ok",
                      kind="fr", lower_better=lower_better)
    return tmp_path


def test_bootstrap_is_deterministic_and_covers_mean() -> None:
    v = np.random.default_rng(3).normal(30, 2, 50)
    lo, hi = bootstrap_ci(v, seed=0)
    assert (lo, hi) == bootstrap_ci(v, seed=0)
    assert lo < v.mean() < hi and hi - lo < 2


def test_paired_wilcoxon_against_best() -> None:
    a = pd.Series(np.arange(10, dtype=float) + 1.0, index=[f"i{k}" for k in range(10)])
    b = a - 0.5 + np.linspace(0, 0.1, 10)
    delta, p = paired_test(b, a)
    assert delta < 0 and p < 0.01
    assert math.isnan(paired_test(a, a)[1])  # all differences zero


@pytest.mark.parametrize("lower_better", [False, True])
def test_ranks_follow_metric_direction(tmp_path: Path, lower_better: bool) -> None:
    _records(tmp_path, {"good": [3.0, 3.1, 3.2], "bad": [1.0, 1.2, 1.1]}, lower_better=lower_better)
    board = build_leaderboard(load_records([tmp_path])).set_index("method")
    best = "bad" if lower_better else "good"
    assert board.loc[best, "rank"] == 1 and bool(board.loc[best, "best"])
    other = "good" if lower_better else "bad"
    assert board.loc[other, "rank"] == 2 and board.loc[other, "n_images"] == 3
    md = to_markdown(build_leaderboard(load_records([tmp_path])))
    assert ("↓" if lower_better else "↑") in md and f"**{board.loc[best, 'mean']:.4f}" in md


def _compose(overrides: list[str]):
    from hydra import compose, initialize_config_module

    with initialize_config_module(version_base="1.3", config_module="portraitsr4k.conf"):
        return compose("bench", overrides=overrides)


def test_bench_app_writes_all_outputs(bench_dataset: Path, tmp_path: Path, capsys) -> None:
    from benchmarks.cli.bench import run_bench

    out = tmp_path / "b1"
    cfg = _compose([f"dataset.path={bench_dataset}", f"out_dir={out}", "methods=[bicubic,lanczos]",
                    "metrics=[psnr_y,ssim_y,seam_grad,identity_dlib]", "progress=false", "dataset.name=tiny"])
    summary = run_bench(cfg)
    assert summary["statuses"]["ok"] > 0
    for f in ("leaderboard.csv", "leaderboard.md", "report.html", "manifest.json"):
        assert (out / f).is_file(), f
    board = pd.read_csv(out / "leaderboard.csv")
    assert set(board.region) == {"full", "face", "face_aligned", "seam"}
    assert set(board.method) == {"bicubic", "lanczos"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["protocol"]["name"] == "portrait" and "1e-8" in manifest["protocol"]["psnr_convention"]
    assert manifest["methods"]["bicubic"]["config_hash"] and manifest["versions"]["torch"].startswith("2.13")
    assert manifest["metrics"]["psnr_y"]["config"]["eps"] == 1e-8
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3 * 4  # 3 samples x (LQ, 2 methods, HR)
    assert "## tiny / test / region `face`" in capsys.readouterr().out


def test_convention_mix_warns_and_folder_override_reaches_method(bench_dataset: Path, tmp_path: Path, caplog) -> None:
    from benchmarks.cli.bench import run_bench

    cfg = _compose([f"dataset.path={bench_dataset}", f"out_dir={tmp_path}", "methods=[folder]",
                    f"method.folder.path={tmp_path / 'nope'}", "metrics=[psnr,ssim_y_crop4]", "regions=[full]",
                    "progress=false", "report.enabled=false"])
    with caplog.at_level("WARNING"):
        run_bench(cfg)
    assert "mixed conventions" in caplog.text
    df = load_records([tmp_path])
    assert set(df.status) == {"unavailable"} and df.message.str.contains("nope").all()


def test_unknown_names_suggest(bench_dataset: Path, tmp_path: Path) -> None:
    from benchmarks.cli.bench import run_bench

    cfg = _compose([f"dataset.path={bench_dataset}", f"out_dir={tmp_path}", "methods=[bicubc]"])
    with pytest.raises(ValueError, match="Did you mean \\['bicubic'\\]"):
        run_bench(cfg)


def test_console_scripts_multirun_and_merge(bench_dataset: Path, tmp_path: Path) -> None:
    """The installed command with --multirun (two sweeps into two folders), then a merged table."""
    bin_dir = Path(sys.executable).parent
    common = [f"dataset.path={bench_dataset}", "metrics=[psnr_y]", "regions=[full]", "progress=false",
              "dataset.name=tiny"]
    proc = subprocess.run([str(bin_dir / "portraitsr4k-bench"), "--multirun", "methods=[bicubic],[lanczos]",
                           f"out_dir={tmp_path}/run_${{methods.0}}", *common],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [tmp_path / "run_bicubic", tmp_path / "run_lanczos"]
    assert all((r / "records").is_dir() for r in runs)
    merged = tmp_path / "merged"
    from benchmarks.cli.leaderboard import main as leaderboard_main

    assert leaderboard_main([*map(str, runs), "--out", str(merged), "-q"]) == 0
    board = pd.read_csv(merged / "leaderboard.csv")
    assert set(board.method) == {"bicubic", "lanczos"} and (board.n_images == 4).all()
    assert (merged / "leaderboard.md").read_text().count("| bicubic |") == 1
