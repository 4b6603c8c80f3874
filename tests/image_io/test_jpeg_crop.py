"""Lossless JPEG crop: same DCT blocks as the source window, same interior pixels through an
independent decoder (Pillow's own libjpeg-turbo), markers, determinism, clean errors."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image, ImageCms

from portraitsr4k import image_io
from portraitsr4k.image_io import jpeg_crop
from portraitsr4k.image_io.jpeg_crop import (
    JpegCropAlignmentError,
    JpegCropDataError,
    JpegCropError,
    JpegCropUnavailableError,
    JpegCropUnsupportedError,
    jpeg_dct_coefficients,
    jpeg_header,
    jpeg_imcu_size,
    lossless_jpeg_crop,
    lossless_jpeg_crop_available,
)

H, W = 200, 264  # neither side a multiple of 16: partial iMCUs at the source's edges too

# name -> (Pillow mode, save options, expected iMCU)
VARIANTS = {
    "420": ("RGB", {"subsampling": "4:2:0", "quality": 90}, (16, 16)),
    "422": ("RGB", {"subsampling": "4:2:2", "quality": 90}, (16, 8)),
    "444": ("RGB", {"subsampling": "4:4:4", "quality": 90}, (8, 8)),
    "gray": ("L", {"quality": 90}, (8, 8)),
    "progressive_420": ("RGB", {"subsampling": "4:2:0", "quality": 85, "progressive": True}, (16, 16)),
    "restart_420": ("RGB", {"subsampling": "4:2:0", "quality": 95, "restart_marker_blocks": 3}, (16, 16)),
    "rgb_coded_444": ("RGB", {"subsampling": "4:4:4", "quality": 90, "keep_rgb": True}, (8, 8)),
}


def _jpeg(make_image, mode: str, height: int = H, width: int = W, seed: int = 3, **save) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(make_image(height, width, "photo", seed)).convert(mode)
    image.save(buffer, format="JPEG", **save)
    return buffer.getvalue()


def _pillow(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def _assert_same_blocks(source: bytes, crop: bytes, x0: int, y0: int) -> None:
    """Every component of ``crop`` holds exactly the source's blocks at the window's offset."""
    header = jpeg_header(source)
    max_h = max(h for h, _ in header.sampling)
    max_v = max(v for _, v in header.sampling)
    src, out = jpeg_dct_coefficients(source), jpeg_dct_coefficients(crop)
    assert len(src) == len(out)
    for a, b in zip(src, out, strict=True):
        assert a.sampling == b.sampling and a.component_id == b.component_id
        np.testing.assert_array_equal(a.quant, b.quant)
        bx, by = x0 * a.sampling[0] // (8 * max_h), y0 * a.sampling[1] // (8 * max_v)
        rows, cols = b.blocks.shape[:2]
        assert by + rows <= a.blocks.shape[0] and bx + cols <= a.blocks.shape[1]
        np.testing.assert_array_equal(b.blocks, a.blocks[by:by + rows, bx:bx + cols])


def test_extension_is_built_here() -> None:
    """CI has libjpeg's headers: the optional extension must have been built by the install."""
    assert lossless_jpeg_crop_available(), jpeg_crop._UNAVAILABLE_REASON


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_crop_keeps_every_block_and_the_interior_pixels(make_image, variant: str) -> None:
    mode, save, imcu = VARIANTS[variant]
    source = _jpeg(make_image, mode, **save)
    assert jpeg_imcu_size(source) == imcu
    x0, y0, width, height = 2 * imcu[0], 3 * imcu[1], 133, 75  # odd size: partial edge blocks
    crop = lossless_jpeg_crop(source, x0, y0, width, height)
    header = jpeg_header(crop)
    assert (header.width, header.height) == (width, height)
    assert header.sampling == jpeg_header(source).sampling and not header.progressive
    _assert_same_blocks(source, crop, x0, y0)
    # Independent route: Pillow's bundled libjpeg-turbo decodes both files.
    full, cropped = _pillow(source), _pillow(crop)
    assert cropped.shape == (height, width, 3)
    window = full[y0:y0 + height, x0:x0 + width]
    m = 1  # chroma upsampling changes only the outermost row/column at the new edges
    np.testing.assert_array_equal(cropped[m:-m, m:-m], window[m:-m, m:-m])
    if variant in ("444", "gray", "rgb_coded_444"):  # no chroma upsampling: even the edges match
        np.testing.assert_array_equal(cropped, window)


