"""Resolver: search order, every library cache, error messages, checksum verification."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from portraitsr4k.weights import ChecksumError, MissingWeightsError, WeightFile, by_name, candidates, resolve


def put(path: Path, data: bytes = b"weights") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_missing_message_names_file_places_url_and_command(homes: dict[str, Path]) -> None:
    with pytest.raises(MissingWeightsError) as info:
        resolve("pyiqa_musiq_koniq")
    err = info.value
    message = str(err)
    assert "musiq_koniq_ckpt-e95806b9.pth" in message
    assert str(homes["weights"] / "pyiqa" / "musiq_koniq_ckpt-e95806b9.pth") in message
    assert str(homes["torch"] / "hub" / "pyiqa" / "musiq_koniq_ckpt-e95806b9.pth") in message
    hf = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
    assert hf + "musiq_koniq_ckpt-e95806b9.pth" in message
    assert "portraitsr4k-weights fetch pyiqa_musiq_koniq" in message
    assert isinstance(err, FileNotFoundError) and len(err.searched) == 2


def test_order_explicit_then_home_then_library(homes: dict[str, Path], tmp_path: Path) -> None:
    lib = put(homes["torch"] / "hub" / "pyiqa" / "niqe_modelparameters.mat")
    assert resolve("pyiqa_niqe") == lib.resolve()
    home = put(homes["weights"] / "pyiqa" / "niqe_modelparameters.mat")
    assert resolve("pyiqa_niqe") == home.resolve()
    explicit = put(tmp_path / "mine" / "niqe.mat")
    assert resolve("pyiqa_niqe", explicit) == explicit.resolve()
    # an explicit folder means "the file of that name inside it"
    put(tmp_path / "folder" / "niqe_modelparameters.mat")
    inside = tmp_path / "folder" / "niqe_modelparameters.mat"
    assert resolve("pyiqa_niqe", tmp_path / "folder") == inside.resolve()
    # an empty file is not a weight file
    put(homes["weights"] / "pyiqa" / "niqe_modelparameters.mat", b"")
    assert resolve("pyiqa_niqe") == lib.resolve()


@pytest.mark.parametrize(
    "name, relative",
    [
        ("torchvision_vgg16", ("torch", "hub/checkpoints/vgg16-397923af.pth")),
        ("clip_rn50", ("torch", "hub/clip/RN50.pt")),
        ("insightface_arcface_r50", ("insightface", "models/buffalo_l/w600k_r50.onnx")),
        ("pyiqa_dists", ("torch", "hub/pyiqa/DISTS_weights-f5e65c96.pth")),
    ],
)
def test_library_caches(homes: dict[str, Path], name: str, relative: tuple[str, str]) -> None:
    path = homes[relative[0]] / relative[1]
    assert path in candidates(by_name(name))
    # checksum-carrying entries are checked; use verify=False for placeholder bytes here
    put(path)
    assert resolve(name, verify=False) == path.resolve()


def test_hf_snapshot_folder(homes: dict[str, Path]) -> None:
    snap = homes["hf"] / "models--stabilityai--stable-diffusion-2-1-base" / "snapshots" / "abc123"
    (snap / "unet").mkdir(parents=True)
    with pytest.raises(MissingWeightsError):
        resolve("sd21_base")  # a snapshot without model_index.json is incomplete
    put(snap / "model_index.json", b"{}")
    assert resolve("sd21_base") == snap.resolve()
    local = put(homes["weights"] / "hf" / "stable-diffusion-2-1-base" / "model_index.json", b"{}").parent
    assert resolve("sd21_base") == local.resolve()


def test_checksum_verified_when_known(homes: dict[str, Path], tmp_path: Path) -> None:
    data = b"real bytes"
    entry = WeightFile(name="t", filename="t.bin", subdir="t", url="https://e/t.bin", licence="MIT",
                       used_by=("tests",), sha256=hashlib.sha256(data).hexdigest())
    put(homes["weights"] / "t" / "t.bin", data)
    assert resolve(entry).read_bytes() == data
    put(homes["weights"] / "t" / "t.bin", b"other bytes!")
    with pytest.raises(ChecksumError, match="does not match"):
        resolve(entry)
    assert resolve(entry, verify=False)


def test_torchvision_name_prefix_is_checked(homes: dict[str, Path]) -> None:
    put(homes["torch"] / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth", b"not alexnet")
    with pytest.raises(ChecksumError, match="7be5be79"):
        resolve("torchvision_alexnet")


def test_manual_entry_message(homes: dict[str, Path]) -> None:
    with pytest.raises(MissingWeightsError, match="no direct download") as info:
        resolve("adaface_ir101_webface12m")
    assert "portraitsr4k-weights fetch" not in str(info.value)


def test_dlib_files_found_in_their_package(homes: dict[str, Path]) -> None:
    path = resolve("dlib_resnet_v1")
    assert path.parent.name == "models" and path.parent.parent.name == "face_recognition_models"
    own = put(homes["weights"] / "dlib" / "dlib_face_recognition_resnet_model_v1.dat")
    assert resolve("dlib_resnet_v1") == own.resolve()
