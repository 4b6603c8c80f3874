"""Status codes and the result records of the image reader.

Every call of :func:`~portraitsr4k.image_io.probe` and :func:`~portraitsr4k.image_io.decode`
returns one of these frozen records; a bad file is a record with an ``error:<kind>`` status and a
human message, never an exception (only wrong *arguments*, i.e. caller bugs, raise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ERROR_BOMB",
    "ERROR_COLOUR",
    "ERROR_CORRUPT",
    "ERROR_EMPTY",
    "ERROR_IO",
    "ERROR_TRUNCATED",
    "ERROR_UNSUPPORTED_FORMAT",
    "LOSSLESS_CONVERSIONS",
    "OK",
    "STATUSES",
    "DecodedImage",
    "ImageInfo",
]

OK = "ok"
ERROR_EMPTY = "error:empty"  # zero bytes
ERROR_TRUNCATED = "error:truncated"  # the file ends before its image data does
ERROR_BOMB = "error:bomb"  # header claims more pixels than allowed, or decoding ran out of memory
ERROR_UNSUPPORTED_FORMAT = "error:unsupported_format"  # unknown or not allow-listed container/mode
ERROR_CORRUPT = "error:corrupt"  # bad data that is not a truncation
ERROR_IO = "error:io"  # the path could not be read
ERROR_COLOUR = "error:colour"  # the embedded ICC profile is unusable or the conversion failed

STATUSES: tuple[str, ...] = (
    OK,
    ERROR_EMPTY,
    ERROR_TRUNCATED,
    ERROR_BOMB,
    ERROR_UNSUPPORTED_FORMAT,
    ERROR_CORRUPT,
    ERROR_IO,
    ERROR_COLOUR,
)

# Conversions that do not change a single sample value (so the source bytes still decode to the
# same pixels with any decoder): expanding 8-bit gray to three equal channels.
LOSSLESS_CONVERSIONS: frozenset[str] = frozenset({"gray_to_rgb"})


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")


@dataclass(frozen=True)
class ImageInfo:
    """What the header of one image says (no pixel decode).

    Sizes are in pixels. ``width``/``height`` are the DISPLAY size, i.e. after the EXIF
    orientation is applied (orientations 5-8 swap the stored sides); ``stored_width`` /
    ``stored_height`` are the sides as stored in the file. On an error status the fields that
    could not be read are ``0`` (sizes, ``file_size`` only when unknown), ``None`` (``format``,
    ``mode``, ``icc_description``) or their neutral value (``orientation=1``).

    Attributes:
        status: ``"ok"`` or ``"error:<kind>"`` (see :data:`STATUSES`).
        message: human-readable reason for an error; for ``ok`` the warnings Pillow emitted
            while reading the header (``""`` when none).
        format: Pillow format name (``"JPEG"``, ``"PNG"``, ``"MPO"`` ...) or ``None``.
        orientation: EXIF orientation 1..8 (values outside 1..8 are read as 1, as Pillow's
            ``exif_transpose`` does).
        mode: Pillow mode of the stored pixels (``"RGB"``, ``"L"``, ``"CMYK"``, ``"I;16"`` ...).
        bits_per_sample: bits per stored sample (8, 16, 1 ...); 16-bit RGB PNGs say 16 even
            though Pillow opens them as 8-bit ``RGB``.
        icc: whether an ICC profile is embedded.
        icc_description: the profile's description tag (e.g. ``"Display P3"``), or ``None``.
        n_frames: number of frames/pages (1 for still images; MPO stereo/depth pairs say 2+).
        file_size: number of bytes of the source.
    """

    status: str
    message: str = ""
    format: str | None = None
    width: int = 0
    height: int = 0
    stored_width: int = 0
    stored_height: int = 0
    orientation: int = 1
    mode: str | None = None
    bits_per_sample: int = 0
    icc: bool = False
    icc_description: str | None = None
    n_frames: int = 0
    file_size: int = 0

    def __post_init__(self) -> None:
        _check_status(self.status)
        if not 1 <= self.orientation <= 8:
            raise ValueError(f"orientation must be in 1..8, got {self.orientation}")
        for name in (
            "width",
            "height",
            "stored_width",
            "stored_height",
            "n_frames",
            "file_size",
            "bits_per_sample",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        if self.status == OK and min(self.width, self.height) < 1:
            raise ValueError(f"an ok ImageInfo needs a positive size, got {self.width}x{self.height}")

    @property
    def ok(self) -> bool:
        """True when the header was read and passed every check."""
        return self.status == OK

    @property
    def pixels(self) -> int:
        """``width * height`` of the full-resolution image (0 when unknown)."""
        return self.width * self.height


@dataclass(frozen=True)
class DecodedImage:
    """One decoded image in sRGB, or the reason it could not be decoded.

    Attributes:
        status: ``"ok"`` or ``"error:<kind>"``.
        message: human-readable reason for an error; for ``ok`` the warnings Pillow emitted.
        rgb: ``(H, W, 3)`` uint8 C-contiguous array in sRGB, display orientation, values 0..255;
            ``None`` on error. ``H, W`` are the (possibly reduced) decoded size.
        info: the header record of the source (full-resolution display size etc.).
        scale_x: ``info.width / W`` (1.0 for a full decode, ~2/4/8 for reduced ones): multiply
            x coordinates found on ``rgb`` by it to get full-resolution display coordinates.
        scale_y: ``info.height / H``, likewise for y.
        conversions: what decoding did to the stored samples, in order, e.g.
            ``("draft_1/4", "icc_to_srgb", "exif_transpose")``. Tags: ``draft_1/N`` (JPEG DCT
            scaling), ``reduce_N`` (box reduction), ``frame0_of_N``, ``bilevel_to_gray``,
            ``16bit_to_8bit``, ``palette_to_rgb``, ``cmyk_to_rgb_generic`` (no profile),
            ``icc_to_srgb``, ``alpha_composite``, ``gray_to_rgb``, ``exif_transpose``.
        source_digest: SHA-256 hex digest of the source bytes when ``pixels_unchanged``
            (used by :func:`~portraitsr4k.image_io.source_bytes_if_unchanged` to make sure it is
            handed the same bytes), else ``None``.
    """

    status: str
    message: str = ""
    rgb: np.ndarray | None = field(default=None, repr=False)
    info: ImageInfo = field(default_factory=lambda: ImageInfo(status=ERROR_CORRUPT))
    scale_x: float = 1.0
    scale_y: float = 1.0
    conversions: tuple[str, ...] = ()
    source_digest: str | None = None

    def __post_init__(self) -> None:
        _check_status(self.status)
        if self.status == OK:
            rgb = self.rgb
            if (
                not isinstance(rgb, np.ndarray)
                or rgb.dtype != np.uint8
                or rgb.ndim != 3
                or rgb.shape[2] != 3
                or not rgb.flags.c_contiguous
            ):
                got = (
                    type(rgb).__name__
                    if not isinstance(rgb, np.ndarray)
                    else f"{rgb.dtype} array of shape {rgb.shape}"
                )
                raise ValueError(f"an ok DecodedImage needs a C-contiguous (H, W, 3) uint8 array, got {got}")
        elif self.rgb is not None:
            raise ValueError(f"a DecodedImage with status {self.status!r} must have rgb=None")
        if not isinstance(self.conversions, tuple):
            raise TypeError(f"conversions must be a tuple of str, got {type(self.conversions).__name__}")
        if self.scale_x <= 0 or self.scale_y <= 0:
            raise ValueError(f"scale_x and scale_y must be positive, got {self.scale_x}, {self.scale_y}")

    @property
    def ok(self) -> bool:
        """True when ``rgb`` holds the decoded image."""
        return self.status == OK

    @property
    def pixels_unchanged(self) -> bool:
        """True when decoding applied no pixel transform.

        That is: full resolution, EXIF orientation 1, no ICC conversion (an embedded profile
        equivalent to sRGB is left alone), 8-bit RGB or gray, no alpha, a single frame. Then the
        source bytes decode to exactly ``rgb`` and may be stored instead of a re-encode.
        """
        return self.ok and all(c in LOSSLESS_CONVERSIONS for c in self.conversions)
