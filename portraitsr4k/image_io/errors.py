"""Map every exception a codec may raise on hostile input to a status and a message.

Pillow's fuzz harness accepts exactly ``OSError, SyntaxError, MemoryError, ValueError,
NotImplementedError, OverflowError, DecompressionBombError, DecompressionBombWarning`` from a
plugin; we add ``struct.error``, ``EOFError``, ``IndexError``/``KeyError``/``TypeError`` (seen in
plugins on mutated headers) and ``ImageCms.PyCMSError``. Anything else is still turned into
``error:corrupt`` carrying the exception text, so one bad photo never stops a batch.
"""

from __future__ import annotations

import struct

from PIL import Image, ImageCms, UnidentifiedImageError

from portraitsr4k.image_io.containers import is_signature_prefix, sniff_format, truncation_reason
from portraitsr4k.image_io.status import (
    ERROR_BOMB,
    ERROR_COLOUR,
    ERROR_CORRUPT,
    ERROR_TRUNCATED,
    ERROR_UNSUPPORTED_FORMAT,
)

__all__ = ["CODEC_ERRORS", "classify_exception", "unidentified"]

# What a codec may raise on bad input (caught around every Pillow call).
CODEC_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    MemoryError,
    ValueError,
    NotImplementedError,
    OverflowError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    struct.error,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    ImageCms.PyCMSError,
)

_TRUNCATION_WORDS = (
    "truncated",
    "premature end",
    "unexpected end",
    "not enough data",
    "buffer is not large enough",
    "ran out of data",
)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def unidentified(data: bytes, formats: tuple[str, ...]) -> tuple[str, str]:
    """Status for bytes that no allowed plugin would open.

    A strict prefix of an allowed signature, or an allowed container that ends early, is
    truncated; an allowed container that is complete is corrupt; anything else is an
    unsupported format, named when we recognise it.
    """
    allowed = ", ".join(formats)
    prefix_of = is_signature_prefix(data, formats)
    if prefix_of is not None:
        return ERROR_TRUNCATED, f"only {len(data)} byte(s), the start of a {prefix_of} signature"
    sniffed = sniff_format(data)
    if sniffed is not None and (sniffed in formats or (sniffed == "JPEG" and "MPO" in formats)):
        reason = truncation_reason(data, sniffed, strict_only=False)
        if reason is not None:
            return ERROR_TRUNCATED, reason
        return ERROR_CORRUPT, f"starts like {sniffed} but its header cannot be parsed"
    if sniffed is not None:
        return ERROR_UNSUPPORTED_FORMAT, f"{sniffed} data; allowed formats are {allowed}"
    return ERROR_UNSUPPORTED_FORMAT, (
        f"not an image in an allowed format ({allowed}); starts with {bytes(data[:16])!r}"
    )


def classify_exception(
    exc: BaseException, data: bytes, fmt: str | None, formats: tuple[str, ...], stage: str
) -> tuple[str, str]:
    """Status and message for ``exc`` raised while ``stage`` (``"opening"``/``"decoding"``)."""
    if isinstance(exc, UnidentifiedImageError):
        return unidentified(data, formats)
    fmt = fmt or sniff_format(data)  # the plugin may have failed before naming the format
    where = f"{stage} {fmt or 'image'}"
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return ERROR_BOMB, f"{where}: {exc}"
    if isinstance(exc, MemoryError):
        return ERROR_BOMB, f"{where}: ran out of memory ({_describe(exc)})"
    if isinstance(exc, ImageCms.PyCMSError):
        return ERROR_COLOUR, f"{where}: ICC colour conversion failed ({_describe(exc)})"
    text = str(exc).lower()
    if isinstance(exc, EOFError) or any(word in text for word in _TRUNCATION_WORDS):
        return ERROR_TRUNCATED, f"{where}: {_describe(exc)}"
    reason = truncation_reason(data, fmt, strict_only=False)
    if reason is not None:
        return ERROR_TRUNCATED, f"{where}: {reason} ({_describe(exc)})"
    if isinstance(exc, CODEC_ERRORS):
        return ERROR_CORRUPT, f"{where}: {_describe(exc)}"
    return ERROR_CORRUPT, f"{where}: unexpected {_describe(exc)}"
