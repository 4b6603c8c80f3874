"""pyiqa-backed metrics: offline ones run, learned ones without weights are skipped with the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.metrics.base import MetricUnavailable
from benchmarks.metrics.fid import FID
from benchmarks.metrics.pyiqa_metric import PyiqaMetric

CONF = Path(__file__).resolve().parents[2] / "conf" / "metric"


def test_every_metric_config_instantiates_with_metadata() -> None:
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    for path in sorted(CONF.glob("*.yaml")):
        metric = instantiate(OmegaConf.load(path))
        info = metric.info()
        assert info["kind"] in ("fr", "nr", "identity", "set") and isinstance(info["lower_better"], bool), path
        assert len(info["config_hash"]) == 12


def test_offline_pyiqa_metrics_run(sample_rgb) -> None:
    ref, dist = sample_rgb("pyiqa_i04_ref"), sample_rgb("pyiqa_i04_dist")
    fsim = PyiqaMetric(name="fsim", pyiqa_name="fsim", kind="fr", lower_better=False)
    # pyiqa calibration_summary.csv, fsim(ours) on I04.bmp: 0.9702
    assert round(fsim.compute(dist, ref), 4) == 0.9702
    piqe = PyiqaMetric(name="piqe", pyiqa_name="piqe", kind="nr", lower_better=True)
    assert 0 < piqe.compute(dist) < 100


def test_tiles_policy_weights_tiles_by_area(sample_rgb) -> None:
    ref, dist = sample_rgb("pyiqa_i04_ref"), sample_rgb("pyiqa_i04_dist")
    whole = PyiqaMetric(name="g", pyiqa_name="gmsd", kind="fr", lower_better=True)
    tiled = PyiqaMetric(name="g", pyiqa_name="gmsd", kind="fr", lower_better=True, policy="tiles", tile=256)
    parts = [(whole.compute(dist[y:y + 256, x:x + 256], ref[y:y + 256, x:x + 256]),
              dist[y:y + 256, x:x + 256].shape[0] * dist[y:y + 256, x:x + 256].shape[1])
             for y in range(0, 384, 256) for x in range(0, 512, 256)]
    expected = sum(v * n for v, n in parts) / sum(n for _, n in parts)
    assert tiled.compute(dist, ref) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("cfg,missing", [("lpips", "alexnet-owt-7be5be79.pth"), ("dists", "vgg16-397923af.pth"),
                                         ("niqe", "niqe_modelparameters.mat"),
                                         ("musiq", "musiq_koniq_ckpt-e95806b9.pth"), ("clipiqa", "RN50.pt"),
                                         ("maniqa_pipal", "MANIQA_PIPAL-ae6d356b.pth")])
def test_learned_metrics_without_weights_name_the_file(cfg: str, missing: str) -> None:
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    metric = instantiate(OmegaConf.load(CONF / f"{cfg}.yaml"))
    with pytest.raises(MetricUnavailable) as info:
        metric.check_available()
    assert missing in info.value.reason and "portraitsr4k-weights fetch" in info.value.reason


def test_fid_without_inception_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(MetricUnavailable, match="pt_inception-2015-12-05-6726825d.pth"):
        FID().compute_set(tmp_path, tmp_path)


def test_weights_found_in_project_home_are_linked_into_the_library_cache(tmp_path: Path, monkeypatch) -> None:
    """A file placed under $PORTRAITSR4K_HOME/weights is made visible where pyiqa looks."""
    import os

    import torch.hub

    from benchmarks.metrics.weights import require_weights

    home = Path(os.environ["PORTRAITSR4K_HOME"]) / "weights" / "pyiqa"
    home.mkdir(parents=True, exist_ok=True)
    (home / "niqe_modelparameters.mat").write_bytes(b"not really a mat file")
    try:
        found = require_weights(["pyiqa_niqe"], who="test")
        linked = Path(torch.hub.get_dir()) / "pyiqa" / "niqe_modelparameters.mat"
        assert linked.is_symlink() and linked.resolve() == found["pyiqa_niqe"]
    finally:
        (home / "niqe_modelparameters.mat").unlink()
        linked = Path(torch.hub.get_dir()) / "pyiqa" / "niqe_modelparameters.mat"
        if linked.is_symlink():
            linked.unlink()


def test_validation() -> None:
    with pytest.raises(ValueError, match="max_side"):
        PyiqaMetric(name="x", pyiqa_name="psnr", kind="fr", lower_better=False, policy="resize")
    with pytest.raises(ValueError, match="kind"):
        PyiqaMetric(name="x", pyiqa_name="psnr", kind="set", lower_better=False)
    m = PyiqaMetric(name="x", pyiqa_name="psnr", kind="fr", lower_better=False)
    with pytest.raises(ValueError, match="mask"):
        m.compute(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), bool))


@pytest.fixture
def random_fid_inception(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Random-init weights of pyiqa's FID Inception saved under the official file name in pyiqa's
    cache (the real file format: a bare state dict); FID values are meaningless, the path is real."""
    import torch
    import torch.hub
    from pyiqa.archs import inception

    monkeypatch.setattr(inception, "load_pretrained_network", lambda net, path, *a, **k: None)
    torch.manual_seed(0)
    net = inception.fid_inception_v3()
    path = Path(torch.hub.get_dir()) / "pyiqa" / "pt_inception-2015-12-05-6726825d.pth"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    monkeypatch.undo()
    yield path
    path.unlink()


