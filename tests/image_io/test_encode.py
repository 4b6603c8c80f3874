"""PNG encoder and pass-through of untouched source bytes."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from portraitsr4k.image_io import decode, encode_png, source_bytes_if_unchanged


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_encode_png_round_trip_and_deterministic(make_image, level: int) -> None:
    rgb = make_image(48, 40, "photo", seed=5)
    first = encode_png(rgb, compress_level=level)
    assert first == encode_png(rgb.copy(), compress_level=level)
    with Image.open(io.BytesIO(first)) as image:
        assert image.format == "PNG" and image.mode == "RGB" and not image.info.get("icc_profile")
        assert np.array_equal(np.asarray(image), rgb)


def test_encode_png_levels_trade_size(make_image) -> None:
    rgb = make_image(128, 128, "gradient")
    assert len(encode_png(rgb, compress_level=9)) < len(encode_png(rgb, compress_level=0))


def test_encode_png_gray_and_non_contiguous(make_image) -> None:
    rgb = make_image(32, 32)
    assert np.array_equal(decode(encode_png(rgb[:, ::-1])).rgb, rgb[:, ::-1])
    gray = rgb[..., 0].copy()
    assert np.array_equal(decode(encode_png(gray)).rgb[..., 2], gray)


def test_encode_png_rejects_bad_input(make_image) -> None:
    with pytest.raises(TypeError, match="uint8"):
        encode_png(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        encode_png(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="compress_level"):
        encode_png(make_image(4, 4), compress_level=10)
    with pytest.raises(TypeError, match="numpy array"):
        encode_png([[0, 0, 0]])  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_plain_srgb_source_passes_through(make_encoded, fmt: str) -> None:
    data = make_encoded(fmt, 64, 96)
    decoded = decode(data)
    assert decoded.pixels_unchanged and decoded.conversions == ()
    assert source_bytes_if_unchanged(data, decoded) == data
    # The passed-through bytes decode to exactly the array the pipeline worked on.
    assert np.array_equal(decode(source_bytes_if_unchanged(data, decoded)).rgb, decoded.rgb)


def test_gray_jpeg_passes_through(make_encoded) -> None:
    data = make_encoded("JPEG", 16, 16, mode="L")
    assert source_bytes_if_unchanged(data, decode(data)) == data


def test_changed_pixels_need_an_encode(
    with_orientation, p3_icc, make_image, encode_pil, make_encoded
) -> None:
    rotated = with_orientation(6)
    assert source_bytes_if_unchanged(rotated, decode(rotated)) is None
    p3 = encode_pil(Image.fromarray(make_image(16, 16)), "JPEG", icc_profile=p3_icc)
    assert source_bytes_if_unchanged(p3, decode(p3)) is None
    ok, png16 = cv2.imencode(".png", np.full((8, 8), 40000, np.uint16))
    assert ok
    assert source_bytes_if_unchanged(png16.tobytes(), decode(png16.tobytes())) is None
    rgba = encode_pil(Image.fromarray(make_image(8, 8)).convert("RGBA"), "PNG")
    assert source_bytes_if_unchanged(rgba, decode(rgba)) is None
    plain = make_encoded("JPEG", 64, 64)
    assert source_bytes_if_unchanged(plain, decode(plain, reduce=2)) is None
    webp = make_encoded("WEBP", 16, 16, lossless=True)
    assert decode(webp).pixels_unchanged and source_bytes_if_unchanged(webp, decode(webp)) is None
    broken = decode(b"")
    assert source_bytes_if_unchanged(b"", broken) is None


def test_other_bytes_are_not_passed_through(make_encoded) -> None:
    data = make_encoded("PNG", 16, 16)
    decoded = decode(data)
    other = make_encoded("PNG", 16, 16, seed=1)
    assert source_bytes_if_unchanged(other, decoded) is None
    tampered = bytearray(data)
    tampered[-20] ^= 1
    assert source_bytes_if_unchanged(bytes(tampered), decoded) is None
    with pytest.raises(TypeError, match="DecodedImage"):
        source_bytes_if_unchanged(data, decoded.rgb)  # type: ignore[arg-type]
