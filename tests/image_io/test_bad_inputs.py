"""Every bad input becomes a typed status with a message; nothing raises out of the reader."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from portraitsr4k.image_io import (
    ALLOWED_FORMATS,
    STATUSES,
    decode,
    probe,
)


def _both(source: object, **kw: object) -> tuple[str, str]:
    """Status of probe and decode of one source; neither may raise."""
    info = probe(source, **kw)  # type: ignore[arg-type]
    decoded = decode(source, **kw)  # type: ignore[arg-type]
    assert info.status in STATUSES and decoded.status in STATUSES
    if not info.ok:
        assert info.message, "an error status needs a human message"
    if not decoded.ok:
        assert decoded.message and decoded.rgb is None
    return info.status, decoded.status


# --- truncation ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("cut", ["1_byte", "8_bytes", "half", "minus_1", "minus_2"])
def test_truncated_files_are_truncated(make_encoded, fmt: str, cut: str) -> None:
    data = make_encoded(fmt, 64, 96)
    keep = {
        "1_byte": 1,
        "8_bytes": 8,
        "half": len(data) // 2,
        "minus_1": len(data) - 1,
        "minus_2": len(data) - 2,
    }[cut]
    info_status, decode_status = _both(data[:keep])
    assert (info_status, decode_status) == ("error:truncated", "error:truncated"), probe(data[:keep]).message


@pytest.mark.parametrize("fmt", ["TIFF", "BMP"])
def test_truncated_tiff_and_bmp_fail_at_decode(make_encoded, fmt: str) -> None:
    data = make_encoded(fmt, 64, 96)
    for keep in (len(data) // 2, len(data) - 1):
        decoded = decode(data[:keep])
        assert decoded.status == "error:truncated", decoded.message


def test_truncated_detected_even_if_a_library_enabled_load_truncated_images(
    make_encoded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    for fmt in ("JPEG", "PNG"):
        data = make_encoded(fmt, 64, 96)
        assert decode(data[: len(data) * 2 // 3]).status == "error:truncated"


# --- decompression bombs -----------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_claiming(data: bytes, width: int, height: int) -> bytes:
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]


@pytest.mark.parametrize("size", [(60_000, 60_000), (12_000, 12_000), (65_000, 2_000)])
def test_bomb_headers(make_encoded, size: tuple[int, int]) -> None:
    for data in (_png_claiming(*size), _jpeg_claiming(make_encoded("JPEG", 16, 16), *size)):
        assert len(data) < 2000
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not leak
            info_status, decode_status = _both(data)
        assert info_status == decode_status == "error:bomb"
        assert str(size[0] * size[1]) in probe(data).message or "exceeds" in probe(data).message


def test_small_real_image_with_tiny_max_pixels(make_encoded) -> None:
    data = make_encoded("JPEG", 64, 96)
    assert _both(data, max_pixels=64 * 96 - 1) == ("error:bomb", "error:bomb")
    assert _both(data, max_pixels=64 * 96) == ("ok", "ok")


def test_pillow_global_guard_kept_and_never_changed(make_encoded, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in Pillow's own tests: shrink its global limit so a tiny file trips it."""
    data = make_encoded("PNG", 64, 64)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 64 * 64 - 1)  # warning zone: 1x..2x
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = probe(data)  # our per-call limit (default 120 MP) allows it; the warning is caught
        assert info.ok and "DecompressionBombWarning" in info.message
        assert _both(data, max_pixels=1000) == ("error:bomb", "error:bomb")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 64 * 32 - 1)  # above 2x: Pillow's error stands
    assert _both(data, max_pixels=10**9) == ("error:bomb", "error:bomb")
    assert Image.MAX_IMAGE_PIXELS == 64 * 32 - 1


def test_global_limit_untouched_after_use(make_encoded) -> None:
    before = Image.MAX_IMAGE_PIXELS
    decode(make_encoded("JPEG", 32, 32), max_pixels=10)
    decode(make_encoded("JPEG", 32, 32), max_pixels=10**12)
    assert Image.MAX_IMAGE_PIXELS == before == 1024 * 1024 * 1024 // 4 // 3


def test_huge_file_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    with open(path, "wb") as fh:
        fh.write(b"\xff\xd8\xff")
        fh.truncate(8 * 1000 + 64 * 1024 * 1024 + 1)  # sparse: no disk used
    info = probe(path, max_pixels=1000)
    assert info.status == "error:bomb" and "bytes" in info.message


# --- wrong containers --------------------------------------------------------------------------


def test_png_bytes_named_jpg_are_read_by_content(make_encoded, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(make_encoded("PNG", 40, 30))
    info = probe(path)
    assert info.ok and info.format == "PNG" and (info.width, info.height) == (30, 40)
    assert decode(str(path)).rgb.shape == (40, 30, 3)


EPS_BYTES = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n%%EOF\n"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize(
    "name, payload, named",
    [
        ("gif", None, "GIF"),
        ("eps", EPS_BYTES, "EPS"),
        ("pdf", PDF_BYTES, "PDF"),
        ("text", b"hello, this is not a photo\n", None),
        ("html", b"<!doctype html><html></html>", None),
    ],
)
def test_unsupported_containers_named_jpg(
    make_encoded, tmp_path: Path, name: str, payload: bytes | None, named: str | None
) -> None:
    data = make_encoded("GIF", 16, 16) if payload is None else payload
    path = tmp_path / f"{name}.jpg"
    path.write_bytes(data)
    info_status, decode_status = _both(path)
    assert info_status == decode_status == "error:unsupported_format"
    if named is not None:
        assert probe(path).message.startswith(f"{named} data")


