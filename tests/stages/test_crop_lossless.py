"""Crop stage HR bytes: lossless JPEG crops where the window allows it, PNG otherwise, and an LQ
that always replays from the pixels the stored HR bytes decode to."""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageCms

from portraitsr4k import image_io
from portraitsr4k.image_io import jpeg_crop
from portraitsr4k.image_io.jpeg_crop import jpeg_dct_coefficients
from portraitsr4k.sample_photos import locate
from portraitsr4k.stages.crop import CropSettings, HrImage, Window, decoded_hr, jpeg_crop_hr
from portraitsr4k.stages.degrade import to_tensor, to_uint8
from portraitsr4k.stages.materialize import Materializer, MaterializeTask


def _jpeg(rgb: np.ndarray, **save) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92, **save)
    return buffer.getvalue()


def _replay(hr_bytes: bytes, record: str) -> np.ndarray:
    import degradations

    return to_uint8(degradations.replay(to_tensor(image_io.decode(hr_bytes).rgb), json.loads(record)))


@pytest.fixture(scope="module")
def wide_photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4000x3000 q92 4:2:0 JPEG: textured background (passes the quality stage) with the
    shipped Grace Hopper portrait pasted at 2x right of centre, so the 3840x2160 window must
    move off (0, 0) to keep the face whole."""
    rng = np.random.default_rng(5)
    coarse = Image.fromarray((rng.random((47, 63, 3)) * 200 + 30).astype(np.uint8))
    fine = Image.fromarray((rng.random((600, 800, 3)) * 255).astype(np.uint8))
    coarse, fine = (field.resize((4000, 3000), Image.BICUBIC) for field in (coarse, fine))
    background = 0.6 * np.asarray(coarse, np.float32) + 0.4 * np.asarray(fine, np.float32)
    background += rng.normal(0.0, 6.0, background.shape).astype(np.float32)
    photo = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    with Image.open(locate("grace_hopper")) as face:
        photo.paste(face.convert("RGB").resize((1024, 1200), Image.LANCZOS), (2700, 1500))
    folder = tmp_path_factory.mktemp("wide")
    (folder / "wide.jpg").write_bytes(_jpeg(np.asarray(photo), subsampling="4:2:0"))
    return folder


def _window_offset(hr: np.ndarray, full: np.ndarray, imcu: int = 16) -> tuple[int, int]:
    """The (x0, y0) on the iMCU grid where an interior patch of ``hr`` sits in ``full``."""
    probe = hr[64:96, 64:96]
    hits = [(x0, y0) for y0 in range(0, full.shape[0] - hr.shape[0] + 1, imcu)
            for x0 in range(0, full.shape[1] - hr.shape[1] + 1, imcu)
            if np.array_equal(full[y0 + 64:y0 + 96, x0 + 64:x0 + 96], probe)]
    assert len(hits) == 1, hits
    return hits[0]


def test_builder_stores_a_lossless_jpeg_crop_whose_record_replays(wide_photo_dir: Path,
                                                                  tmp_path: Path) -> None:
    from hydra import compose, initialize_config_module

    from portraitsr4k.build.from_config import builder_from_config
    from portraitsr4k.dataset.verify import verify_dataset

    out = tmp_path / "out"
    with initialize_config_module(config_module="portraitsr4k.conf", version_base="1.3"):
        cfg = compose("build", overrides=["source=folder", f"source.path={wide_photo_dir}", f"out_dir={out}",
                                          "stage.crop.enabled=true", "degradation=bicubic", "workers=0"])
    builder_from_config(cfg).run()
    rows = [r for f in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    assert len(rows) == 1
    row = rows[0]
    assert row["hr_format"] == "jpeg_crop" and row["hr"]["path"].endswith(".jpg")
    assert (row["hr_width"], row["hr_height"]) == (3840, 2160)
    hr = image_io.decode(row["hr"]["bytes"]).rgb
    lq = image_io.decode(row["lq"]["bytes"]).rgb
    assert hr.shape == (2160, 3840, 3) and lq.shape == (540, 960, 3)  # LQ exactly HR / 4
    # Replaying the stored record on the decoded stored HR gives the stored LQ, byte for byte.
    replayed = _replay(row["hr"]["bytes"], row["degradation"])
    np.testing.assert_array_equal(replayed, lq)
    assert image_io.encode_png(replayed, compress_level=CropSettings().png_level) == row["lq"]["bytes"]

    source = (wide_photo_dir / "wide.jpg").read_bytes()
    full = image_io.decode(source).rgb
    x0, y0 = _window_offset(hr, full)
    assert (x0, y0) != (0, 0) and x0 + 3840 <= 4000 and y0 + 2160 <= 3000
    face = row["faces"][0]["bbox"]
    assert 0 <= face[0] < face[2] <= 3840 and 0 <= face[1] < face[3] <= 2160  # face whole, HR frame
    # Same DCT blocks as the source window, every component.
    src_blocks, hr_blocks = jpeg_dct_coefficients(source), jpeg_dct_coefficients(row["hr"]["bytes"])
    offsets = [(x0 // 8, y0 // 8), (x0 // 16, y0 // 16), (x0 // 16, y0 // 16)]  # Y 2x2, Cb/Cr 1x1 sampling
    for a, b, (bx, by) in zip(src_blocks, hr_blocks, offsets, strict=True):
        rows, cols = b.blocks.shape[:2]
        np.testing.assert_array_equal(b.quant, a.quant)
        np.testing.assert_array_equal(b.blocks, a.blocks[by:by + rows, bx:bx + cols])
    # Interior pixels equal the full decode; at the new edges chroma upsampling differs, which
    # is why the LQ must come from the HR's own decode and not from the crop of the full one.
    window = full[y0:y0 + 2160, x0:x0 + 3840]
    np.testing.assert_array_equal(hr[1:-1, 1:-1], window[1:-1, 1:-1])
    assert not np.array_equal(hr, window)
    assert not np.array_equal(_replay(image_io.encode_png(window), row["degradation"]), lq)

    report = verify_dataset(out, progress=False)
    assert report.ok, [str(p) for p in report.problems]


# --- the HR routes on small photos ---------------------------------------------------------------

SMALL = CropSettings(enabled=True, width=256, height=192)


def _decoded(data: bytes):
    decoded = image_io.decode(data)
    assert decoded.ok
    return decoded


def _check(hr: HrImage, window: Window) -> None:
    """The HR pixels are exactly what its bytes decode to, at the window's size."""
    assert hr.rgb.shape == (window.height, window.width, 3)
    np.testing.assert_array_equal(image_io.decode(hr.data).rgb, hr.rgb)


