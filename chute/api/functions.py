"""One-call helpers: ``compress``, ``decompress``, ``copy``, ``detect``, ``read_range``."""

from __future__ import annotations

import io
import os

from .. import codecs
from ..codecs._stream import StreamDecoder
from ..streams._writeall import flush_all, write_all
from ..streams.pump import DEFAULT_CHUNK, Stats, compress_stream, decompress_stream
from .fileobj import new_compressor, resolve_format
from .fileobj import open as chute_open

TYPE_CHECKING = False  # not typing's: importing typing costs a command's start-up
if TYPE_CHECKING:
    from typing import Any, BinaryIO, cast

    from ..streams.pump import Progress
else:

    def cast(typ: object, value: object) -> object:
        return value


__all__ = ["compress", "decompress", "copy", "detect", "read_range"]

#: Compressed bytes :func:`decompress` hands the decoder per call ...
INPUT_STEP = 1 << 20
#: ... and the most output it asks for per call.
OUTPUT_STEP = 4 << 20


def compress(
    data: bytes | bytearray | memoryview, format: str = "zstd", level: int | None = None, **options: Any
) -> bytes:
    """Compress ``data`` in one call into a complete stream of ``format``.

    zstd takes ``zstd_dict=`` (a ``ZstdDict``, bytes or a path) and ``options=``
    (``CompressionParameter`` -> value), as ``compression.zstd.compress`` does.
    """
    comp = new_compressor(codecs.get(format), level, **options)
    whole = getattr(comp, "compress_whole", None)  # a codec's one-call path, where it has one
    if whole is not None:
        return whole(data)  # type: ignore[no-any-return]
    return comp.compress(data) + comp.finish()


def decompress(
    data: bytes | bytearray | memoryview,
    format: str | None = None,
    *,
    max_output: int | None = None,
    **options: Any,
) -> bytes:
    """Decompress a complete stream (format detected unless given).

    ``max_output`` bounds the result: a stream that decodes to more raises
    :class:`~chute.errors.LimitExceededError` instead of exhausting memory. Peak memory is
    about the size of the result plus a constant (decoded in bounded steps into one buffer
    that becomes the result without a copy), so with ``max_output=N`` it stays under about
    N bytes plus ``data`` (copied once first unless it is ``bytes``). zstd frames take
    ``zstd_dict=`` and ``options=`` as ``compression.zstd.decompress`` does; a frame that
    names a dictionary not given raises :class:`~chute.errors.DictionaryError`.
    """
    dec = StreamDecoder(format, max_output=max_output, **options)
    # One decoder call for the whole output would hold it twice at its end (the bindings
    # gather output in blocks, then join them), and a list of steps would be joined into a
    # second copy as well: BytesIO grows one buffer (in place, for big sizes) and getvalue()
    # hands that very buffer over. The input goes in pieces: zlib copies the input it has
    # not consumed yet at every bounded call, which fed all at once would be quadratic.
    step = OUTPUT_STEP if max_output is None else min(OUTPUT_STEP, max_output + 1)
    view = memoryview(data).cast("B")
    out = io.BytesIO()
    pos = 0
    while not dec.eof:
        if dec.needs_input:
            if pos >= len(view):
                break
            piece = view[pos : pos + INPUT_STEP]
            pos += len(piece)
            out.write(dec.decompress(piece, step))
        else:
            out.write(dec.decompress(b"", step))
    if pos < len(view):  # after the end: the decoder's trailing-data policy decides
        dec.decompress(view[pos:])
    dec.end()
    return out.getvalue()


def detect(prefix: bytes) -> str | None:
    """Name of the format whose magic number starts ``prefix`` (``None`` if unknown)."""
    return codecs.detect(prefix)


def _as_file(obj: Any, mode: str) -> tuple[BinaryIO, bool]:
    if isinstance(obj, (str, bytes, os.PathLike)):
        return cast("BinaryIO", open(obj, mode)), True
    return obj, False


def copy(
    src: Any,
    dst: Any,
    *,
    compress: str | bool | None = None,
    decompress: bool = False,
    format: str | None = None,
    level: int | None = None,
    threads: int | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> Stats:
    """Copy ``src`` to ``dst`` (paths or binary file objects), compressing or decompressing.

    ``compress="zstd"`` (or any format; ``True`` picks one from ``dst``'s suffix, else
    zstd) compresses; ``decompress=True`` decodes, detecting the format unless
    ``format`` names it. ``chunk_size``: bytes per read, 128 KiB by default (when
    compressing on threads, one block: 1-8 MiB by format; lz4 4 MiB). Returns
    :class:`~chute.streams.pump.Stats`.
    """
    if bool(compress) == bool(decompress):
        raise ValueError("pass exactly one of compress=FORMAT or decompress=True")
    s, own_s = _as_file(src, "rb")
    try:
        d, own_d = _as_file(dst, "wb")
        try:
            if compress:
                codec = resolve_format(compress if isinstance(compress, str) else None, dst)
                comp = new_compressor(codec, level, threads=threads, **options)
                # a parallel compressor takes whole blocks best (no copy, see ParallelCompressor)
                read_size = chunk_size or getattr(comp, "block_size", 0) or codec.extra.get("read_size", DEFAULT_CHUNK)
                stats = compress_stream(
                    s, d, comp, chunk_size=read_size, progress=progress, stats=Stats(format=codec.name)
                )
            elif threads is not None and threads != 1 and progress is None and "zstd_dict" not in options:
                from ..parallel.jobs import parallel_decompress

                read_size = chunk_size or DEFAULT_CHUNK
                stats = parallel_decompress(s, d, threads=threads, format=format, chunk_size=read_size, **options)
            else:
                dec = StreamDecoder(format, **options)
                stats = decompress_stream(s, d, dec, chunk_size=chunk_size or DEFAULT_CHUNK, progress=progress)
            flush_all(d)
            return stats
        finally:
            if own_d:
                d.close()
    finally:
        if own_s:
            s.close()


def read_range(
    path: str | os.PathLike[str],
    start: int,
    end: int | None,
    out: BinaryIO,
    *,
    storage_options: dict[str, Any] | None = None,
) -> int:
    """Write decompressed bytes ``[start, end)`` of ``path`` to ``out``; return the count.

    ``end=None`` means to the end. Seekable files decode only the frames that hold the
    range (from a URL: only their bytes are fetched); other compressed files are decoded
    from the start (and stop at ``end``). ``storage_options`` reach a URL's filesystem.
    """
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid range {start}:{end}")
    with chute_open(path, "rb", storage_options=storage_options) as f:
        got = f.seek(start)
        if got < start:
            return 0
        left = None if end is None else end - start
        written = 0
        while left is None or left > 0:
            chunk = f.read(1 << 20 if left is None else min(left, 1 << 20))
            if not chunk:
                break
            write_all(out, chunk)
            written += len(chunk)
            if left is not None:
                left -= len(chunk)
        return written
