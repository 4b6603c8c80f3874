"""Colour normalisation: ICC (Display-P3, CMYK), CMYK without profile, 16-bit, alpha, palette."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from portraitsr4k.image_io import decode, probe
from portraitsr4k.image_io.colour import to_srgb


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 encoding of linear light in [0, 1]."""
    linear = np.clip(linear, 0, 1)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def _lcms_reference(data: bytes, icc: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        out = ImageCms.profileToProfile(
            image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    return np.asarray(out)


# --- Display P3 --------------------------------------------------------------------------------


def test_display_p3_png_converted_to_srgb(p3_icc: bytes, make_image, encode_pil, p3_to_srgb) -> None:
    p3 = make_image(32, 48, "photo", seed=3)
    data = encode_pil(Image.fromarray(p3), "PNG", icc_profile=p3_icc)
    info = probe(data)
    assert info.icc and info.icc_description == "Display P3"
    decoded = decode(data)
    assert decoded.ok and decoded.conversions == ("icc_to_srgb",) and not decoded.pixels_unchanged
    assert np.array_equal(decoded.rgb, _lcms_reference(data, p3_icc))
    # Independent of LittleCMS: the textbook P3 -> XYZ -> sRGB matrices.
    diff = np.abs(decoded.rgb.astype(np.int16) - p3_to_srgb(p3))
    assert diff.max() <= 2 and diff.mean() < 0.5
    # P3 is wider than sRGB: the same numbers in sRGB would be visibly less saturated.
    assert np.abs(decoded.rgb.astype(np.int16) - p3.astype(np.int16)).max() >= 5


def test_display_p3_jpeg_full_and_reduced(p3_icc: bytes, make_image, encode_pil) -> None:
    data = encode_pil(Image.fromarray(make_image(64, 96)), "JPEG", quality=95, icc_profile=p3_icc)
    full = decode(data)
    assert np.array_equal(full.rgb, _lcms_reference(data, p3_icc))
    reduced = decode(data, reduce=2)
    assert reduced.conversions == ("draft_1/2", "icc_to_srgb") and reduced.rgb.shape == (32, 48, 3)


def test_srgb_profile_left_alone(make_image, encode_pil) -> None:
    srgb_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb = make_image(24, 24)
    decoded = decode(encode_pil(Image.fromarray(rgb), "PNG", icc_profile=srgb_icc))
    assert decoded.info.icc and decoded.conversions == () and decoded.pixels_unchanged
    assert np.array_equal(decoded.rgb, rgb)


# --- CMYK ------------------------------------------------------------------------------------


def _cmyk_patches() -> np.ndarray:
    """(4, 24, 4) CMYK ink amounts: paper, cyan, black, and a mid mixture (grid points)."""
    inks = [
        (0, 0, 0, 0),
        (255, 0, 0, 0),
        (0, 0, 0, 255),
        (0, 128, 64, 0),
        (64, 128, 191, 64),
        (128, 128, 128, 128),
    ]
    return np.repeat(np.repeat(np.array(inks, np.uint8)[None], 8, axis=0), 8, axis=1)[:, :48]


def test_cmyk_jpeg_with_icc(cmyk_icc: bytes, encode_pil, cmyk_model) -> None:
    cmyk = _cmyk_patches()
    data = encode_pil(
        Image.frombytes("CMYK", (cmyk.shape[1], cmyk.shape[0]), cmyk.tobytes()),
        "JPEG",
        quality=100,
        icc_profile=cmyk_icc,
    )
    info = probe(data)
    assert info.mode == "CMYK" and info.icc_description == "Test CMYK press"
    decoded = decode(data)
    assert decoded.ok and decoded.conversions == ("icc_to_srgb",)
    assert np.array_equal(decoded.rgb, _lcms_reference(data, cmyk_icc))
    # Patch centres against the profile's own colour model, and far from Pillow's naive formula.
    centres = decoded.rgb[4, 4::8].astype(np.int16)
    model = cmyk_model(cmyk[4, 4::8]).astype(np.int16)
    assert np.abs(centres - model).max() <= 4
    with Image.open(io.BytesIO(data)) as image:
        naive = np.asarray(image.convert("RGB"))[4, 4::8].astype(np.int16)
    assert np.abs(centres - naive).max() >= 20


def test_cmyk_jpeg_without_icc_generic_conversion(encode_pil) -> None:
    cmyk = _cmyk_patches()
    data = encode_pil(
        Image.frombytes("CMYK", (cmyk.shape[1], cmyk.shape[0]), cmyk.tobytes()), "JPEG", quality=100
    )
    assert b"Adobe" in data  # Pillow writes Adobe-inverted CMYK, and must undo it on reading
    decoded = decode(data)
    assert decoded.conversions == ("cmyk_to_rgb_generic",) and not decoded.info.icc
    centres = decoded.rgb[4, 4::8].astype(np.int16)
    assert centres[0].tolist() == [255, 255, 255]  # paper
    assert centres[2].tolist() == [0, 0, 0]  # 100 % K
    assert centres[1, 0] <= 2 and centres[1, 1:].min() >= 253  # cyan ink: no red
    c = cmyk[4, 4::8].astype(np.float64)
    expected = np.round((255 - c[:, :3]) * (255 - c[:, 3:]) / 255)
    assert np.abs(centres - expected).max() <= 3  # JPEG quality 100 round trip


def test_cmyk_reduced_decode_uses_draft(cmyk_icc: bytes, encode_pil) -> None:
    cmyk = np.repeat(_cmyk_patches(), 2, axis=0)
    data = encode_pil(
        Image.frombytes("CMYK", (cmyk.shape[1], cmyk.shape[0]), cmyk.tobytes()), "JPEG", icc_profile=cmyk_icc
    )
    decoded = decode(data, reduce=4)
    assert decoded.conversions == ("draft_1/4", "icc_to_srgb") and decoded.rgb.shape == (4, 12, 3)


# --- 16-bit ----------------------------------------------------------------------------------

RAMP16 = np.arange(65536, dtype=np.uint16).reshape(256, 256)


def _levels_ok(rgb: np.ndarray) -> None:
    assert len(np.unique(rgb)) == 256
    assert rgb.min() == 0 and rgb.max() == 255
    assert np.all(np.diff(rgb[..., 0].ravel().astype(np.int32)) >= 0)  # monotonic
    assert np.array_equal(rgb[..., 0], rgb[..., 2])


def test_16bit_gray_png_keeps_256_levels(encode_pil) -> None:
    data = encode_pil(Image.fromarray(RAMP16), "PNG")
    info = probe(data)
    assert info.mode == "I;16" and info.bits_per_sample == 16
    decoded = decode(data)
    assert decoded.conversions == ("16bit_to_8bit", "gray_to_rgb")
    _levels_ok(decoded.rgb)
    expected = (RAMP16.astype(np.int64) * 255 + 32767) // 65535
    assert np.array_equal(decoded.rgb[..., 1], expected)


def test_16bit_big_endian_tiff_keeps_256_levels(encode_pil) -> None:
    image = Image.frombytes("I;16B", (256, 256), RAMP16.astype(">u2").tobytes())
    decoded = decode(encode_pil(image, "TIFF"))
    assert decoded.info.mode == "I;16B" and decoded.info.bits_per_sample == 16
    _levels_ok(decoded.rgb)


def test_mode_i_with_16bit_samples_keeps_256_levels() -> None:
    image = Image.fromarray(RAMP16.astype(np.int32), "I")
    out, conversions, _ = to_srgb(image, icc=None, bits_per_sample=16, background=(255, 255, 255))
    assert conversions == ["16bit_to_8bit", "gray_to_rgb"]
    _levels_ok(np.asarray(out))


def test_16bit_rgb_png_keeps_256_levels() -> None:
    rgb16 = np.stack([RAMP16, RAMP16[::-1], RAMP16], axis=-1)
    ok, encoded = cv2.imencode(".png", rgb16[..., ::-1])  # OpenCV writes BGR
    assert ok
    data = encoded.tobytes()
    info = probe(data)
    assert info.bits_per_sample == 16 and info.mode == "RGB"
    decoded = decode(data)
    assert "16bit_to_8bit" in decoded.conversions and not decoded.pixels_unchanged
    _levels_ok(decoded.rgb)
    # Pillow keeps the 8 most significant bits: within one level of rounding.
    exact = (rgb16.astype(np.int64) * 255 + 32767) // 65535
    assert np.abs(decoded.rgb.astype(np.int64) - exact).max() <= 1
    assert np.array_equal(decoded.rgb[..., 1], (rgb16[..., 1] >> 8).astype(np.uint8))


def test_32bit_integer_tiff_is_unsupported(encode_pil) -> None:
    image = Image.fromarray(np.arange(64, dtype=np.int32).reshape(8, 8) * 1000, "I")
    decoded = decode(encode_pil(image, "TIFF"))
    assert decoded.status == "error:unsupported_format" and "32-bit" in decoded.message


# --- alpha, palette, gray --------------------------------------------------------------------


def _expected_composite(rgb: np.ndarray, alpha: np.ndarray, bg: tuple[int, int, int]) -> np.ndarray:
    a = alpha.astype(np.float64)[..., None] / 255
    return np.round(rgb * a + np.array(bg) * (1 - a)).astype(np.int16)


@pytest.mark.parametrize("background", [(255, 255, 255), (0, 0, 0), (10, 200, 30)])
def test_rgba_composited_on_fixed_background(make_image, encode_pil, background) -> None:
    rgb = make_image(32, 32, "photo", seed=1)
    alpha = np.tile(np.linspace(0, 255, 32).round().astype(np.uint8), (32, 1))
    data = encode_pil(Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "PNG")
    decoded = decode(data, background=background)
    assert decoded.conversions == ("alpha_composite",)
    assert np.abs(decoded.rgb.astype(np.int16) - _expected_composite(rgb, alpha, background)).max() <= 1
    assert np.array_equal(decode(data, background=background).rgb, decoded.rgb)  # deterministic


def test_la_composited(encode_pil) -> None:
    gray = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (32, 1))
    alpha = gray.T.copy()
    data = encode_pil(Image.fromarray(np.dstack([gray, alpha]), "LA"), "PNG")
    decoded = decode(data, background=(0, 0, 255))
    assert decoded.conversions == ("gray_to_rgb", "alpha_composite")
    expected = _expected_composite(np.repeat(gray[..., None], 3, axis=2), alpha, (0, 0, 255))
    assert np.abs(decoded.rgb.astype(np.int16) - expected).max() <= 1


def test_palette_with_trns(encode_pil) -> None:
    index = np.zeros((16, 16), np.uint8)
    index[4:12, 4:12] = 1
    image = Image.fromarray(index, "P")
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    data = encode_pil(image, "PNG", transparency=0)  # index 0 (red) is fully transparent
    assert probe(data).mode == "P"
    decoded = decode(data, background=(0, 255, 0))
    assert decoded.conversions == ("palette_to_rgb", "alpha_composite")
    assert decoded.rgb[0, 0].tolist() == [0, 255, 0] and decoded.rgb[8, 8].tolist() == [0, 0, 255]


def test_palette_without_transparency(encode_pil) -> None:
    image = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8), "P")
    image.putpalette([v for i in range(256) for v in (i, i, i)])
    decoded = decode(encode_pil(image, "PNG"))
    assert decoded.conversions == ("palette_to_rgb",) and not decoded.pixels_unchanged
    assert decoded.rgb[..., 0].ravel().tolist() == list(range(64))


