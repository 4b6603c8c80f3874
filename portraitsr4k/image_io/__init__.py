"""Safe image I/O for untrusted photos: probe headers, decode to sRGB, encode.

Every stage of the dataset builder, the benchmark and HeadsUp training reads photos through
this package::

    from portraitsr4k.image_io import probe, decode, encode_png, source_bytes_if_unchanged

    info = probe(path_or_bytes)            # header only: format, display size, EXIF, ICC, frames
    if info.ok and min(info.width, info.height) >= 2160:
        img = decode(path_or_bytes, max_side=1000)   # JPEG draft, EXIF applied, sRGB uint8
        boxes_full_res = boxes * [img.scale_x, img.scale_y, img.scale_x, img.scale_y]

Cropped JPEG windows can keep their DCT blocks (no re-encode) with ``lossless_jpeg_crop``
when ``lossless_jpeg_crop_available()`` (an optional C extension, see :mod:`.jpeg_crop`).

Bad files are results with ``status`` ``error:<kind>`` and a ``message``, never exceptions.
"""

from portraitsr4k.image_io.decode import REDUCTIONS, decode, reduction_for_max_side
from portraitsr4k.image_io.encode import PASS_THROUGH_FORMATS, encode_png, source_bytes_if_unchanged
from portraitsr4k.image_io.jpeg_crop import (
    JpegCropAlignmentError,
    JpegCropDataError,
    JpegCropError,
    JpegCropUnavailableError,
    JpegCropUnsupportedError,
    jpeg_imcu_size,
    lossless_jpeg_crop,
    lossless_jpeg_crop_available,
)
from portraitsr4k.image_io.probe import ALLOWED_FORMATS, DEFAULT_MAX_PIXELS, probe
from portraitsr4k.image_io.status import (
    ERROR_BOMB,
    ERROR_COLOUR,
    ERROR_CORRUPT,
    ERROR_EMPTY,
    ERROR_IO,
    ERROR_TRUNCATED,
    ERROR_UNSUPPORTED_FORMAT,
    OK,
    STATUSES,
    DecodedImage,
    ImageInfo,
)

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_MAX_PIXELS",
    "ERROR_BOMB",
    "ERROR_COLOUR",
    "ERROR_CORRUPT",
    "ERROR_EMPTY",
    "ERROR_IO",
    "ERROR_TRUNCATED",
    "ERROR_UNSUPPORTED_FORMAT",
    "OK",
    "PASS_THROUGH_FORMATS",
    "REDUCTIONS",
    "STATUSES",
    "DecodedImage",
    "ImageInfo",
    "JpegCropAlignmentError",
    "JpegCropDataError",
    "JpegCropError",
    "JpegCropUnavailableError",
    "JpegCropUnsupportedError",
    "decode",
    "encode_png",
    "jpeg_imcu_size",
    "lossless_jpeg_crop",
    "lossless_jpeg_crop_available",
    "probe",
    "reduction_for_max_side",
    "source_bytes_if_unchanged",
]
