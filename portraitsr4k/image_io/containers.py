"""Byte-level facts about image containers, read without any codec.

Pillow reports a file that ends early in several unhelpful ways (``UnidentifiedImageError`` when
the header itself is cut, ``could not create decoder object`` for WebP, nothing at all for a PNG
missing its ``IEND`` chunk). These helpers walk the container structure directly so that a
truncated file is always called truncated, and a non-image or a non-allowed format gets a message
naming what it is, without importing the plugin that would parse it.
"""

from __future__ import annotations

__all__ = ["is_signature_prefix", "png_bit_depth", "png_exif_chunk", "sniff_format", "truncation_reason"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MAX_CHUNK = 2**31 - 1  # PNG spec: chunk lengths are at most 2^31 - 1

# (format name, signature, offset). Allowed formats first; the rest only name what we refuse.
_SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("JPEG", b"\xff\xd8\xff", 0),
    ("PNG", _PNG_SIGNATURE, 0),
    ("WEBP", b"RIFF", 0),  # plus b"WEBP" at offset 8, checked in sniff_format
    ("TIFF", b"II*\x00", 0),
    ("TIFF", b"MM\x00*", 0),
    ("BMP", b"BM", 0),
    ("GIF", b"GIF87a", 0),
    ("GIF", b"GIF89a", 0),
    ("PDF", b"%PDF", 0),
    ("EPS", b"%!PS", 0),
    ("EPS", b"\xc5\xd0\xd3\xc6", 0),
    ("FITS", b"SIMPLE  =", 0),
    ("PSD", b"8BPS", 0),
    ("ICO", b"\x00\x00\x01\x00", 0),
    ("QOI", b"qoif", 0),
    ("JPEG2000", b"\xff\x4f\xff\x51", 0),
    ("JPEG2000", b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0),
    ("DDS", b"DDS ", 0),
    ("XPM", b"/* XPM */", 0),
)

# ISO-BMFF brands (ftyp box at offset 4): AVIF and the HEIF family.
_FTYP_BRANDS = {
    b"avif": "AVIF",
    b"avis": "AVIF",
    b"heic": "HEIF",
    b"heix": "HEIF",
    b"mif1": "HEIF",
    b"msf1": "HEIF",
    b"hevc": "HEIF",
}


