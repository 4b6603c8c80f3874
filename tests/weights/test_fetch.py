"""Fetching against a local HTTP server: success, sha mismatch, HTTP errors, archives, offline."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from pathlib import Path

import pytest

from portraitsr4k.weights import ChecksumError, WeightFile, resolve
from portraitsr4k.weights.fetch import FetchError, OfflineError, fetch, fetch_many

DATA = b"\x00weights" * 5000


def entry_for(url: str, **kw: object) -> WeightFile:
    base = dict(name="tiny", filename="tiny.pth", subdir="tiny", url=url, licence="MIT", used_by=("tests",))
    return WeightFile(**{**base, **kw})


def test_fetch_streams_verifies_and_places_file(homes: dict[str, Path], file_server) -> None:
    file_server.files["/files/tiny.pth"] = DATA
    entry = entry_for(file_server.url + "/files/tiny.pth", sha256=hashlib.sha256(DATA).hexdigest())
    path = fetch(entry, progress=False)
    assert path == homes["weights"] / "tiny" / "tiny.pth"
    assert path.read_bytes() == DATA
    assert not list(path.parent.glob("*.part"))
    assert resolve(entry) == path.resolve()
    # present -> no second download
    assert fetch(entry, progress=False) == path.resolve()
    assert file_server.hits["/files/tiny.pth"] == 1
    fetch(entry, force=True, progress=False)
    assert file_server.hits["/files/tiny.pth"] == 2


def test_sha_mismatch_leaves_nothing(homes: dict[str, Path], file_server) -> None:
    file_server.files["/tiny.pth"] = DATA
    entry = entry_for(file_server.url + "/tiny.pth", sha256=hashlib.sha256(b"something else").hexdigest())
    with pytest.raises(ChecksumError, match="nothing was written"):
        fetch(entry, progress=False)
    folder = homes["weights"] / "tiny"
    assert not (folder / "tiny.pth").exists() and not list(folder.glob("*"))


def test_sha_prefix_checked(homes: dict[str, Path], file_server) -> None:
    file_server.files["/tiny.pth"] = DATA
    good = hashlib.sha256(DATA).hexdigest()[:8]
    assert fetch(entry_for(file_server.url + "/tiny.pth", sha256_prefix=good), progress=False).exists()
    bad = "0" * 8 if good != "0" * 8 else "1" * 8
    with pytest.raises(ChecksumError):
        fetch(entry_for(file_server.url + "/tiny.pth", name="tiny2", subdir="t2", sha256_prefix=bad),
              progress=False)


def test_http_error(homes: dict[str, Path], file_server) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(entry_for(file_server.url + "/missing.pth"), progress=False)
    assert not (homes["weights"] / "tiny" / "tiny.pth").exists()


def test_archive_member_extracted(homes: dict[str, Path], file_server) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("buffalo_l/det_10g.onnx", b"detector")
        zf.writestr("buffalo_l/w600k_r50.onnx", b"recognizer")
    file_server.files["/buffalo_l.zip"] = buf.getvalue()
    entry = entry_for(file_server.url + "/buffalo_l.zip", filename="w600k_r50.onnx", archive="buffalo_l.zip")
    path = fetch(entry, progress=False)
    assert path.read_bytes() == b"recognizer"
    assert sorted(p.name for p in path.parent.iterdir()) == ["w600k_r50.onnx"]  # zip and temp gone
    missing = entry_for(file_server.url + "/buffalo_l.zip", name="t3", subdir="t3", filename="nope.onnx",
                        archive="buffalo_l.zip")
    with pytest.raises(FetchError, match="holds no 'nope.onnx'"):
        fetch(missing, progress=False)


def test_mirror_layout(homes: dict[str, Path], file_server) -> None:
    file_server.files["/mirror/realesrgan/RealESRGAN_x4plus.pth"] = DATA
    path = fetch("realesrgan_x4plus", mirror=file_server.url + "/mirror/", progress=False)
    assert path.read_bytes() == DATA


def test_offline_fails_fast_and_stops_the_batch(homes: dict[str, Path], closed_port_url: str) -> None:
    first = entry_for(closed_port_url + "/a.pth", name="a", filename="a.pth")
    second = entry_for(closed_port_url + "/b.pth", name="b", filename="b.pth")
    start = time.monotonic()
    results = fetch_many([first, second], progress=False)
    assert time.monotonic() - start < 5
    assert isinstance(results["a"], OfflineError) and "offline" in str(results["a"])
    assert isinstance(results["b"], FetchError) and "skipped" in str(results["b"])
    assert not (homes["weights"] / "tiny").exists() or not list((homes["weights"] / "tiny").iterdir())


def test_real_catalog_offline_error_is_clear(homes: dict[str, Path]) -> None:
    # tests refuse non-loopback sockets, exactly like an offline machine
    with pytest.raises(OfflineError, match="codeformer.pth"):
        fetch("codeformer", progress=False)


def test_manual_and_hf_offline(homes: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FetchError, match="cannot be downloaded automatically"):
        fetch("adaface_ir101_webface12m", progress=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FetchError, match="HF_HUB_OFFLINE"):
        fetch("sd21_base", progress=False)


def test_shared_archive_unpacks_catalog_siblings(homes: dict[str, Path], file_server) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("det_10g.onnx", b"detector")
        zf.writestr("w600k_r50.onnx", b"recognizer")
        zf.writestr("genderage.onnx", b"not catalogued")
    file_server.files["/insightface/buffalo_l/buffalo_l.zip"] = buf.getvalue()
    path = fetch("insightface_scrfd_10g", mirror=file_server.url, progress=False)
    assert path.read_bytes() == b"detector"
    assert sorted(p.name for p in path.parent.iterdir()) == ["det_10g.onnx", "w600k_r50.onnx"]
    assert fetch("insightface_arcface_r50", mirror=file_server.url, progress=False).read_bytes() == b"recognizer"
    assert file_server.hits["/insightface/buffalo_l/buffalo_l.zip"] == 1  # the pack was downloaded once