def test_gif_allowed_when_asked(make_encoded) -> None:
    data = make_encoded("GIF", 16, 16)
    assert probe(data).status == "error:unsupported_format"
    decoded = decode(data, formats=ALLOWED_FORMATS + ("GIF",))
    assert decoded.ok and decoded.info.format == "GIF" and decoded.rgb.shape == (16, 16, 3)


def test_allow_list_excludes_an_allowed_by_default_format(make_encoded) -> None:
    data = make_encoded("TIFF", 16, 16)
    assert probe(data, formats=("JPEG", "PNG")).status == "error:unsupported_format"
    assert probe(data, formats=("jpeg", "tiff")).ok


def test_invalid_arguments_raise(make_encoded) -> None:
    data = make_encoded("JPEG", 16, 16)
    with pytest.raises(ValueError, match="unknown image format 'NOPE'"):
        probe(data, formats=("JPEG", "NOPE"))
    with pytest.raises(TypeError, match="formats must be a tuple"):
        probe(data, formats="JPEG")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reduce must be one of"):
        decode(data, reduce=3)
    with pytest.raises(ValueError, match="either reduce or max_side"):
        decode(data, reduce=2, max_side=8)
    with pytest.raises(ValueError, match="max_pixels must be >= 1"):
        probe(data, max_pixels=0)
    with pytest.raises(TypeError, match="source must be bytes or a path"):
        probe(123)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="background values"):
        decode(data, background=(0, 0, 256))


# --- empty, garbage, io, corrupt, colour -----------------------------------------------------


def test_zero_bytes(tmp_path: Path) -> None:
    assert _both(b"") == ("error:empty", "error:empty")
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert _both(path) == ("error:empty", "error:empty")


@pytest.mark.parametrize("seed", range(5))
def test_random_garbage(seed: int) -> None:
    data = np.random.default_rng(seed).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    assert _both(data) == ("error:unsupported_format", "error:unsupported_format")


def test_unreadable_paths(tmp_path: Path) -> None:
    assert _both(tmp_path / "missing.jpg") == ("error:io", "error:io")
    assert _both(tmp_path) == ("error:io", "error:io")  # a directory
    assert "missing.jpg" in probe(tmp_path / "missing.jpg").message


def test_corrupt_png_header_crc(make_encoded) -> None:
    data = bytearray(make_encoded("PNG", 32, 32))
    data[29] ^= 0xFF  # IHDR CRC
    assert _both(bytes(data)) == ("error:corrupt", "error:corrupt")


def test_corrupt_png_pixel_stream(make_encoded) -> None:
    data = bytearray(make_encoded("PNG", 32, 32))
    idat = data.index(b"IDAT")
    data[idat + 4 : idat + 12] = b"\xff" * 8  # zlib header + start of the stream
    body = bytes(data[idat : idat + 4 + int.from_bytes(data[idat - 4 : idat], "big")])
    data[idat + len(body) : idat + len(body) + 4] = struct.pack(">I", zlib.crc32(body))  # keep CRC valid
    info_status, decode_status = _both(bytes(data))
    assert info_status == "ok" and decode_status == "error:corrupt"


def test_unreadable_icc_profile_is_a_colour_error(make_image, encode_pil) -> None:
    image = Image.fromarray(make_image(16, 16))
    data = encode_pil(image, "PNG", icc_profile=b"not an icc profile at all" * 10)
    assert _both(data) == ("error:colour", "error:colour")


def test_float_tiff_is_unsupported_mode(encode_pil) -> None:
    data = encode_pil(Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8), "F"), "TIFF")
    info_status, decode_status = _both(data)
    assert info_status == "ok" and decode_status == "error:unsupported_format"
    assert "mode F" in decode(data).message


def test_unexpected_exception_becomes_corrupt(make_encoded, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    def boom(self: object) -> None:
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", boom)
    decoded = decode(make_encoded("PNG", 16, 16))
    assert decoded.status == "error:corrupt" and "decoder exploded" in decoded.message


def test_memory_error_is_a_bomb(make_encoded, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    def oom(self: object) -> None:
        raise MemoryError()

    monkeypatch.setattr(ImageFile.ImageFile, "load", oom)
    assert decode(make_encoded("PNG", 16, 16)).status == "error:bomb"


def test_bytes_like_sources(make_encoded) -> None:
    data = make_encoded("PNG", 8, 8)
    for source in (bytearray(data), memoryview(data), io.BytesIO(data).getvalue()):
        assert decode(source).ok


def _with_app9_thumbnail(data: bytes) -> bytes:
    """Insert an APP9 segment carrying a fake embedded JPEG (with its own EOI) after SOI."""
    payload = b"THUMB\x00" + b"\xff\xd8\xff\xdb" + b"\x00" * 40 + b"\xff\xd9"
    return data[:2] + b"\xff\xe9" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def test_embedded_thumbnail_eoi_does_not_hide_truncation(make_encoded) -> None:
    data = _with_app9_thumbnail(make_encoded("JPEG", 64, 96))
    assert decode(data).ok
    cut = data[: len(data) * 3 // 4]
    assert _both(cut) == ("error:truncated", "error:truncated")


def test_trailer_after_eoi_is_allowed(make_encoded) -> None:
    """Phones append data after the EOI (motion photos); the primary image is complete."""
    data = make_encoded("JPEG", 64, 96) + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8
    decoded = decode(data)
    assert decoded.ok and decoded.rgb.shape == (64, 96, 3)


def test_inserted_bytes_in_png_are_corrupt_not_truncated(make_encoded) -> None:
    data = make_encoded("PNG", 32, 32)
    idat = data.index(b"IDAT")
    damaged = data[: idat + 40] + b"\x00garbage\x00" + data[idat + 40 :]  # chunk walk misaligned
    assert decode(damaged).status == "error:corrupt"