def sniff_format(data: bytes) -> str | None:
    """Name the container from its magic bytes (``"JPEG"``, ``"GIF"``, ``"AVIF"`` ...), else None."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(bytes(data[8:12]), "ISOBMFF")
    for name, signature, offset in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            if name == "WEBP" and data[8:12] != b"WEBP":
                return "RIFF" if len(data) >= 12 else "WEBP"
            return name
    return None


def is_signature_prefix(data: bytes, formats: tuple[str, ...]) -> str | None:
    """Return the allowed format whose signature ``data`` is a proper prefix of, else None.

    A file of 1-7 bytes that starts like a PNG/JPEG signature is a truncated image, not an
    unknown one.
    """
    for name, signature, offset in _SIGNATURES:
        if (
            name in formats
            and offset == 0
            and 0 < len(data) < len(signature)
            and signature.startswith(bytes(data))
        ):
            return name
    if "MPO" in formats and 0 < len(data) < 3 and b"\xff\xd8\xff".startswith(bytes(data)):
        return "MPO"
    return None


def _jpeg_truncation(data: bytes) -> str | None:
    """Walk the marker segments up to the first scan, then look for the EOI marker.

    Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so an
    ``FF D9`` after the first SOS can only be an end-of-image marker: the primary image's, or a
    later one's (second image of an MPO); both mean the primary scan data is complete. Data
    after the EOI (a phone's motion-photo trailer) is allowed. Thumbnails inside APP segments,
    which carry their own EOI, are skipped by walking segment lengths.
    """
    n = len(data)
    pos = 2
    while pos < n:
        if pos + 2 > n:
            return f"the JPEG header ends inside a marker at byte {pos} of {n}"
        if data[pos] != 0xFF:
            return None  # not a marker: corrupt, let the decoder report it
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker == 0xD9:
            return None
        if pos + 4 > n:
            return f"the JPEG header ends inside segment 0xFF{marker:02X} at byte {pos} of {n}"
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end > n:
            return f"JPEG segment 0xFF{marker:02X} needs {end} bytes, the file has {n}"
        if marker == 0xDA:  # start of scan
            # Search from the end: the EOI normally is the last two bytes, so this costs
            # microseconds instead of a forward scan through megabytes of scan data.
            if data.rfind(b"\xff\xd9", end) < 0:
                return f"the JPEG has no end-of-image marker after its scan data ({n} bytes)"
            return None
        pos = end
    return f"the JPEG ends after {n} bytes, before its first scan"


def _png_truncation(data: bytes) -> str | None:
    n = len(data)
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= n:
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunk_type = bytes(data[pos + 4 : pos + 8])
        if not chunk_type.isalpha() or length > _PNG_MAX_CHUNK:
            return None  # misaligned or damaged chunk header: corrupt, not cut short
        end = pos + 12 + length
        if end > n:
            return f"PNG chunk {chunk_type!r} needs {end} bytes, the file has {n}"
        if chunk_type == b"IEND":
            return None
        pos = end
    return f"the PNG ends after {n} bytes without an IEND chunk"


def _riff_truncation(data: bytes) -> str | None:
    if len(data) < 12:
        return f"the RIFF header needs 12 bytes, the file has {len(data)}"
    declared = int.from_bytes(data[4:8], "little") + 8
    if declared > len(data):
        return f"the WebP header declares {declared} bytes, the file has {len(data)}"
    return None


def _bmp_truncation(data: bytes) -> str | None:
    if len(data) < 14:
        return f"the BMP file header needs 14 bytes, the file has {len(data)}"
    declared = int.from_bytes(data[2:6], "little")
    if declared > len(data):
        return f"the BMP header declares {declared} bytes, the file has {len(data)}"
    return None


def _isobmff_truncation(data: bytes) -> str | None:
    n = len(data)
    pos = 0
    while pos < n:
        if pos + 8 > n:
            return f"the file ends inside a box header at byte {pos} of {n}"
        size = int.from_bytes(data[pos : pos + 4], "big")
        header = 8
        if size == 1:
            if pos + 16 > n:
                return f"the file ends inside a box header at byte {pos} of {n}"
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:  # box extends to the end of the file
            return None
        if size < header:
            return None  # corrupt, let the decoder report it
        if pos + size > n:
            box = bytes(data[pos + 4 : pos + 8])
            return f"box {box!r} needs {pos + size} bytes, the file has {n}"
        pos += size
    return None


def truncation_reason(data: bytes, fmt: str | None, *, strict_only: bool = True) -> str | None:
    """Why ``data`` (the complete source bytes) is a truncated ``fmt`` file, or None.

    With ``strict_only`` only the structural checks that never flag a complete file are used
    (JPEG, MPO, PNG, WebP, AVIF); otherwise the BMP header size, which some writers leave wrong,
    is also consulted (use that only to explain a decode failure).
    """
    if fmt in ("JPEG", "MPO"):
        return _jpeg_truncation(data)
    if fmt == "PNG":
        return _png_truncation(data)
    if fmt == "WEBP":
        return _riff_truncation(data)
    if fmt in ("AVIF", "HEIF"):
        return _isobmff_truncation(data)
    if fmt == "BMP" and not strict_only:
        return _bmp_truncation(data)
    return None


def png_bit_depth(data: bytes) -> int | None:
    """Bit depth from a PNG's IHDR chunk (1, 2, 4, 8 or 16), or None when not a PNG."""
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR" or len(data) < 25:
        return None
    return data[24]


def png_exif_chunk(data: bytes) -> bytes | None:
    """Body of the PNG ``eXIf`` chunk, or None.

    Pillow's ``PngImageFile.getexif()`` decodes the whole image to find an ``eXIf`` chunk stored
    after the pixel data; walking the chunks finds it without decoding.
    """
    n = len(data)
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= n:
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunk_type = data[pos + 4 : pos + 8]
        if chunk_type == b"eXIf":
            return bytes(data[pos + 8 : pos + 8 + length])
        if chunk_type == b"IEND":
            return None
        pos += 12 + length
    return None
