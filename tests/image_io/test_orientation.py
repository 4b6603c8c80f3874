"""EXIF orientation 1-8: every decode path gives the display geometry of ``exif_transpose``."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from portraitsr4k.image_io import ALLOWED_FORMATS, decode, probe, reduction_for_max_side

ORIENTATIONS = range(1, 9)


def _reference(data: bytes, draft_factor: int = 1) -> np.ndarray:
    """Pillow's documented slow path: open (+ draft) -> exif_transpose -> RGB."""
    with Image.open(io.BytesIO(data)) as image:
        if draft_factor > 1:
            image.draft("RGB", (image.width // draft_factor, image.height // draft_factor))
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP"])
def test_probe_reports_display_size(with_orientation, orientation: int, fmt: str) -> None:
    info = probe(with_orientation(orientation, fmt=fmt))
    assert info.orientation == orientation and (info.stored_width, info.stored_height) == (96, 64)
    assert (info.width, info.height) == ((64, 96) if orientation >= 5 else (96, 64))


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_jpeg_full_decode_matches_exif_transpose(with_orientation, orientation: int) -> None:
    data = with_orientation(orientation)
    decoded = decode(data)
    reference = _reference(data)
    assert decoded.rgb.shape == reference.shape == (decoded.info.height, decoded.info.width, 3)
    assert np.array_equal(decoded.rgb, reference)
    assert ("exif_transpose" in decoded.conversions) == (orientation != 1)
    assert decoded.pixels_unchanged == (orientation == 1)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("factor", [2, 4, 8])
def test_jpeg_draft_decode_matches_reference(with_orientation, orientation: int, factor: int) -> None:
    data = with_orientation(orientation)
    decoded = decode(data, reduce=factor)
    full = decode(data)
    assert decoded.conversions[0] == f"draft_1/{factor}"
    # Exactly Pillow's correct order (draft before exif_transpose) ...
    assert np.array_equal(decoded.rgb, _reference(data, factor))
    # ... which is the full display image reduced, up to the DCT-vs-box filter difference.
    box = np.asarray(Image.fromarray(full.rgb).reduce(factor)).astype(np.int16)
    assert decoded.rgb.shape == box.shape
    assert np.abs(decoded.rgb.astype(np.int16) - box).mean() < 3.0
    assert decoded.scale_x == decoded.scale_y == factor


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_jpeg_max_side_path(with_orientation, orientation: int) -> None:
    data = with_orientation(orientation, height=128, width=192)
    decoded = decode(data, max_side=48)  # long side 192 -> 1/4 keeps 48
    assert decoded.conversions[0] == "draft_1/4"
    assert np.array_equal(decoded.rgb, _reference(data, 4))
    assert max(decoded.rgb.shape[:2]) == 48
    assert (decoded.info.width, decoded.info.height) == ((128, 192) if orientation >= 5 else (192, 128))


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("factor", [1, 2, 8])
@pytest.mark.parametrize("fmt, save_kw", [("PNG", {}), ("TIFF", {}), ("WEBP", {"lossless": True})])
def test_lossless_paths_match_reference(
    with_orientation, orientation: int, factor: int, fmt: str, save_kw: dict
) -> None:
    data = with_orientation(orientation, fmt=fmt, **save_kw)
    assert probe(data).orientation == orientation
    decoded = decode(data, reduce=factor)
    reference = Image.fromarray(_reference(data))
    if factor > 1:
        reference = reference.reduce(factor)
        assert decoded.conversions[0] == f"reduce_{factor}"
    assert np.array_equal(decoded.rgb, np.asarray(reference))  # sides divisible by 8: exact


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_scale_maps_draft_coordinates_to_full_resolution(with_orientation, orientation: int) -> None:
    data = with_orientation(orientation, height=120, width=200)  # sides not all divisible by 8
    decoded = decode(data, reduce=8)
    h, w = decoded.rgb.shape[:2]
    assert (h, w) == (-(-200 // 8), -(-120 // 8))  # display is portrait after the swap
    assert decoded.scale_x == pytest.approx(120 / w) and decoded.scale_y == pytest.approx(200 / h)
    # A point at the far corner of the reduced image maps inside the full display image.
    assert (w - 1) * decoded.scale_x < decoded.info.width and (h - 1) * decoded.scale_y < decoded.info.height


def test_invalid_orientation_values_read_as_1(make_image, encode_pil) -> None:
    for value in (0, 9, 300):
        exif = Image.Exif()
        exif[0x0112] = value
        data = encode_pil(Image.fromarray(make_image(16, 32)), "JPEG", exif=exif.tobytes())
        decoded = decode(data)
        assert decoded.info.orientation == 1 and decoded.rgb.shape == (16, 32, 3)


@pytest.mark.parametrize(
    "long_side, max_side, expected",
    [
        (4000, 1000, 4),
        (4000, 500, 8),
        (4000, 501, 4),
        (4000, 4000, 1),
        (4000, 4001, 1),
        (3840, 960, 4),
        (3840, 961, 2),
        (100, 13, 8),
        (100, 14, 4),
        (100, 1, 8),
    ],
)
def test_reduction_for_max_side(long_side: int, max_side: int, expected: int) -> None:
    assert reduction_for_max_side(long_side, max_side) == expected


def test_reduce_never_goes_below_one_pixel(make_encoded) -> None:
    decoded = decode(make_encoded("JPEG", 3, 40), reduce=8)
    assert decoded.ok and min(decoded.rgb.shape[:2]) >= 1
    decoded = decode(make_encoded("PNG", 3, 40), reduce=8)
    assert decoded.ok and decoded.rgb.shape[0] == 2  # 3 px allow a reduction of 2 at most


@pytest.mark.skipif("AVIF" not in ALLOWED_FORMATS, reason="this Pillow has no AVIF codec")
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_avif_orientation_matches_exif_transpose(with_orientation, orientation: int) -> None:
    """Pillow maps AVIF irot/imir to an EXIF orientation and decodes stored pixels."""
    data = with_orientation(orientation, fmt="AVIF", quality=90)
    decoded = decode(data)
    assert decoded.info.orientation == orientation
    assert np.array_equal(decoded.rgb, _reference(data))
