"""Process-wide safety: no pixel decode in probe, no stray plugins, flags left alone, fuzzing."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from portraitsr4k.image_io import ALLOWED_FORMATS, STATUSES, decode, probe


def _run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_load_truncated_images_stays_false_after_importing_dependencies() -> None:
    """pyiqa, facexlib and basicsr are imported by other stages in the same process."""
    out = _run_python("""
        import importlib
        import portraitsr4k.torchvision_compat  # first, as in every package
        from PIL import ImageFile
        import portraitsr4k, portraitsr4k.image_io
        results = {"portraitsr4k": ImageFile.LOAD_TRUNCATED_IMAGES}
        for name in ("pyiqa", "facexlib", "basicsr"):
            try:
                importlib.import_module(name)
                results[name] = ImageFile.LOAD_TRUNCATED_IMAGES
            except Exception as exc:
                results[name] = f"import failed: {type(exc).__name__}"
        print(results)
    """)
    results = ast.literal_eval(out.strip().splitlines()[-1])
    assert results == {"portraitsr4k": False, "pyiqa": False, "facexlib": False, "basicsr": False}


def test_no_parser_outside_the_allow_list_is_imported(tmp_path: Path) -> None:
    for name, payload in {
        "a.jpg": b"%!PS-Adobe-3.0 EPSF-3.0\n",
        "b.jpg": b"%PDF-1.4\n",
        "c.jpg": b"SIMPLE  =                    T\n",
        "d.eps": b"%!PS-Adobe-3.0\n",
        "e.fits": b"SIMPLE  =                    T\n",
    }.items():
        (tmp_path / name).write_bytes(payload)
    out = _run_python(f"""
        import sys
        from pathlib import Path
        from portraitsr4k.image_io import probe, decode
        statuses = set()
        for path in sorted(Path({str(tmp_path)!r}).iterdir()):
            statuses.add(probe(path).status)
            statuses.add(decode(path).status)
            statuses.add(probe(path.read_bytes()).status)
        print(sorted(statuses))
        print(sorted(m.split(".")[-1] for m in sys.modules if m.startswith("PIL.") and m.endswith("ImagePlugin")))
    """)
    statuses, plugins = (ast.literal_eval(line) for line in out.strip().splitlines()[-2:])
    assert statuses == ["error:unsupported_format"]
    assert not {"EpsImagePlugin", "PdfImagePlugin", "FitsImagePlugin", "IcoImagePlugin"} & set(plugins), (
        plugins
    )
    # Only the allow-list plus Pillow's own preinit set (BMP, GIF, JPEG, PPM, PNG; never tried).
    allowed = {
        "JpegImagePlugin",
        "MpoImagePlugin",
        "PngImagePlugin",
        "WebPImagePlugin",
        "TiffImagePlugin",
        "BmpImagePlugin",
        "AvifImagePlugin",
        "GifImagePlugin",
        "PpmImagePlugin",
    }
    assert set(plugins) <= allowed, set(plugins) - allowed


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "BMP"])
def test_probe_never_decodes_pixels(with_orientation, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    data = with_orientation(6, fmt=fmt)  # EXIF present: PNG's getexif() would load the pixels

    def no_decode(self: object, *args: object) -> None:
        raise AssertionError("probe decoded pixels")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    monkeypatch.setattr(Image.Image, "load", no_decode)
    info = probe(data)
    assert info.ok, info.message
    assert info.orientation == (6 if fmt != "BMP" else 1) and info.format == fmt


def test_reduced_jpeg_decode_uses_draft(make_encoded, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import JpegImagePlugin

    calls: list[tuple[object, ...]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> object:
        calls.append((mode, size, len(self.tile)))
        return real_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    decoded = decode(make_encoded("JPEG", 64, 96), reduce=4)
    assert calls == [("RGB", (24, 16), 1)] and decoded.rgb.shape == (16, 24, 3)
    calls.clear()
    decode(make_encoded("JPEG", 64, 96))
    assert calls == []


def test_pillow_warnings_never_escape(make_encoded) -> None:
    import warnings

    index = np.zeros((8, 8), np.uint8)
    palette_with_byte_transparency = Image.fromarray(index, "P")
    palette_with_byte_transparency.info["transparency"] = b"\x00" * 256
    import io

    buffer = io.BytesIO()
    palette_with_byte_transparency.save(buffer, "PNG", transparency=b"\x00" * 256)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert decode(buffer.getvalue()).ok


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    kind = rng.integers(0, 4)
    if kind == 0:  # flip a few bytes
        for pos in rng.integers(0, len(buf), rng.integers(1, 9)):
            buf[pos] = int(rng.integers(0, 256))
    elif kind == 1:  # cut
        del buf[int(rng.integers(1, len(buf))) :]
    elif kind == 2:  # delete a span
        start = int(rng.integers(0, len(buf) - 1))
        del buf[start : start + int(rng.integers(1, 64))]
    else:  # insert random bytes
        pos = int(rng.integers(0, len(buf)))
        buf[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    return bytes(buf)


@pytest.mark.parametrize("fmt, save_kw", [("JPEG", {"quality": 90}), ("PNG", {}), ("WEBP", {}), ("TIFF", {})])
def test_mini_fuzz_never_raises(make_encoded, with_orientation, fmt: str, save_kw: dict) -> None:
    """200 mutations per format (hypothesis-free): every result is a known status."""
    seeds = {"JPEG": 1, "PNG": 2, "WEBP": 3, "TIFF": 4}
    rng = np.random.default_rng(seeds[fmt])
    base = with_orientation(6, fmt=fmt, height=24, width=40, **save_kw)
    seen: dict[str, int] = {}
    for _ in range(200):
        data = _mutate(base, rng)
        info = probe(data)
        decoded = decode(data, reduce=int(rng.choice([1, 2])))
        for result in (info, decoded):
            assert result.status in STATUSES
            seen[result.status] = seen.get(result.status, 0) + 1
        if decoded.ok:
            assert decoded.rgb.dtype == np.uint8 and decoded.rgb.shape[2] == 3
        else:
            assert decoded.message
    assert seen.get("ok", 0) > 0 and len(seen) >= 2, seen


def test_allowed_formats_default() -> None:
    assert ALLOWED_FORMATS[:6] == ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "MPO")
    from PIL import features

    assert ("AVIF" in ALLOWED_FORMATS) == bool(features.check_module("avif"))


@pytest.mark.skipif("AVIF" not in ALLOWED_FORMATS, reason="this Pillow has no AVIF codec")
def test_avif_round_trip_and_truncation(make_encoded) -> None:
    data = make_encoded("AVIF", 32, 48, quality=90)
    decoded = decode(data)
    assert decoded.ok and decoded.info.format == "AVIF" and decoded.rgb.shape == (32, 48, 3)
    assert decode(data[: len(data) // 2]).status == "error:truncated"