def test_crop_of_a_shipped_photo(sample_photo) -> None:
    source = sample_photo("grace_hopper").read_bytes()
    imcu = jpeg_imcu_size(source)
    x0, y0 = imcu[0] * 5, imcu[1] * 7
    crop = lossless_jpeg_crop(source, x0, y0, 300, 256)
    _assert_same_blocks(source, crop, x0, y0)
    window = _pillow(source)[y0:y0 + 256, x0:x0 + 300]
    np.testing.assert_array_equal(_pillow(crop)[1:-1, 1:-1], window[1:-1, 1:-1])


def test_window_reaching_the_source_edges_and_the_whole_image(make_image) -> None:
    source = _jpeg(make_image, "RGB", subsampling="4:2:0", quality=90)
    corner = lossless_jpeg_crop(source, W - W % 16 - 16, H - H % 16 - 16, W % 16 + 16, H % 16 + 16)
    _assert_same_blocks(source, corner, W - W % 16 - 16, H - H % 16 - 16)
    whole = lossless_jpeg_crop(source, 0, 0, W, H)
    _assert_same_blocks(source, whole, 0, 0)
    np.testing.assert_array_equal(_pillow(whole), _pillow(source))  # nothing cut: every pixel


def test_same_input_gives_identical_bytes_and_optimize_only_changes_the_size(make_image) -> None:
    source = _jpeg(make_image, "RGB", subsampling="4:2:0", quality=92)
    first = lossless_jpeg_crop(source, 16, 32, 200, 150)
    assert lossless_jpeg_crop(bytearray(source), 16, 32, 200, 150) == first
    assert lossless_jpeg_crop(memoryview(source), 16, 32, 200, 150) == first
    plain = lossless_jpeg_crop(source, 16, 32, 200, 150, optimize=False)
    assert len(first) < len(plain)
    _assert_same_blocks(source, plain, 16, 32)
    np.testing.assert_array_equal(_pillow(first), _pillow(plain))


def test_icc_and_exif_are_kept_other_markers_dropped(make_image) -> None:
    # A profile larger than one APP2 segment (65519 bytes): three chunks must stay in order.
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    icc = icc + bytes(range(256)) * 600
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0112] = 1  # orientation
    mpf = b"MPF\x00" + bytes(40)  # APP2 that is not ICC: its offsets would point nowhere after a crop
    extra = b"\xff\xe2" + (len(mpf) + 2).to_bytes(2, "big") + mpf
    source = _jpeg(make_image, "RGB", subsampling="4:2:0", quality=90, icc_profile=icc, exif=exif.tobytes(),
                   comment=b"a comment", xmp=b"<x:xmpmeta/>", extra=extra)
    crop = lossless_jpeg_crop(source, 16, 16, 128, 96)
    with Image.open(io.BytesIO(crop)) as image:
        assert image.info["icc_profile"] == icc
        assert image.getexif()[0x010F] == "TestCam"
        assert "comment" not in image.info and "xmp" not in image.info
        assert "jfif" in image.info  # the source had a JFIF APP0, so the crop has one
    assert b"MPF\x00" not in crop and b"a comment" not in crop
    bare = lossless_jpeg_crop(source, 16, 16, 128, 96, keep_icc=False, keep_exif=False)
    with Image.open(io.BytesIO(bare)) as image:
        assert "icc_profile" not in image.info and "exif" not in image.info
    np.testing.assert_array_equal(_pillow(bare), _pillow(crop))


def test_a_source_without_jfif_keeps_exif_right_after_soi(make_image) -> None:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    with_jfif = _jpeg(make_image, "RGB", subsampling="4:2:0", quality=90, exif=exif.tobytes())
    assert with_jfif[2:4] == b"\xff\xe0"  # Pillow writes JFIF APP0 first: cut it, as camera files lack it
    source = with_jfif[:2] + with_jfif[4 + int.from_bytes(with_jfif[4:6], "big"):]
    assert not jpeg_header(source).jfif
    crop = lossless_jpeg_crop(source, 16, 16, 128, 96)
    assert crop[2:4] == b"\xff\xe1" and crop[6:12] == b"Exif\x00\x00"
    assert not jpeg_header(crop).jfif
    _assert_same_blocks(source, crop, 16, 16)
    with Image.open(io.BytesIO(crop)) as image:
        assert image.getexif()[0x010F] == "TestCam"


