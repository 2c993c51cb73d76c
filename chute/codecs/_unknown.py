"""What to say about data in no format chute decodes (loaded only then).

Some formats are recognised by their signature and named as unsupported (lzip, Unix
``compress``, ``pack``, zip, 7z), so the message says what the data is and which tool
reads it. Brotli and raw deflate have no signature: when the first bytes decode as
either, the message says to name that format.
"""

from __future__ import annotations

#: Signatures of formats chute does not decode: (magic, what it is, what reads it).
UNSUPPORTED = (
    (b"LZIP", "lzip data", "lzip -d"),
    (b"\x1f\x9d", "Unix compress (.Z) data", "gzip -d or uncompress"),
    (b"\x1f\x1e", "pack (.z) data", "gzip -d or unpack"),
    (b"\x1f\xa0", "LZH (SCO compress -H) data", "gzip -d"),
    (b"PK\x03\x04", "a zip archive", "unzip"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive", "7z"),
)

#: Most of the first bytes tried as brotli and raw deflate.
SNIFF = 64 << 10


def unknown_format_message(prefix: bytes) -> str:
    """One line for :class:`~chute.errors.UnknownFormatError`, from the first bytes."""
    for magic, what, tool in UNSUPPORTED:
        if prefix.startswith(magic):
            return f"{what}: a format chute does not decode (use {tool})"
    plausible = [name for name, test in (("brotli", _brotli), ("deflate", _deflate)) if test(prefix[:SNIFF])]
    if plausible:
        names = " or ".join("raw deflate" if name == "deflate" else name for name in plausible)
        flags = " or ".join(f"-F {name}" for name in plausible)
        return f"not in a known compressed format; it may be {names}, which has no signature: use {flags}"
    return "not in a known compressed format"


def _deflate(data: bytes) -> bool:
    """The bytes decode as the start of raw deflate data, producing output."""
    import zlib

    dec = zlib.decompressobj(-15)
    try:
        out = dec.decompress(data, 1 << 20)
    except zlib.error:
        return False
    return bool(out) or dec.eof


def _brotli(data: bytes) -> bool:
    """The bytes decode as the start of a brotli stream, producing output."""
    try:
        import brotli
    except ImportError:  # pragma: no cover - brotli is a dependency
        return False
    dec = brotli.Decompressor()
    try:
        out = dec.process(data, output_buffer_limit=1 << 20)
    except brotli.error:
        return False
    return bool(out) or bool(dec.is_finished())
