"""End-to-end runner tests on a dataset in the builder's layout (must-show items of issue 4)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.metrics.identity import IdentitySimilarity
from benchmarks.metrics.pixel import PSNR, SSIM
from benchmarks.metrics.pyiqa_metric import PyiqaMetric
from benchmarks.metrics.seam import SeamGradient
from benchmarks.methods.base import SRMethod
from benchmarks.methods.folder import FolderMethod
from benchmarks.methods.interpolation import BicubicMethod, LanczosMethod
from benchmarks.records import latest, load_records
from benchmarks.runner import BenchmarkRunner


def _metrics() -> list:
    return [PSNR(name="psnr_y", color="y", color_space="ycbcr", eps=1e-8),
            SSIM(name="ssim_y", color="y", color_space="ycbcr", regions=("full", "face", "face_aligned")),
            SeamGradient(), IdentitySimilarity(model="dlib"), IdentitySimilarity(model="dlib", reference=True),
            PyiqaMetric(name="lpips", pyiqa_name="lpips", kind="fr", lower_better=True,
                        weights=["torchvision_alexnet", "pyiqa_lpips_alex"], regions=("full",))]


def _runner(out: Path, data: Path, methods: list, metrics: list | None = None) -> BenchmarkRunner:
    return BenchmarkRunner(out_dir=out, dataset_path=data, split="test", dataset_name="tiny", methods=methods,
                           metrics=metrics or _metrics(), progress=False)


@pytest.fixture(scope="module")
def first_run(bench_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("bench_out")
    summary = _runner(out, bench_dataset, [BicubicMethod(), LanczosMethod()]).run()
    return out, summary


def test_records_cover_regions_identity_and_status_rows(first_run: tuple[Path, object]) -> None:
    out, summary = first_run
    df = latest(load_records([out]))
    ok = df[df.status == "ok"]
    assert set(ok.method) == {"bicubic", "lanczos"}
    assert set(ok.region) == {"full", "face", "face_aligned", "seam"}
    assert {"identity_dlib", "identity_dlib_ref", "seam_grad", "psnr_y", "ssim_y"} <= set(ok.metric)
    # every face-region cell of the no-face image is a counted no_face row, not dropped
    noface = df[(df.image_id == "d_noface") & (df.region != "full")]
    assert len(noface) > 0 and set(noface.status) == {"no_face"}
    # astronaut has no reference photo in the split -> no_reference rows for the reference metric
    ref = df[(df.metric == "identity_dlib_ref") & (df.image_id == "c_astronaut")]
    assert set(ref.status) == {"no_reference"}
    # learned metric without weights: skipped with the file it needs, never a number
    lp = df[df.metric == "lpips"]
    assert set(lp.status) == {"unavailable"} and lp.value.isna().all()
    assert lp.message.str.contains("alexnet-owt-7be5be79.pth").all()
    assert lp.message.str.contains("portraitsr4k-weights fetch").all()
    # outputs cached with sidecars
    for m in ("bicubic", "lanczos"):
        for i in ("a_grace", "b_grace_other", "c_astronaut", "d_noface"):
            assert (out / "outputs" / "tiny" / m / f"{i}.png").is_file()
            assert (out / "outputs" / "tiny" / m / f"{i}.json").is_file()
    assert summary.outputs_computed == 8


def test_identity_same_face_degraded_beats_other_person(first_run: tuple[Path, object]) -> None:
    out, _ = first_run
    df = latest(load_records([out]))
    same = df[(df.metric == "identity_dlib") & (df.status == "ok")].value
    assert (same > 0.9).all(), same.tolist()


def test_psnr_matches_independent_float64_from_shards(first_run: tuple[Path, object], bench_dataset: Path) -> None:
    """osediff convention: BT.601 Y (unrounded), no crop border, 10*log10(1/(mse + 1e-8))."""
    from portraitsr4k.dataset.reader import DatasetReader
    from PIL import Image

    out, _ = first_run
    df = latest(load_records([out]))
    reader = DatasetReader(bench_dataset, split="test")
    for sample in reader:
        hr = np.asarray(Image.open(__import__("io").BytesIO(sample.hr_bytes)).convert("RGB"), np.float64) / 255
        lq = Image.open(__import__("io").BytesIO(sample.lq_bytes)).convert("RGB")
        sr = np.asarray(lq.resize((lq.width * 4, lq.height * 4), Image.Resampling.BICUBIC), np.float64) / 255
        hr = hr[: sr.shape[0], : sr.shape[1]]
        y = lambda a: (16.0 + 65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255.0  # noqa: E731
        mse = np.mean((y(sr) - y(hr)) ** 2)
        expected = 10 * math.log10(1.0 / (mse + 1e-8))
        got = df[(df.method == "bicubic") & (df.metric == "psnr_y") & (df.region == "full")
                 & (df.image_id == sample.id)].value.item()
        assert abs(got - expected) < 1e-6, (sample.id, got, expected)


def test_rerun_computes_nothing_and_folder_adds_only_itself(first_run: tuple[Path, object], bench_dataset: Path,
                                                            tmp_path: Path) -> None:
    out0, _ = first_run
    out = tmp_path / "run"
    shutil.copytree(out0, out)
    before = len(load_records([out]))
    again = _runner(out, bench_dataset, [BicubicMethod(), LanczosMethod()]).run()
    assert again.cells_computed == 0 and again.outputs_computed == 0 and again.outputs_cached == 0, again.to_dict()
    assert again.cells_cached > 0 and len(load_records([out])) == before
    # precomputed outputs of an "external method": copies of the bicubic outputs
    ext = tmp_path / "external"
    ext.mkdir()
    for png in (out / "outputs" / "tiny" / "bicubic").glob("*.png"):
        shutil.copy(png, ext / png.name)
    third = _runner(out, bench_dataset, [BicubicMethod(), LanczosMethod(), FolderMethod(name="ext", path=str(ext))]).run()
    new = load_records([out]).iloc[before:]
    assert set(new.method) == {"ext"}, set(new.method)
    assert third.outputs_computed == 4
    df = latest(load_records([out]))
    a = df[(df.method == "ext") & (df.status == "ok")].set_index(["image_id", "metric", "region", "face_index"]).value
    b = df[(df.method == "bicubic") & (df.status == "ok")].set_index(["image_id", "metric", "region", "face_index"]).value
    pd.testing.assert_series_equal(a.sort_index(), b.loc[a.index].sort_index(), check_names=False)


def test_changed_method_config_invalidates_outputs(bench_dataset: Path, tmp_path: Path) -> None:
    class Shifted(SRMethod):
        def __init__(self, offset: int) -> None:
            super().__init__(name="shifted")
            self.offset = offset

        def config(self) -> dict:
            return {"offset": self.offset}

        def upscale(self, lq: np.ndarray, *, scale: int, sample: object = None) -> np.ndarray:
            up = BicubicMethod().upscale(lq, scale=scale)
            return np.clip(up.astype(int) + self.offset, 0, 255).astype(np.uint8)

    metrics = [PSNR(name="psnr", regions=("full",))]
    r1 = _runner(tmp_path, bench_dataset, [Shifted(0)], metrics).run()
    r2 = _runner(tmp_path, bench_dataset, [Shifted(0)], metrics).run()
    r3 = _runner(tmp_path, bench_dataset, [Shifted(20)], metrics).run()
    assert (r1.outputs_computed, r2.outputs_computed, r3.outputs_computed) == (4, 0, 4)
    df = latest(load_records([tmp_path]))
    assert df.method_hash.nunique() == 1 and len(df) == 4  # only the new config's records count
    assert (df.value < 30).all()


def test_run_survives_a_failing_image(bench_dataset: Path, tmp_path: Path) -> None:
    class Flaky(SRMethod):
        def __init__(self) -> None:
            super().__init__(name="flaky")

        def upscale(self, lq: np.ndarray, *, scale: int, sample: object = None) -> np.ndarray:
            if sample.id == "c_astronaut":
                raise RuntimeError("boom on purpose")
            return BicubicMethod().upscale(lq, scale=scale)

    summary = _runner(tmp_path, bench_dataset, [Flaky()], [PSNR(name="psnr", regions=("full",))]).run()
    df = load_records([tmp_path])
    bad = df[df.status == "error"]
    assert bad.image_id.tolist() == ["c_astronaut"] and bad.message.str.contains("boom on purpose").all()
    assert (df.status == "ok").sum() == 3 and summary.statuses["error"] == 1


def test_a_metric_that_cannot_start_does_not_stop_the_run(bench_dataset: Path, tmp_path: Path) -> None:
    class Broken(PSNR):
        def check_available(self) -> None:
            raise KeyError("catalog entry missing")

    summary = _runner(tmp_path, bench_dataset, [BicubicMethod()],
                      [PSNR(name="psnr", regions=("full",)), Broken(name="broken", regions=("full",))]).run()
    df = load_records([tmp_path])
    assert set(df[df.metric == "broken"].status) == {"error"}
    assert df[df.metric == "broken"].message.str.contains("catalog entry missing").all()
    assert (df[df.metric == "psnr"].status == "ok").all() and summary.statuses["ok"] == 4


def test_changed_region_settings_recompute_face_cells_only(first_run: tuple[Path, object], bench_dataset: Path,
                                                           tmp_path: Path) -> None:
    """A new face margin changes face-region cells: those recompute, full-image-only metrics do not."""
    from benchmarks.metrics.base import Metric
    from benchmarks.regions import RegionExtractor

    out0, _ = first_run
    out = tmp_path / "run"
    shutil.copytree(out0, out)
    before = len(load_records([out]))
    runner = BenchmarkRunner(out_dir=out, dataset_path=bench_dataset, split="test", dataset_name="tiny",
                             methods=[BicubicMethod()], metrics=_metrics(), progress=False,
                             extractor=RegionExtractor(face_margin=0.5))
    summary = runner.run()
    new = load_records([out]).iloc[before:]
    assert summary.cells_computed > 0 and summary.outputs_computed == 0
    assert "full" not in set(new[new.metric.isin(
        [m.name for m in _metrics() if set(m.regions) <= {"full"}])].region)
    recomputed = {m.name for m in _metrics() if isinstance(m, Metric) and set(m.regions) - {"full"}}
    assert set(new.metric) <= recomputed
    assert {"face", "face_aligned", "seam"} <= set(new.region)
    assert "lpips" not in set(new.metric)  # full-image only: its cells stay cached
