"""Streaming tar archives: write PAX, read ustar/GNU/PAX, extract safely, in constant memory.

    with chute.tar.open("out.tar.zst", "w") as tw:
        tw.add_path("src")
        tw.add_stream("log.txt", sys.stdin.buffer)          # size unknown: spooled
    with chute.tar.open("out.tar.zst") as tr:
        for member, f in tr:
            print(member.name, len(f.read()))
    chute.tar.extract_archive("out.tar.zst", "dest")       # safe by default: policy="default"

``open`` compresses on the fly: the format comes from ``format``, else the path's suffix
(``.tar`` means none); reading detects it from the first bytes.
"""

from __future__ import annotations

import builtins
import io
import os

from .header import Member
from .reader import TarReader
from .safety import Limits

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing stays off the command path (start-up)
    from typing import Any, BinaryIO

    from .writer import TarWriter


def __getattr__(name: str) -> Any:
    # TarWriter is imported when first used: unpacking need not pay for tempfile and shutil.
    if name == "TarWriter":
        from .writer import TarWriter

        return TarWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Member", "TarReader", "TarWriter", "Limits", "open", "open_compressed_input", "extract_archive"]


def _codec_for(file: Any, format: str | None) -> str | None:
    if format is not None:
        return None if format in ("none", "tar") else format
    if isinstance(file, (str, bytes, os.PathLike)):
        from ..codecs import from_suffix

        c = from_suffix(os.fsdecode(file))
        return c.name if c is not None else None
    return None


def open_compressed_input(file: Any, format: str | None = None, **kw: Any) -> tuple[BinaryIO, list[Any]]:
    """A binary stream of the tar data in ``file`` (path or file object), decompressing if needed.

    The format is detected from the first bytes (peeked, not lost); brotli, which has no
    magic, is chosen from the path's suffix or ``format``. Returns the stream and the
    objects to close afterwards.
    """
    from .. import codecs

    closers: list[Any] = []
    if isinstance(file, (str, bytes, os.PathLike)):
        raw: Any = builtins.open(file, "rb", buffering=1 << 16)  # noqa: SIM115
        closers.append(raw)
    else:
        raw = file if hasattr(file, "peek") else io.BufferedReader(file, 1 << 16)
    fmt = _codec_for(file, format)
    if fmt is None and format is None:
        fmt = codecs.detect(raw.peek(16)[:16])
    if fmt is None:
        return raw, closers  # a plain .tar: no decoder to load
    from ..api.fileobj import open as chute_open
    from ..streams import _malloc
    from ..streams.readahead import ReadAhead

    reader = chute_open(raw, "rb", format=fmt, **kw)
    closers.insert(0, reader)
    # Decode on a second core while the caller creates files, as `zstd -d | tar -x` does.
    # The command line keeps the heap between decoded chunks (see _malloc) once the
    # stream proves longer than one chunk: a small archive need not import ctypes.
    ahead = ReadAhead(_TuneWhenLong(reader) if _malloc.wanted else reader)
    closers.insert(0, ahead)
    # ReadAhead reads like a buffered stream, and extraction writes file data straight
    # from its chunks (ReadAhead.write_to): no BufferedReader, no copy.
    return ahead, closers  # type: ignore[return-value]


class _TuneWhenLong:
    """Reads ``source``; applies :func:`chute.streams._malloc.tune` once a read came back full
    (more is likely to follow), as the pump does."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self._tuned = False

    def read(self, size: int) -> bytes:
        data: bytes = self._source.read(size)
        if not self._tuned and len(data) == size:
            from ..streams import _malloc

            _malloc.tune()
            self._tuned = True
        return data


class _Closing:
    def __init__(self, obj: Any, closers: list[Any], writing: bool = False) -> None:
        self.obj = obj
        self.closers = closers
        self.writing = writing

    def __enter__(self) -> Any:
        return self.obj

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None and self.writing:
                self.obj.close()
        finally:
            for c in self.closers:
                c.close()


def open(
    file: str | os.PathLike[str] | BinaryIO,
    mode: str = "r",
    *,
    format: str | None = None,
    level: int | None = None,
    threads: int | None = None,
    **options: Any,
) -> Any:
    """A context manager giving a :class:`TarReader` (``"r"``) or :class:`TarWriter` (``"w"``).

    Writing compresses with ``format`` (else from the path's suffix; ``"none"`` or a ``.tar``
    suffix: no compression) at ``level`` on ``threads``; ``options`` go to
    :class:`TarWriter` (``owner``, ``spool_limit``, ``spool_dir``) or :class:`TarReader`.
    """
    if mode == "r":
        fp, closers = open_compressed_input(file, format)
        return _Closing(TarReader(fp, **options), closers)
    if mode != "w":
        raise ValueError(f"invalid mode {mode!r} (use 'r' or 'w')")
    from ..api.fileobj import open as chute_open

    to_close: list[Any] = []
    if isinstance(file, (str, bytes, os.PathLike)):
        out: Any = builtins.open(file, "wb")  # noqa: SIM115
        to_close.append(out)
    else:
        out = file
    fmt = _codec_for(file, format)
    if fmt is not None:
        out = chute_open(out, "wb", format=fmt, level=level, threads=threads)
        to_close.insert(0, out)
    from .writer import TarWriter

    return _Closing(TarWriter(out, **options), to_close, writing=True)


def extract_archive(
    file: Any,
    target: str | os.PathLike[str],
    *,
    format: str | None = None,
    selection: Any = None,
    old_files: str = "replace",
    verbose: Any = None,
    existing: Any = None,
    **kw: Any,
) -> Any:
    """Extract ``file`` (path or binary file object, compressed or not) into ``target``.

    ``kw`` goes to :func:`chute.tar.extract.extract`: ``policy`` (``"default"``, ``"data"``,
    ``"trust"``), ``strict``, ``warn``, ``limits``, ``strip_components``, ``owner``. Returns
    the :class:`~chute.tar.extract.ExtractStats` (``refused``, ``failed``: members skipped).
    ``selection`` (a :class:`chute.tar.select.Selection`), ``old_files``, ``verbose`` and
    ``existing``: see :class:`chute.tar.select.SelectingExtractor`."""
    from .extract import extract

    fp, closers = open_compressed_input(file, format)
    try:
        if selection is not None or old_files != "replace" or verbose is not None:
            from .select import extract_selected

            return extract_selected(
                fp, target, selection, old_files=old_files, verbose=verbose, existing=existing, **kw
            )
        return extract(fp, target, **kw)
    finally:
        for c in closers:
            c.close()