def test_gray_jpeg_expanded(make_encoded) -> None:
    data = make_encoded("JPEG", 32, 32, mode="L")
    decoded = decode(data)
    assert decoded.info.mode == "L" and decoded.conversions == ("gray_to_rgb",) and decoded.pixels_unchanged
    with Image.open(io.BytesIO(data)) as image:
        assert np.array_equal(decoded.rgb[..., 1], np.asarray(image))


def test_bilevel(encode_pil) -> None:
    bits = (np.indices((16, 16)).sum(0) % 2 * 255).astype(np.uint8)
    decoded = decode(encode_pil(Image.fromarray(bits).convert("1"), "PNG"))
    assert decoded.conversions[0] == "bilevel_to_gray" and set(np.unique(decoded.rgb)) == {0, 255}


# --- multi-frame -----------------------------------------------------------------------------


def test_multiframe_tiff_gives_frame0(make_image, encode_pil) -> None:
    frames = [Image.fromarray(make_image(16, 24, "photo", seed=s)) for s in range(3)]
    data = encode_pil(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    assert probe(data).n_frames == 3
    decoded = decode(data)
    assert decoded.conversions == ("frame0_of_3",) and np.array_equal(decoded.rgb, np.asarray(frames[0]))


def test_mpo_gives_primary_image(make_image, encode_pil) -> None:
    frames = [Image.fromarray(make_image(32, 48, "photo", seed=s)) for s in range(2)]
    data = encode_pil(frames[0], "MPO", save_all=True, append_images=frames[1:], quality=95)
    info = probe(data)
    assert info.format == "MPO" and info.n_frames == 2
    decoded = decode(data)
    assert decoded.conversions == ("frame0_of_2",)
    with Image.open(io.BytesIO(data)) as reference:
        reference.seek(0)
        assert np.array_equal(decoded.rgb, np.asarray(reference.convert("RGB")))
    assert decode(data, reduce=2).conversions == ("frame0_of_2", "draft_1/2")


def test_animated_gif_when_allowed(make_image, encode_pil) -> None:
    frames = [Image.fromarray(make_image(16, 16, "flat", seed=s)) for s in range(2)]
    data = encode_pil(frames[0], "GIF", save_all=True, append_images=frames[1:])
    decoded = decode(data, formats=("GIF",))
    assert decoded.info.n_frames == 2 and decoded.conversions[0] == "frame0_of_2"
    assert np.array_equal(decoded.rgb[0, 0], frames[0].getpixel((0, 0)))


def test_profile_without_usable_table_is_a_colour_error(cmyk_icc_without_table: bytes, encode_pil) -> None:
    cmyk = _cmyk_patches()
    data = encode_pil(
        Image.frombytes("CMYK", (cmyk.shape[1], cmyk.shape[0]), cmyk.tobytes()),
        "JPEG",
        icc_profile=cmyk_icc_without_table,
    )
    assert probe(data).icc_description == "CMYK without AToB0"
    decoded = decode(data)
    assert decoded.status == "error:colour" and "ICC" in decoded.message


def test_profile_of_the_wrong_colour_space_is_ignored(p3_icc: bytes, make_encoded, encode_pil) -> None:
    gray = Image.open(io.BytesIO(make_encoded("PNG", 16, 16, mode="L")))
    data = encode_pil(gray, "PNG", icc_profile=p3_icc)  # an RGB profile on gray pixels
    decoded = decode(data)
    assert decoded.ok and decoded.conversions == ("gray_to_rgb",)
    assert "ignored an ICC profile" in decoded.message
    assert np.array_equal(decoded.rgb[..., 0], np.asarray(gray))


def test_gray_with_gray_profile_goes_through_lcms(gray_icc: bytes, encode_pil) -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    data = encode_pil(Image.fromarray(ramp, "L"), "PNG", icc_profile=gray_icc)
    assert probe(data).icc_description == "Gray Gamma 1.8"
    decoded = decode(data)
    assert decoded.conversions == ("icc_to_srgb",) and not decoded.pixels_unchanged
    assert np.array_equal(decoded.rgb, _lcms_reference(data, gray_icc))
    # Independent: luminance (v/255)^1.8 re-encoded with the sRGB curve, all channels equal.
    expected = np.round(srgb_encode((np.arange(256) / 255.0) ** 1.8) * 255)
    assert np.abs(decoded.rgb[0].astype(np.float64) - expected[:, None]).max() <= 2