def test_misaligned_offsets_and_bad_windows_raise_clean_errors(make_image) -> None:
    source = _jpeg(make_image, "RGB", subsampling="4:2:0", quality=90)
    for x0, y0 in ((8, 0), (0, 8), (17, 16)):
        with pytest.raises(JpegCropAlignmentError, match="16x16 iMCU"):
            lossless_jpeg_crop(source, x0, y0, 32, 32)
    for args in ((0, 0, W + 1, 16), (0, 0, 16, H + 1), (256, 0, 16, 16)):
        with pytest.raises(ValueError, match="not inside") as info:
            lossless_jpeg_crop(source, *args)
        assert not isinstance(info.value, JpegCropError)  # a caller bug, not a property of the file
    with pytest.raises(ValueError, match="width must be >= 1"):
        lossless_jpeg_crop(source, 0, 0, 0, 16)
    with pytest.raises(ValueError, match="x0 must be >= 0"):
        lossless_jpeg_crop(source, -16, 0, 16, 16)
    with pytest.raises(TypeError, match="x0 must be an int"):
        lossless_jpeg_crop(source, 0.0, 0, 16, 16)
    with pytest.raises(TypeError, match="x0 must be an int"):
        lossless_jpeg_crop(source, True, 0, 16, 16)
    with pytest.raises(TypeError, match="data must be bytes"):
        lossless_jpeg_crop("not bytes", 0, 0, 16, 16)
    with pytest.raises(TypeError, match="optimize must be a bool"):
        lossless_jpeg_crop(source, 0, 0, 16, 16, optimize=1)
    with pytest.raises(JpegCropDataError, match="max_pixels"):
        lossless_jpeg_crop(source, 0, 0, 16, 16, max_pixels=W * H - 1)


