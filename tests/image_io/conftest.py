"""Fixtures for the image_io tests: ICC profiles built byte by byte, encoders for odd files.

No ICC profile other than LittleCMS' built-in sRGB/Lab/XYZ can be made with ``ImageCms``
(``createProfile`` knows only those) and none ships in the installed packages, so the
Display-P3 (matrix/TRC, ICC v4) and CMYK (lut16 AToB0, ICC v2) profiles are written here from
the ICC specification (ICC.1:2010 sections 7 and 10). The colour maths used to fill them is
independent of LittleCMS, which lets the tests check lcms' output against it.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

# --- colour maths (IEC 61966-2-1, SMPTE EG 432-1, Bradford CAT) --------------------------------

D65_XY = (0.3127, 0.3290)
D50_XYZ = np.array([0.9642, 1.0, 0.8249])
SRGB_PRIMARIES = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))
P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def xy_to_xyz(x: float, y: float) -> np.ndarray:
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz_matrix(
    primaries: tuple[tuple[float, float], ...], white_xy: tuple[float, float]
) -> np.ndarray:
    """Linear RGB -> XYZ (white Y = 1) for the given primaries and white point."""
    columns = np.stack([xy_to_xyz(*p) for p in primaries], axis=1)
    scale = np.linalg.solve(columns, xy_to_xyz(*white_xy))
    return columns * scale


def bradford(src_white: np.ndarray, dst_white: np.ndarray) -> np.ndarray:
    cone_src, cone_dst = _BRADFORD @ src_white, _BRADFORD @ dst_white
    return np.linalg.inv(_BRADFORD) @ np.diag(cone_dst / cone_src) @ _BRADFORD


def srgb_decode(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def srgb_encode(v: np.ndarray) -> np.ndarray:
    v = np.clip(np.asarray(v, dtype=np.float64), 0, 1)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def p3_to_srgb_reference(rgb8: np.ndarray) -> np.ndarray:
    """Display-P3 8-bit -> sRGB 8-bit by the textbook matrices (colorimetric, clipped)."""
    d65 = xy_to_xyz(*D65_XY)
    p3 = rgb_to_xyz_matrix(P3_PRIMARIES, D65_XY)
    srgb = rgb_to_xyz_matrix(SRGB_PRIMARIES, D65_XY)
    assert np.allclose(p3 @ np.ones(3), d65)
    linear = srgb_decode(rgb8 / 255.0) @ (np.linalg.inv(srgb) @ p3).T
    return np.round(srgb_encode(linear) * 255).astype(np.int16)


def srgb8_to_lab_d50(rgb8: np.ndarray) -> np.ndarray:
    xyz_d65 = srgb_decode(rgb8 / 255.0) @ rgb_to_xyz_matrix(SRGB_PRIMARIES, D65_XY).T
    xyz = xyz_d65 @ bradford(xy_to_xyz(*D65_XY), D50_XYZ).T
    t = xyz / D50_XYZ
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def cmyk_model_rgb8(cmyk: np.ndarray) -> np.ndarray:
    """The test CMYK profile's colours: deliberately unlike Pillow's naive (1-C)(1-K) formula
    (inks darken with exponent 1.6, black with 1.3), so ignoring the profile is detectable."""
    c = np.asarray(cmyk, dtype=np.float64) / 255.0
    rgb = (1 - c[..., :3]) ** 1.6 * (1 - c[..., 3:4]) ** 1.3
    return np.round(rgb * 255)


# --- ICC byte builders -------------------------------------------------------------------------


def _s15(values: np.ndarray | list[float]) -> bytes:
    return b"".join(struct.pack(">i", int(np.round(v * 65536))) for v in np.ravel(values))


def _pad4(b: bytes) -> bytes:
    return b + b"\x00" * (-len(b) % 4)


def _xyz_tag(xyz: np.ndarray) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + _s15(xyz)


def _mluc(text: str) -> bytes:
    body = text.encode("utf-16-be")
    return (
        b"mluc\x00\x00\x00\x00"
        + struct.pack(">II", 1, 12)
        + b"enUS"
        + struct.pack(">II", len(body), 28)
        + body
    )


def _desc_v2(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\x00"
    return (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + struct.pack(">II", 0, 0)
        + struct.pack(">HB", 0, 0)
        + b"\x00" * 67
    )


def _assemble(
    *, version: int, device_class: bytes, space: bytes, pcs: bytes, tags: list[tuple[bytes, bytes]]
) -> bytes:
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table = struct.pack(">I", len(tags))
    blobs = b""
    for signature, data in tags:
        data = _pad4(data)
        table += signature + struct.pack(">II", offset + len(blobs), len(data))
        blobs += data
    size = 128 + table_size + len(blobs)
    header = (
        struct.pack(">I", size)
        + b"test"
        + struct.pack(">I", version)
        + device_class
        + space
        + pcs
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\x00" * 4
        + b"\x00" * 4
        + b"\x00" * 8
        + b"\x00" * 8
        + struct.pack(">I", 0)
        + _s15(D50_XYZ)
        + b"test"
        + b"\x00" * 16
        + b"\x00" * 28
    )
    assert len(header) == 128
    return header + table + blobs


def build_display_p3_icc(description: str = "Display P3") -> bytes:
    """ICC v4 matrix/TRC profile for Display P3 (P3 primaries, D65, sRGB transfer curve)."""
    d65 = xy_to_xyz(*D65_XY)
    chad = bradford(d65, D50_XYZ)
    colorants = chad @ rgb_to_xyz_matrix(P3_PRIMARIES, D65_XY)  # D50-adapted, columns R, G, B
    # parametricCurveType function 3: the sRGB curve (g, a, b, c, d).
    para = (
        b"para\x00\x00\x00\x00"
        + struct.pack(">HH", 3, 0)
        + _s15([2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045])
    )
    return _assemble(
        version=0x04300000,
        device_class=b"mntr",
        space=b"RGB ",
        pcs=b"XYZ ",
        tags=[
            (b"desc", _mluc(description)),
            (b"cprt", _mluc("No copyright, test profile")),
            (b"wtpt", _xyz_tag(D50_XYZ)),
            (b"chad", b"sf32\x00\x00\x00\x00" + _s15(chad)),
            (b"rXYZ", _xyz_tag(colorants[:, 0])),
            (b"gXYZ", _xyz_tag(colorants[:, 1])),
            (b"bXYZ", _xyz_tag(colorants[:, 2])),
            (b"rTRC", para),
            (b"gTRC", para),
            (b"bTRC", para),
        ],
    )


def build_cmyk_icc(description: str = "Test CMYK press", grid: int = 5, with_lut: bool = True) -> bytes:
    """ICC v2 output-class CMYK profile with a lut16 AToB0 table (CMYK -> Lab D50).

    The grid holds :func:`cmyk_model_rgb8` colours converted to Lab; between grid points lcms
    interpolates. ``with_lut=False`` leaves the AToB0 table out: the profile still parses but no
    transform can be built from it.
    """
    levels = np.linspace(0, 255, grid)
    cmyk = np.stack(np.meshgrid(levels, levels, levels, levels, indexing="ij"), -1).reshape(-1, 4)
    lab = srgb8_to_lab_d50(cmyk_model_rgb8(cmyk))
    # ICC v2 16-bit Lab encoding: L 0..100 -> 0..0xFF00, a/b -128..127.996 -> 0..0xFFFF.
    encoded = np.stack([lab[:, 0] * 0xFF00 / 100, (lab[:, 1] + 128) * 256, (lab[:, 2] + 128) * 256], -1)
    clut = np.clip(np.round(encoded), 0, 65535).astype(">u2").tobytes()
    identity_curve = struct.pack(">HH", 0, 65535)
    lut = (
        b"mft2\x00\x00\x00\x00"
        + struct.pack(">BBBB", 4, 3, grid, 0)
        + _s15(np.eye(3))
        + struct.pack(">HH", 2, 2)
        + identity_curve * 4
        + clut
        + identity_curve * 3
    )
    return _assemble(
        version=0x02100000,
        device_class=b"prtr",
        space=b"CMYK",
        pcs=b"Lab ",
        tags=[
            (b"desc", _desc_v2(description)),
            (b"cprt", b"text\x00\x00\x00\x00No copyright\x00"),
            (b"wtpt", _xyz_tag(D50_XYZ)),
            *([(b"A2B0", lut)] if with_lut else []),
        ],
    )


def build_gray_icc(gamma: float = 1.8, description: str = "Gray Gamma 1.8") -> bytes:
    """ICC v2 gray display profile: a pure power-law ``kTRC`` (stored as u8Fixed8)."""
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256))
    return _assemble(
        version=0x02100000,
        device_class=b"mntr",
        space=b"GRAY",
        pcs=b"XYZ ",
        tags=[(b"desc", _desc_v2(description)), (b"wtpt", _xyz_tag(D50_XYZ)), (b"kTRC", curve)],
    )


@pytest.fixture(scope="session")
def p3_icc() -> bytes:
    return build_display_p3_icc()


@pytest.fixture(scope="session")
def gray_icc() -> bytes:
    return build_gray_icc()


@pytest.fixture(scope="session")
def cmyk_icc() -> bytes:
    return build_cmyk_icc()


@pytest.fixture(scope="session")
def cmyk_icc_without_table() -> bytes:
    return build_cmyk_icc(description="CMYK without AToB0", with_lut=False)


@pytest.fixture
def encode_pil() -> Callable[..., bytes]:
    """``encode_pil(image, fmt, **save_kw) -> bytes`` for a PIL image."""

    def factory(image: Image.Image, fmt: str, **save_kw: object) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **save_kw)
        return buffer.getvalue()

    return factory


@pytest.fixture
def with_orientation(
    make_image: Callable[..., np.ndarray], encode_pil: Callable[..., bytes]
) -> Callable[..., bytes]:
    """``with_orientation(orientation, fmt="JPEG", height=64, width=96)``: an image tagged with
    EXIF Orientation (sides divisible by 8, asymmetric content)."""

    def factory(
        orientation: int, fmt: str = "JPEG", height: int = 64, width: int = 96, **save_kw: object
    ) -> bytes:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image = Image.fromarray(make_image(height, width, "photo", seed=orientation))
        if fmt == "JPEG":
            save_kw.setdefault("quality", 95)
        return encode_pil(image, fmt, exif=exif.tobytes(), **save_kw)

    return factory


@pytest.fixture(scope="session")
def p3_to_srgb() -> Callable[[np.ndarray], np.ndarray]:
    """Textbook Display-P3 -> sRGB conversion (see :func:`p3_to_srgb_reference`)."""
    return p3_to_srgb_reference


@pytest.fixture(scope="session")
def cmyk_model() -> Callable[[np.ndarray], np.ndarray]:
    """The test CMYK profile's colour model (see :func:`cmyk_model_rgb8`)."""
    return cmyk_model_rgb8