@pytest.mark.slow
def test_fid_set_metric_through_runner(random_fid_inception: Path, bench_dataset: Path, tmp_path: Path) -> None:
    """Slow (~90 s on the shared 2-core CPU): a full-size Inception-v3 over 8 images. The fast
    test below covers the runner's set-metric path with a small set metric."""
    import math

    from benchmarks.methods.interpolation import BicubicMethod
    from benchmarks.records import load_records
    from benchmarks.runner import BenchmarkRunner

    def run():
        return BenchmarkRunner(out_dir=tmp_path, dataset_path=bench_dataset, methods=[BicubicMethod()],
                               metrics=[FID(min_images=2)], progress=False).run()

    first = run()
    df = load_records([tmp_path])
    row = df[df.metric == "fid"].iloc[0]
    assert row.status == "ok", row.message
    assert row.image_id == "*" and math.isfinite(row.value) and row.value >= 0 and row.message == "4 images"
    assert sorted(p.name for p in (tmp_path / "hr" / "bench_dataset0").glob("*.png")) == [
        "a_grace.png", "b_grace_other.png", "c_astronaut.png", "d_noface.png"]
    assert first.outputs_computed == 4
    again = run()
    assert again.cells_computed == 0 and again.cells_cached == 1


def test_set_metric_path_fast(bench_dataset: Path, tmp_path: Path) -> None:
    """A set metric gets every image's output written first, one row per method, and is cached."""
    import numpy as np

    from benchmarks.metrics.base import Metric
    from benchmarks.methods.interpolation import BicubicMethod, LanczosMethod
    from benchmarks.records import load_records
    from benchmarks.runner import BenchmarkRunner

    class MeanAbsFolderDiff(Metric):
        def __init__(self) -> None:
            super().__init__(name="folder_mad", kind="set", lower_better=True, regions=("full",))

        def compute_set(self, sr_dir: Path, hr_dir: Path) -> float:
            from PIL import Image

            diffs = []
            for png in sorted(Path(sr_dir).glob("*.png")):
                sr = np.asarray(Image.open(png).convert("RGB"), np.float64)
                hr = np.asarray(Image.open(Path(hr_dir) / png.name).convert("RGB"), np.float64)
                diffs.append(np.abs(sr - hr[: sr.shape[0], : sr.shape[1]]).mean())
            return float(np.mean(diffs))

    def run():
        return BenchmarkRunner(out_dir=tmp_path, dataset_path=bench_dataset, methods=[BicubicMethod(), LanczosMethod()],
                               metrics=[MeanAbsFolderDiff()], progress=False).run()

    first = run()
    df = load_records([tmp_path])
    assert first.outputs_computed == 8 and len(df) == 2 and (df.status == "ok").all()
    assert (df.image_id == "*").all() and set(df.message) == {"4 images"} and (df.value > 0).all()
    assert run().cells_computed == 0