def test_bad_data_raises_typed_errors(make_image, make_encoded) -> None:
    source = _jpeg(make_image, "RGB", subsampling="4:2:0", quality=90)
    with pytest.raises(JpegCropDataError, match="empty"):
        lossless_jpeg_crop(b"", 0, 0, 16, 16)
    with pytest.raises(JpegCropDataError, match="Not a JPEG"):
        lossless_jpeg_crop(make_encoded("PNG", 32, 32), 0, 0, 16, 16)
    for cut in (len(source) // 2, len(source) - 2):
        with pytest.raises(JpegCropDataError, match="Premature end"):
            lossless_jpeg_crop(source[:cut], 0, 0, 16, 16)
    with pytest.raises(JpegCropDataError):
        lossless_jpeg_crop(source[:300], 0, 0, 16, 16)  # ends inside the header
    sof = source.index(b"\xff\xc0")
    twelve_bit = source[:sof + 4] + bytes([12]) + source[sof + 5:]  # SOF precision byte
    with pytest.raises(JpegCropUnsupportedError, match="precision 12"):
        lossless_jpeg_crop(twelve_bit, 0, 0, 16, 16)
    lossless = source[:sof + 1] + b"\xc3" + source[sof + 2:]  # SOF3: lossless process
    with pytest.raises(JpegCropUnsupportedError, match="SOF type 0xc3"):
        lossless_jpeg_crop(lossless, 0, 0, 16, 16)
    cmyk = _jpeg(make_image, "CMYK", quality=90)
    with pytest.raises(JpegCropUnsupportedError, match="cmyk"):
        lossless_jpeg_crop(cmyk, 0, 0, 16, 16)
    # Every typed error is a ValueError, so callers can treat "cannot crop" as bad input.
    assert issubclass(JpegCropError, ValueError) and issubclass(JpegCropUnavailableError, ImportError)


def test_bomb_headers_and_wrapping_offsets_are_refused_before_any_allocation(make_image) -> None:
    source = _jpeg(make_image, "RGB", 64, 64, subsampling="4:4:4", quality=90)
    sof = source.index(b"\xff\xc0")
    bomb = source[:sof + 5] + (60000).to_bytes(2, "big") * 2 + source[sof + 9:]  # claims 3.6 G pixels
    with pytest.raises(JpegCropDataError, match="max_pixels"):
        lossless_jpeg_crop(bomb, 0, 0, 16, 16)
    with pytest.raises(JpegCropDataError, match="max_pixels"):
        jpeg_dct_coefficients(bomb)
    # Past the Python limit, libjpeg's own memory cap refuses the 21 GB coefficient arrays.
    with pytest.raises(JpegCropUnsupportedError, match="memory cap"):
        lossless_jpeg_crop(bomb, 0, 0, 16, 16, max_pixels=10**10)
    # The extension checks windows itself, without overflow, even if a caller skips the wrapper.
    ext = jpeg_crop._jpegcrop
    with pytest.raises(ext.Error, match="not inside"):
        ext.crop(source, 2**64 - 16, 0, 32, 16, True, True, True)


def test_mangled_files_never_crash_the_interpreter(make_image, tmp_path) -> None:
    """Hundreds of truncations and byte flips in a child process: each one returns bytes or
    raises JpegCropError; the child must exit normally (no abort, no segfault)."""
    variants = (("base", {"subsampling": "4:2:0"}), ("prog", {"subsampling": "4:2:2", "progressive": True}))
    for name, save in variants:
        (tmp_path / f"{name}.jpg").write_bytes(_jpeg(make_image, "RGB", 96, 128, quality=90, **save))
    script = textwrap.dedent(f"""
        import pathlib, random
        from portraitsr4k.image_io.jpeg_crop import JpegCropError, lossless_jpeg_crop, jpeg_dct_coefficients
        rng = random.Random(0)
        counts = {{"ok": 0, "error": 0}}
        for path in sorted(pathlib.Path({str(tmp_path)!r}).glob("*.jpg")):
            data = path.read_bytes()
            cases = [data[:n] for n in range(0, len(data), max(1, len(data) // 60))]
            for _ in range(150):
                mangled = bytearray(data)
                for _ in range(rng.randint(1, 6)):
                    mangled[rng.randrange(len(mangled))] = rng.randrange(256)
                cases.append(bytes(mangled))
            for case in cases:
                for call in (lambda: lossless_jpeg_crop(case, 16, 16, 64, 48),
                             lambda: jpeg_dct_coefficients(case)):
                    try:
                        call()
                        counts["ok"] += 1
                    except (JpegCropError, ValueError):
                        counts["error"] += 1
        print(counts["ok"], counts["error"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    ok, errors = map(int, done.stdout.split())
    assert errors > 100 and ok > 0 and ok + errors > 800
    assert done.stderr == ""  # libjpeg never printed a warning of its own


def test_unavailable_extension_is_reported_not_crashed(monkeypatch, caplog, make_image) -> None:
    monkeypatch.setattr(jpeg_crop, "_jpegcrop", None)
    monkeypatch.setattr(jpeg_crop, "_UNAVAILABLE_REASON", "ModuleNotFoundError: No module named '_jpegcrop'")
    monkeypatch.setattr(jpeg_crop, "_logged_unavailable", False)
    with caplog.at_level(logging.WARNING, logger=jpeg_crop.__name__):
        assert not image_io.lossless_jpeg_crop_available()
        assert not image_io.lossless_jpeg_crop_available()
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1 and "apt install libjpeg-dev" in warnings[0].getMessage()
    with pytest.raises(JpegCropUnavailableError, match="_jpegcrop"):
        image_io.lossless_jpeg_crop(_jpeg(make_image, "RGB", 32, 32), 0, 0, 16, 16)
    with pytest.raises(JpegCropUnavailableError):
        image_io.jpeg_imcu_size(b"\xff\xd8")


def test_timing_script_runs_on_a_small_photo(capsys) -> None:
    from portraitsr4k.image_io.jpeg_crop_timing import main, run

    header, rows = run(240, 320, 128, 96, repeats=1)
    assert "-> 96x128 window at (112, 48)" in header  # centred, snapped to the 16x16 iMCU
    sizes = {label: size for label, _, _, size in rows}
    assert 0 < sizes["lossless_jpeg_crop, optimised Huffman"] <= sizes["lossless_jpeg_crop, plain Huffman"]
    assert sizes["lossless_jpeg_crop, plain Huffman"] < sizes["encode_png level 1 of the window"]
    main(["--height", "64", "--width", "96", "--crop-height", "32", "--crop-width", "48", "--repeats", "1"])
    assert "encode_png level 1 of the window" in capsys.readouterr().out
    with pytest.raises(ValueError, match="does not fit"):
        run(64, 96, 128, 48, repeats=1)
