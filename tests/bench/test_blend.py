"""Blend baseline end to end with a tiny random-weight face restorer; seam metric sensitivity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.methods.base import MethodUnavailable
from benchmarks.methods.blend import BlendMethod
from benchmarks.methods.face_restorers import (
    CodeFormerRestorer,
    GFPGANRestorer,
    TinyRestorerNet,
    TorchFaceRestorer,
)
from benchmarks.methods.interpolation import BicubicMethod
from benchmarks.metrics.pixel import PSNR
from benchmarks.metrics.seam import SeamGradient
from benchmarks.records import latest, load_records
from benchmarks.runner import BenchmarkRunner


@pytest.fixture(scope="module")
def restorer_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random TinyRestorerNet weights saved in the safetensors format the restorer loads."""
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(1)
    net = TinyRestorerNet(channels=8)
    state = {k: torch.randn(v.shape, generator=gen) * 0.3 for k, v in net.state_dict().items()}
    path = tmp_path_factory.mktemp("restorer") / "tiny.safetensors"
    save_file(state, str(path))
    return path


def _blend(ckpt: Path, mask: str, face_source: str = "dataset") -> BlendMethod:
    return BlendMethod(name=f"bicubic+tiny_{mask}", base=BicubicMethod(), face_source=face_source, mask=mask,
                       restorer=TorchFaceRestorer(model_path=str(ckpt), channels=8))


def test_blend_end_to_end_and_seam_hard_above_feather(bench_dataset: Path, restorer_ckpt: Path, tmp_path: Path) -> None:
    methods = [BicubicMethod(), _blend(restorer_ckpt, "feather"), _blend(restorer_ckpt, "hard")]
    metrics = [SeamGradient(), PSNR(name="psnr_y", color="y", regions=("full", "face", "seam"))]
    summary = BenchmarkRunner(out_dir=tmp_path, dataset_path=bench_dataset, dataset_name="tiny", methods=methods,
                              metrics=metrics, progress=False).run()
    assert summary.statuses["error"] == 0 and summary.statuses["unavailable"] == 0, summary.to_dict()
    df = latest(load_records([tmp_path]))
    seam = df[(df.metric == "seam_grad") & (df.status == "ok")].pivot_table(
        index=["image_id", "face_index"], columns="method", values="value")
    assert len(seam) == 3  # one face in each of the three portraits
    hard, feather, plain = seam["bicubic+tiny_hard"], seam["bicubic+tiny_feather"], seam["bicubic"]
    assert (hard > feather).all(), seam
    assert (hard > 2 * plain).all(), seam
    # the restorer really changed the faces: face PSNR differs from plain bicubic
    face = df[(df.metric == "psnr_y") & (df.region == "face")].pivot_table(index="image_id", columns="method",
                                                                             values="value")
    assert (abs(face["bicubic+tiny_feather"] - face["bicubic"]) > 0.1).all()
    # ... while the full image away from faces is untouched (no-face image identical to bicubic)
    full = df[(df.metric == "psnr_y") & (df.region == "full") & (df.image_id == "d_noface")].set_index("method").value
    assert full["bicubic+tiny_hard"] == full["bicubic"]


def test_blend_detects_faces_on_real_photo(portrait_images, restorer_ckpt: Path) -> None:
    from PIL import Image

    hr = portrait_images["grace"]
    lq = np.asarray(Image.fromarray(hr).resize((hr.shape[1] // 4, hr.shape[0] // 4), Image.Resampling.BICUBIC))
    m = _blend(restorer_ckpt, "feather", face_source="detect")
    out = m.upscale(lq, scale=4)
    assert out.shape == (280, 240, 3)
    assert m.last_counts["pasted"] == 1, m.last_counts
    assert not np.array_equal(out, BicubicMethod().upscale(lq, scale=4))


def test_restorers_without_package_or_weights_are_unavailable(tmp_path: Path) -> None:
    for restorer in (GFPGANRestorer(), CodeFormerRestorer()):
        with pytest.raises(MethodUnavailable) as info:
            restorer.check_available()
        assert "pip install" in info.value.reason or "portraitsr4k-weights fetch" in info.value.reason
    missing = TorchFaceRestorer(model_path=str(tmp_path / "nope.safetensors"))
    blend = BlendMethod(base=BicubicMethod(), restorer=missing)
    with pytest.raises(MethodUnavailable, match="nope.safetensors"):
        blend.check_available()


def test_blend_config_hash_tracks_parts(restorer_ckpt: Path) -> None:
    a, b = _blend(restorer_ckpt, "feather"), _blend(restorer_ckpt, "hard")
    assert a.config_hash() != b.config_hash()
    with pytest.raises(ValueError, match="mask"):
        BlendMethod(base=BicubicMethod(), restorer=a.restorer, mask="soft")