def _png_route(data: bytes, window: Window, settings: CropSettings = SMALL) -> HrImage:
    """What the materializer does: the JPEG route first, else a full decode (source or PNG)."""
    hr, note = jpeg_crop_hr(data, image_io.probe(data), window, settings)
    assert hr is None and note
    hr = decoded_hr(data, _decoded(data), window, settings, note=note)
    _check(hr, window)
    return hr


def _swapped_primaries_icc() -> bytes:
    """The sRGB profile with its red and blue colorants swapped: a valid RGB profile that is
    not sRGB, so decoding converts (``icc_to_srgb``)."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = int.from_bytes(icc[128:132], "big")
    entries = {bytes(icc[132 + 12 * i:136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, blue = entries[b"rXYZ"], entries[b"bXYZ"]
    icc[red + 4:red + 12], icc[blue + 4:blue + 12] = icc[blue + 4:blue + 12], icc[red + 4:red + 12]
    return bytes(icc)


@pytest.mark.parametrize("subsampling,offset", [("4:2:0", (32, 48)), ("4:2:2", (16, 8)), ("4:4:4", (8, 8))])
def test_jpeg_windows_on_the_imcu_grid_are_cropped_losslessly(make_image, subsampling, offset) -> None:
    data = _jpeg(make_image(384, 512, "photo", 1), subsampling=subsampling)
    window = Window(offset[0], offset[1], offset[0] + 256, offset[1] + 192, "test")
    hr, note = jpeg_crop_hr(data, image_io.probe(data), window, SMALL)
    assert hr is not None and hr.format == "jpeg_crop" and note == "" and hr.note == ""
    assert hr.data.startswith(b"\xff\xd8") and len(hr.data) < len(data)
    _check(hr, window)


def test_gray_jpeg_is_cropped_losslessly(make_image) -> None:
    buffer = io.BytesIO()
    Image.fromarray(make_image(384, 512, "photo", 6)).convert("L").save(buffer, format="JPEG", quality=90)
    window = Window(8, 24, 264, 216, "test")  # one component: 8x8 grid
    hr, _ = jpeg_crop_hr(buffer.getvalue(), image_io.probe(buffer.getvalue()), window, SMALL)
    assert hr is not None and hr.format == "jpeg_crop"
    _check(hr, window)


def test_png_fallbacks_say_why(make_image, make_encoded, monkeypatch) -> None:
    rgb = make_image(384, 512, "photo", 2)
    data = _jpeg(rgb, subsampling="4:2:0")
    off_grid = Window(8, 16, 264, 208, "test")  # x0 = 8: not on the 16x16 iMCU grid
    hr = _png_route(data, off_grid)
    assert hr.format == "png" and "16x16 iMCU" in hr.note
    np.testing.assert_array_equal(hr.rgb, _decoded(data).rgb[16:208, 8:264])  # PNG: the full decode's window

    window = Window(16, 16, 272, 208, "test")
    off = CropSettings(enabled=True, lossless_jpeg=False)
    assert "lossless_jpeg is off" in _png_route(data, window, off).note
    png = make_encoded("PNG", 384, 512)
    assert "PNG source" in _png_route(png, window).note

    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: decoding transposes the pixels
    rotated = _jpeg(rgb, subsampling="4:2:0", exif=exif.tobytes())
    assert "orientation 6" in _png_route(rotated, Window(16, 16, 208, 272, "test")).note  # display: 384 wide

    # Only the crop is decoded, and its decode converts colours: the crop is thrown away.
    converted = _jpeg(rgb, subsampling="4:2:0", icc_profile=_swapped_primaries_icc())
    hr = _png_route(converted, window)
    assert hr.format == "png" and "icc_to_srgb" in hr.note

    def refuse(*args, **kwargs):
        raise image_io.JpegCropDataError("libjpeg warning (refused): Corrupt JPEG data")

    monkeypatch.setattr(image_io, "lossless_jpeg_crop", refuse)
    assert "refused: libjpeg warning" in _png_route(data, window).note


def test_whole_photo_keeps_the_source_bytes(make_image) -> None:
    data = _jpeg(make_image(192, 256, "photo", 3), subsampling="4:2:0")
    window = Window(0, 0, 256, 192, "test")
    assert jpeg_crop_hr(data, image_io.probe(data), window, SMALL) == (None, "")  # no crop at all
    hr = decoded_hr(data, _decoded(data), window, SMALL)
    assert hr.format == "source" and hr.data == data and hr.note == ""


def test_decoded_hr_rejects_windows_outside_the_photo(make_image) -> None:
    data = _jpeg(make_image(192, 256, "photo", 3))
    with pytest.raises(ValueError, match="not inside the 256x192 image"):
        decoded_hr(data, _decoded(data), Window(16, 16, 272, 208, "test"), SMALL)


# --- Materializer: jpeg_crop rows, PNG when the extension is missing -----------------------------

@dataclass
class _Fetched:
    status: str
    message: str
    data: bytes | None


class _BytesSource:
    """One in-memory photo per item key."""

    def __init__(self, photos: dict[str, bytes]) -> None:
        self.photos = photos

    def fetch(self, item: str) -> _Fetched:
        return _Fetched("ok", "", self.photos[item])


def _materialize(data: bytes, crop: CropSettings):
    import degradations

    source = _BytesSource({"p": data})
    factory = functools.partial(degradations.build, "realesrgan", scale=4)
    materializer = Materializer(source=source, crop=crop, scale=4, build_seed=7, degradation_factory=factory)
    face = {"bbox": [300.0, 200.0, 380.0, 290.0], "landmarks": [[320.0, 230.0]] * 5, "score": 0.99,
            "interocular": 30.0}
    digest = hashlib.sha256(data).hexdigest()
    task = MaterializeTask(item="p", id="sample-p", source_sha256=digest, faces=[face])
    out = materializer(task)
    assert out.status == "ok", out.message
    return out


def test_materializer_jpeg_crop_row_replays_and_falls_back_to_png_without_the_extension(
        make_image, monkeypatch) -> None:
    data = _jpeg(make_image(384, 512, "photo", 4), subsampling="4:2:0")
    out = _materialize(data, SMALL)
    assert out.hr_format == "jpeg_crop" and "HR jpeg_crop" in out.crop
    assert (out.hr_width, out.hr_height, out.lq_width, out.lq_height) == (256, 192, 64, 48)
    np.testing.assert_array_equal(_replay(out.hr, out.degradation), image_io.decode(out.lq).rgb)
    again = _materialize(data, SMALL)
    assert (again.hr, again.lq) == (out.hr, out.lq)  # deterministic bytes
    x0 = int(round(300.0 - out.faces[0]["bbox"][0]))
    y0 = int(round(200.0 - out.faces[0]["bbox"][1]))
    assert x0 % 16 == 0 and y0 % 16 == 0 and (x0, y0) != (0, 0)

    monkeypatch.setattr(jpeg_crop, "_jpegcrop", None)
    monkeypatch.setattr(jpeg_crop, "_logged_unavailable", False)
    fallback = _materialize(data, SMALL)
    assert fallback.hr_format == "png" and "extension not built" in fallback.crop
    assert fallback.faces == out.faces  # same window
    replayed = _replay(fallback.hr, fallback.degradation)
    np.testing.assert_array_equal(replayed, image_io.decode(fallback.lq).rgb)
    full = image_io.decode(data).rgb
    np.testing.assert_array_equal(image_io.decode(fallback.hr).rgb, full[y0:y0 + 192, x0:x0 + 256])
