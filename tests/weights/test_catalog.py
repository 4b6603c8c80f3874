"""The catalog: complete, well-formed, and no invented checksums."""

from __future__ import annotations

import re

import pytest

from portraitsr4k.weights import WEIGHTS, WeightFile, by_name

REQUIRED = {
    "facexlib_retinaface_r50": "detection_Resnet50_Final.pth",
    "facexlib_retinaface_mobile": "detection_mobilenet0.25_Final.pth",
    "facexlib_parsenet": "parsing_parsenet.pth",
    "facexlib_bisenet": "parsing_bisenet.pth",
    "facexlib_arcface_ir_se50": "recognition_arcface_ir_se50.pth",
    "insightface_scrfd_10g": "det_10g.onnx",
    "insightface_arcface_r50": "w600k_r50.onnx",
    "adaface_ir101_webface12m": "adaface_ir101_webface12m.ckpt",
    "pyiqa_niqe": "niqe_modelparameters.mat",
    "pyiqa_musiq_koniq": "musiq_koniq_ckpt-e95806b9.pth",
    "pyiqa_maniqa_pipal": "MANIQA_PIPAL-ae6d356b.pth",
    "pyiqa_lpips_alex": "LPIPS_v0.1_alex-df73285e.pth",
    "pyiqa_dists": "DISTS_weights-f5e65c96.pth",
    "pyiqa_fid_inception": "pt_inception-2015-12-05-6726825d.pth",
    "clip_rn50": "RN50.pt",
    "torchvision_alexnet": "alexnet-owt-7be5be79.pth",
    "torchvision_vgg16": "vgg16-397923af.pth",
    "realesrgan_x4plus": "RealESRGAN_x4plus.pth",
    "realesr_general_x4v3": "realesr-general-x4v3.pth",
    "gfpgan_v1_4": "GFPGANv1.4.pth",
    "codeformer": "codeformer.pth",
    "sd21_base": "stable-diffusion-2-1-base",
}


def test_every_needed_file_is_catalogued() -> None:
    for name, filename in REQUIRED.items():
        assert by_name(name).filename == filename


def test_names_unique_and_urls_plausible() -> None:
    names = [w.name for w in WEIGHTS]
    assert len(names) == len(set(names))
    for entry in WEIGHTS:
        assert entry.url.startswith("https://"), entry.name
        assert entry.licence and entry.used_by
        if not entry.manual and not entry.archive and not entry.is_dir:
            assert entry.url.endswith("/" + entry.filename), entry.name


def test_checksums_are_only_published_ones() -> None:
    for entry in WEIGHTS:
        if entry.sha256:
            # the only full hashes we record are the ones CLIP's URLs publish
            assert entry.sha256 in entry.url, entry.name
        if entry.sha256_prefix:
            assert re.search(rf"-{entry.sha256_prefix}\.pth$", entry.filename), entry.name
    assert by_name("torchvision_alexnet").sha256_prefix == "7be5be79"
    assert by_name("realesrgan_x4plus").checksum_note == "unknown: no copy to hash here"


def test_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(KeyError, match="Did you mean.*facexlib_retinaface_r50"):
        by_name("facexlib_retinaface_r5")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(name="Bad-Name"), "name"),
        (dict(filename="a/b.pth"), "bare name"),
        (dict(subdir="../up"), "subdir"),
        (dict(sha256="abc"), "64"),
        (dict(library_cache="nowhere"), "library_cache"),
        (dict(used_by=()), "used_by"),
        (dict(is_dir=True), "hf_repo"),
    ],
)
def test_entry_validation(kwargs: dict, match: str) -> None:
    base = dict(name="x", filename="x.pth", subdir="x", url="https://e/x.pth", licence="MIT", used_by=("t",))
    with pytest.raises(ValueError, match=match):
        WeightFile(**{**base, **kwargs})
