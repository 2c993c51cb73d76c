"""``chute.open()``: buffered binary (and text) file objects over any codec.

One generic reader and one generic writer drive every format. The reader feeds a
:class:`~chute.codecs._stream.StreamDecoder` from the underlying file in chunks and asks
it for at most as many bytes as the caller wants, so memory stays bounded even on a
decompression bomb read through ``read(n)``. The writer hands each ``write()`` to a
sans-IO compressor and writes what comes back.
"""

from __future__ import annotations

import builtins
import io
import os
import time

from .. import codecs
from ..codecs import Codec, FlushMode
from ..codecs._stream import StreamDecoder
from ..errors import ChuteError
from ..streams._writeall import flush_all, write_all
from ..streams.decoding import DecodingRaw

# Not imported when the module loads: typing, and threading (only ChuteWriter needs it).
# They cost start-up, and `chute FILE` or `chute -d` never make a ChuteWriter.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from typing import IO, Any, BinaryIO, Literal, cast, overload

    from ..codecs import Compressor
    from ..parallel.gzindex import IndexedGzipReader
    from ..parallel.seekable import SeekableReader

    _File = str | bytes | os.PathLike[str] | IO[bytes]
else:

    def cast(typ: object, value: object) -> object:
        return value


__all__ = [
    "open",
    "ChuteReader",
    "ChuteWriter",
    "new_compressor",
    "fixed_layout_compressor",
    "resolve_format",
    "DEFAULT_FORMAT",
]

DEFAULT_FORMAT = "zstd"
READ_CHUNK = 128 << 10
_BINARY_MODES = {"r": "rb", "rb": "rb", "w": "wb", "wb": "wb", "a": "ab", "ab": "ab", "x": "xb", "xb": "xb"}
_TEXT_MODES = {"rt": "rb", "wt": "wb", "at": "ab", "xt": "xb"}


def resolve_format(format: str | None, path: Any = None, *, default: str = DEFAULT_FORMAT) -> Codec:
    """The codec for writing: ``format`` if given, else from ``path``'s suffix, else ``default``."""
    if format is not None:
        return codecs.get(format)
    if isinstance(path, (str, bytes, os.PathLike)):
        found = codecs.from_suffix(os.fsdecode(path))
        if found is not None:
            return found
    return codecs.get(default)


def _checked(codec: Codec | str, level: int | None, threads: int | None, options: dict[str, Any]) -> tuple[Codec, int]:
    """``codec`` (a name looked up), its ``level`` checked, ``threads`` checked; a
    ``seekable=False`` in ``options`` is dropped (the same as not asking)."""
    if isinstance(codec, str):
        codec = codecs.get(codec)
    if threads is not None and threads < 0:
        raise ValueError("threads must be >= 0")
    if not options.get("seekable", True):
        del options["seekable"]
    return codec, codec.check_level(level)


def new_compressor(
    codec: Codec | str, level: int | None = None, *, threads: int | None = None, **options: Any
) -> Compressor:
    """A compressor for ``codec``, multi-threaded when ``threads`` asks for it.

    ``threads``: ``None`` compresses in the caller's thread; N >= 1 uses N worker
    threads; 0 uses every usable core. zstd with one thread uses libzstd's worker
    (``zstd -T1``: compression overlaps the caller's I/O), and lz4 the frames of
    :mod:`chute.parallel.jobs`, compressed in the caller's thread; N > 1 goes through
    :mod:`chute.parallel.jobs` (independent frames of 8 MiB), as every splittable format
    does, except zstd with tuning options (window, long distance, job size), which
    keeps libzstd's workers.
    """
    codec, level = _checked(codec, level, threads, options)
    if codec.name != "zstd" and ("zstd_dict" in options or "options" in options):
        raise ValueError(f"zstd_dict and options are for zstd, not {codec.name}")
    if not codec.concatenable and not options.get("seekable"):
        threads = None  # brotli, zlib, raw deflate: one stream, so one thread
    if codec.name == "zstd" and threads is not None and not options.get("seekable"):
        from ..parallel.pool import usable_cores

        n = threads or usable_cores()
        if n == 1 or not set(options) <= {"checksum", "block_size"}:
            return codec.new_compressor(level, threads=n, **options)
        # Independent frames on our workers: measured ~8% faster than libzstd's workers
        # at the same ratio (8 MiB frames), and a file that decodes on several cores.
        from ..parallel.jobs import parallel_compressor

        return parallel_compressor(codec, level, threads=n, **options)
    lz4_worker = codec.name == "lz4" and threads == 1 and set(options) <= {"checksum"}
    # gzip's rsyncable members are cut by content (parallel.jobs.ContentMembers), the
    # same bytes at any thread count: without threads, one worker writes them
    rsyncable = codec.name == "gzip" and options.get("rsyncable")
    if (threads is not None and threads != 1) or options.get("seekable") or lz4_worker or rsyncable:
        # lz4 with one thread writes the same 4 MiB frames as with more (compressed in
        # the caller's thread: see parallel_compressor)
        from ..parallel.jobs import parallel_compressor

        return parallel_compressor(codec, level, threads=threads, **options)
    return codec.new_compressor(level, **options)


def _zstd_keywords(zstd_dict: Any, options: dict[int, int] | None) -> dict[str, Any]:
    """The zstd keywords that were given (absent ones stay absent: every codec but zstd
    refuses them)."""
    given: dict[str, Any] = {}
    if zstd_dict is not None:
        given["zstd_dict"] = zstd_dict
    if options is not None:
        given["options"] = options
    return given


def fixed_layout_compressor(
    codec: Codec | str,
    level: int | None = None,
    *,
    threads: int | None = None,
    size: int | None = None,
    **options: Any,
) -> Compressor:
    """A compressor whose bytes depend on the input, ``codec``, ``level`` and ``options``
    only: never on ``threads`` or on the cores of the machine.

    ``threads`` (0 = every usable core) sets the speed alone. Formats that can be split
    are written as independent members of the format's block size
    (:func:`chute.parallel.jobs.block_size_for`) at every thread count, one worker
    included; for gzip, bz2 and xz an input of one block or less is then exactly the
    single stream the format's own compressor writes, so ``size`` (the input's size, if
    known) lets such an input skip the workers (lz4's own compressor cuts its blocks
    where its input was cut, so lz4 always goes through the block compressor). zstd with tuning options (window,
    long-distance matching) keeps libzstd's workers, whose output does not depend on
    their number (one or more, with a fixed job size). brotli, zlib and raw deflate are
    one stream on one thread.
    """
    codec, level = _checked(codec, level, threads, options)
    if not codec.concatenable and not options.get("seekable"):
        return codec.new_compressor(level, **options)
    from ..parallel.jobs import block_size_for, parallel_compressor
    from ..parallel.pool import resolve_threads

    n = resolve_threads(threads)
    if options.get("seekable"):
        return parallel_compressor(codec, level, threads=n, **options)
    if codec.name == "zstd":
        if size is not None and size <= block_size_for(codec) and set(options) <= {"checksum", "content_size"}:
            return _OneFrame(codec.new_compressor(level, **options))
        if not set(options) <= {"checksum", "content_size"}:
            options.setdefault("job_size", 4 << 20)
            return codec.new_compressor(level, threads=n, **options)
        return parallel_compressor(codec, level, threads=n, **options)
    if size is not None and size <= block_size_for(codec) and not options and codec.name != "lz4":
        return codec.new_compressor(level)
    return parallel_compressor(codec, level, threads=n, **options)


class _OneFrame:
    """A zstd compressor for an input of one block or less: the input is kept and
    compressed in one call at :meth:`finish`, so the frame is the one the block
    compressor writes for the same bytes (size in the header), with no worker thread.
    A :meth:`flush` before that streams from then on."""

    def __init__(self, comp: Any) -> None:
        self._comp = comp
        self._held: list[bytes] = []
        self._streaming = False

    def compress(self, data: Any) -> bytes:
        if self._streaming:
            return self._comp.compress(data)  # type: ignore[no-any-return]
        self._held.append(bytes(data))
        return b""

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        out = b""
        if not self._streaming:
            self._streaming = True
            out = self._comp.compress(b"".join(self._held))
            self._held = []
        return out + self._comp.flush(mode)  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        if self._streaming:
            return self._comp.finish()  # type: ignore[no-any-return]
        data, self._held = b"".join(self._held), []
        return self._comp.compress_whole(data)  # type: ignore[no-any-return]


def _open_file(file: Any, mode: str, storage_options: dict[str, Any] | None = None) -> tuple[BinaryIO, bool, str]:
    """(binary file object, whether we own it, name)."""
    from ..streams.remote import is_url

    if is_url(file):
        from ..streams import remote

        if mode == "rb":
            fp: Any = remote.open_input(file, storage_options)
        elif mode in ("wb", "xb"):
            fp = remote.AtomicUpload(file, overwrite=mode == "wb", storage_options=storage_options).__enter__()
        else:
            raise ValueError(f"cannot append to a URL ({file})")
        return fp, True, file
    if storage_options:
        raise ValueError("storage_options are for URLs")
    if isinstance(file, (str, bytes, os.PathLike)):
        fp = cast("BinaryIO", builtins.open(file, mode))  # noqa: SIM115 - closed by the chute file object
        return fp, True, os.fsdecode(file)
    if hasattr(file, "read") or hasattr(file, "write"):
        return file, False, getattr(file, "name", "") if isinstance(getattr(file, "name", ""), str) else ""
    raise TypeError(f"file must be a path or a binary file object, not {type(file).__name__}")


def _open_indexed(fp: BinaryIO, file: Any, index: Any, owns: bool, name: str) -> IndexedGzipReader | None:
    """A reader through the gzip index ``index`` (a path), or the one beside ``file`` when
    ``index`` is ``None``; ``None`` when there is none, or the one beside is refused (a
    warning says why)."""
    explicit = index is not None
    if not explicit:
        if not isinstance(file, (str, bytes, os.PathLike)):
            return None
        index = os.fsdecode(file) + ".idx"
        if not os.path.isfile(index):
            return None
    from ..codecs._libz import available
    from ..errors import IndexFileError
    from ..parallel.gzindex import IndexedGzipReader, load_index

    where = os.fsdecode(index)
    if not available():  # no system zlib to start at a checkpoint with
        if not explicit:
            return None
        if owns:
            fp.close()
        raise IndexFileError(f"{where}: reading through a gzip index needs the system zlib (libz), not found")
    try:
        from ..codecs.gzindex import MAGIC, MAX_INDEX_BYTES

        with builtins.open(index, "rb") as f:
            data = f.read(MAX_INDEX_BYTES + 1)
        if len(data) > MAX_INDEX_BYTES:
            raise IndexFileError(f"larger than {MAX_INDEX_BYTES >> 20} MiB")
        if not explicit and not data.startswith(MAGIC):
            return None  # another tool's file that happens to be named so: not ours to judge
        loaded = load_index(data, fp)
    except (ChuteError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if explicit:
            if owns:
                fp.close()
            if isinstance(exc, OSError):
                raise
            raise IndexFileError(f"{where}: {reason}") from None
        import warnings

        from ..errors import IndexFileWarning

        try:
            warnings.warn(f"{where}: {reason}; reading {name or 'the file'} without it", IndexFileWarning, stacklevel=3)
        except BaseException:  # warnings turned into errors: the file is not handed back
            if owns:
                fp.close()
            raise
        return None
    return IndexedGzipReader(fp, loaded, owns_fp=owns, name=name, index_name=where)


def _seekable(fp: Any) -> bool:
    try:
        return bool(fp.seekable())
    except (AttributeError, ValueError, OSError):
        return False


class ChuteReader(io.BufferedIOBase):
    """A readable, decompressing file object (like ``gzip.GzipFile`` in read mode).

    ``seek()`` works forward always (by decoding) and backward when the underlying file
    can seek (by decoding again from the start); ``seekable()`` tells which.
    """

    def __init__(
        self,
        fp: BinaryIO,
        *,
        format: str | None = None,
        owns_fp: bool = False,
        name: str = "",
        chunk_size: int = READ_CHUNK,
        raw: Any = None,
        **decoder_options: Any,
    ) -> None:
        """``raw``: the decoded bytes from elsewhere than one :class:`StreamDecoder`
        (:class:`chute.parallel.gzengine.EngineRaw`)."""
        super().__init__()
        self._fp = fp
        self._owns = owns_fp
        self.name = name
        self.mode = "rb"
        self._raw = (
            raw if raw is not None else DecodingRaw(fp, lambda: StreamDecoder(format, **decoder_options), chunk_size)
        )
        self._buffer = io.BufferedReader(self._raw, buffer_size=chunk_size)
        self._error: ChuteError | None = None  # met by read() after the bytes it returned

    @property
    def format(self) -> str | None:
        """The format being decoded (detected after the first read)."""
        return self._raw.decoder.format

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return _seekable(self._fp)

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all, if negative or None). A damaged stream, or data
        after its end, does not cost what was decoded before: the bytes decoded before
        the error are returned, and the next read raises it."""
        self._check_open()
        error = self._error
        if error is not None:
            self._error = None
            raise error
        # BufferedReader.read gathers several raw reads and drops them all if one
        # raises; read1 makes at most one, so nothing gathered here is lost
        parts: list[bytes] = []
        got = 0
        try:
            while size is None or size < 0 or got < size:
                part = self._buffer.read1(-1 if size is None or size < 0 else size - got)
                if not part:
                    break
                parts.append(part)
                got += len(part)
        except ChuteError as exc:
            if not parts:
                raise
            self._error = exc
        return b"".join(parts)

    def read1(self, size: int = -1) -> bytes:
        self._check_open()
        error = self._error
        if error is not None:
            self._error = None
            raise error
        return self._buffer.read1(size)

    def readinto(self, b: Any) -> int:
        self._check_open()
        view = memoryview(b).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readinto1(self, b: Any) -> int:
        self._check_open()
        return self._buffer.readinto1(b)

    def peek(self, size: int = 0) -> bytes:
        self._check_open()
        return self._buffer.peek(size)

    def readline(self, size: int | None = -1) -> bytes:
        self._check_open()
        return self._buffer.readline(size)

    def tell(self) -> int:
        self._check_open()
        return self._buffer.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        current = self._buffer.tell()
        if whence == io.SEEK_CUR:
            offset += current
        elif whence == io.SEEK_END:
            raise io.UnsupportedOperation("cannot seek from the end of a compressed stream")
        elif whence != io.SEEK_SET:
            raise ValueError(f"invalid whence ({whence})")
        if offset < 0:
            raise ValueError("negative seek position")
        if offset < current:
            if not self.seekable():
                raise io.UnsupportedOperation("cannot seek backward in a non-seekable stream")
            # detach: a dropped BufferedReader would close the raw stream it still holds
            self._buffer.detach()
            self._raw.rewind()
            self._buffer = io.BufferedReader(self._raw, buffer_size=self._raw._chunk)
            current = 0
        while current < offset:
            skipped = self._buffer.read(min(offset - current, 1 << 20))
            if not skipped:
                break
            current += len(skipped)
        return current

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._raw.close()  # an engine's threads stop here
            if self._owns:
                self._fp.close()
        finally:
            super().close()

    def fileno(self) -> int:
        return self._fp.fileno()


class ChuteWriter(io.BufferedIOBase):
    """A writable, compressing file object.

    ``flush()`` makes everything written so far decodable by any reader (a sync point in
    the compressed stream, then a flush of the underlying file). ``close()`` writes the
    trailer. ``flush_every=N`` flushes after each N uncompressed bytes and
    ``flush_interval=S`` at most S seconds after data was written (a background timer
    checks, so a writer that goes quiet still delivers its last record).
    """

    def __init__(
        self,
        fp: BinaryIO,
        compressor: Compressor,
        *,
        owns_fp: bool = False,
        name: str = "",
        flush_every: int | None = None,
        flush_interval: float | None = None,
    ) -> None:
        super().__init__()
        if flush_every is not None and flush_every <= 0:
            raise ValueError("flush_every must be positive")
        if flush_interval is not None and flush_interval <= 0:
            raise ValueError("flush_interval must be positive")
        self._fp = fp
        self._comp = compressor
        self._owns = owns_fp
        self.name = name
        self.mode = "wb"
        self._pos = 0
        self._unflushed = 0
        self._flush_every = flush_every
        self._flush_interval = flush_interval
        import threading

        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._timer: threading.Thread | None = None
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._finished = False
        if flush_interval is not None:
            self._timer = threading.Thread(target=self._timer_loop, name="chute-flush", daemon=True)
            self._timer.start()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to closed file")
        self._raise_timer_error()
        view = memoryview(data).cast("B")
        n = len(view)
        with self._lock:
            out = self._comp.compress(view)
            if out:
                write_all(self._fp, out)
            self._pos += n
            self._unflushed += n
            due = (self._flush_every is not None and self._unflushed >= self._flush_every) or (
                self._flush_interval is not None and time.monotonic() - self._last_flush >= self._flush_interval
            )
            if due:
                self._flush_locked(FlushMode.SYNC)
        return n

    def _flush_locked(self, mode: FlushMode) -> None:
        out = self._comp.flush(mode)
        if out:
            write_all(self._fp, out)
        flush_all(self._fp)
        self._unflushed = 0
        self._last_flush = time.monotonic()

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> None:
        """Make everything written so far decodable (``FULL``: also a restart point)."""
        if self.closed or self._finished:
            return
        self._raise_timer_error()
        with self._lock:
            if self._unflushed or mode is FlushMode.FULL:
                self._flush_locked(mode)
            else:
                flush_all(self._fp)

    def _timer_loop(self) -> None:
        assert self._flush_interval is not None
        interval = self._flush_interval
        while not self._stop.wait(min(interval / 2, 0.05) if interval < 0.1 else interval / 4):
            with self._lock:
                if self._stop.is_set():
                    return
                if self._unflushed and time.monotonic() - self._last_flush >= interval:
                    try:
                        self._flush_locked(FlushMode.SYNC)
                    except BaseException as exc:  # reported on the next write/close
                        self._error = exc
                        return

    def _raise_timer_error(self) -> None:
        # Sticky: once the background flush failed, the stream is broken for good.
        if self._error is not None:
            raise self._error

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def close(self) -> None:
        if self.closed:
            return
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        try:
            with self._lock:
                self._raise_timer_error()
                self._finished = True
                out = self._comp.finish()
                if out:
                    write_all(self._fp, out)
                flush_all(self._fp)
        finally:
            try:
                if self._owns:
                    self._fp.close()
            finally:
                closer = getattr(self._comp, "close", None)
                if closer is not None:
                    closer()
                super().close()

    def fileno(self) -> int:
        return self._fp.fileno()

    def abort(self) -> None:
        """Close without finishing the stream, where the output can be dropped (a URL:
        no object appears); elsewhere the same as :meth:`close`."""
        drop = getattr(self._fp, "abort", None) if self._owns else None
        if drop is None or self.closed:
            self.close()
            return
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        self._finished = True  # io's close() calls flush(): nothing more goes out
        try:
            drop()
        finally:
            closer = getattr(self._comp, "close", None)
            if closer is not None:
                closer()
            super().close()

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class _AbortingText(io.TextIOWrapper):
    """Text over a :class:`ChuteWriter`: leaving its ``with`` block by an exception drops
    the output where it can be dropped (:meth:`ChuteWriter.abort`)."""

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            writer = self.buffer
            if isinstance(writer, ChuteWriter):
                writer.abort()  # the wrapper's close() then finds it closed and does nothing
            self.close()


if TYPE_CHECKING:  # the overloads tell a type checker what each mode returns

    @overload
    def open(
        file: _File,
        mode: Literal["r", "rb"] = "rb",
        *,
        format: str | None = None,
        level: int | None = None,
        options: dict[int, int] | None = None,
        zstd_dict: Any = None,
        threads: int | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        chunk_size: int = READ_CHUNK,
        members: str = "all",
        trailing: str = "error",
        max_output: int | None = None,
        memory_limit: int | None = None,
        flush_every: int | None = None,
        flush_interval: float | None = None,
        index: str | os.PathLike[str] | bool | None = None,
        storage_options: dict[str, Any] | None = None,
        **codec_options: Any,
    ) -> ChuteReader | SeekableReader | IndexedGzipReader: ...

    @overload
    def open(
        file: _File,
        mode: Literal["w", "wb", "a", "ab", "x", "xb"],
        *,
        format: str | None = None,
        level: int | None = None,
        options: dict[int, int] | None = None,
        zstd_dict: Any = None,
        threads: int | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        chunk_size: int = READ_CHUNK,
        members: str = "all",
        trailing: str = "error",
        max_output: int | None = None,
        memory_limit: int | None = None,
        flush_every: int | None = None,
        flush_interval: float | None = None,
        index: str | os.PathLike[str] | bool | None = None,
        storage_options: dict[str, Any] | None = None,
        **codec_options: Any,
    ) -> ChuteWriter: ...

    @overload
    def open(
        file: _File,
        mode: Literal["rt", "wt", "at", "xt"],
        *,
        format: str | None = None,
        level: int | None = None,
        options: dict[int, int] | None = None,
        zstd_dict: Any = None,
        threads: int | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        chunk_size: int = READ_CHUNK,
        members: str = "all",
        trailing: str = "error",
        max_output: int | None = None,
        memory_limit: int | None = None,
        flush_every: int | None = None,
        flush_interval: float | None = None,
        index: str | os.PathLike[str] | bool | None = None,
        storage_options: dict[str, Any] | None = None,
        **codec_options: Any,
    ) -> io.TextIOWrapper: ...

    @overload
    def open(
        file: _File,
        mode: str,
        *,
        format: str | None = None,
        level: int | None = None,
        options: dict[int, int] | None = None,
        zstd_dict: Any = None,
        threads: int | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        chunk_size: int = READ_CHUNK,
        members: str = "all",
        trailing: str = "error",
        max_output: int | None = None,
        memory_limit: int | None = None,
        flush_every: int | None = None,
        flush_interval: float | None = None,
        index: str | os.PathLike[str] | bool | None = None,
        storage_options: dict[str, Any] | None = None,
        **codec_options: Any,
    ) -> ChuteReader | SeekableReader | IndexedGzipReader | ChuteWriter | io.TextIOWrapper: ...


def open(
    file: _File,
    mode: str = "rb",
    *,
    format: str | None = None,
    level: int | None = None,
    options: dict[int, int] | None = None,
    zstd_dict: Any = None,
    threads: int | None = None,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    chunk_size: int = READ_CHUNK,
    members: str = "all",
    trailing: str = "error",
    max_output: int | None = None,
    memory_limit: int | None = None,
    flush_every: int | None = None,
    flush_interval: float | None = None,
    index: str | os.PathLike[str] | bool | None = None,
    storage_options: dict[str, Any] | None = None,
    **codec_options: Any,
) -> ChuteReader | SeekableReader | IndexedGzipReader | ChuteWriter | io.TextIOWrapper:
    """Open a compressed file for reading or writing, like ``gzip.open``.

    Returns a binary reader (:class:`ChuteReader`, or a
    :class:`~chute.parallel.seekable.SeekableReader` for the seekable layouts), a
    :class:`ChuteWriter`, or in text modes an ``io.TextIOWrapper`` over one of them.

    ``file`` is a path, a URL that fsspec opens (``s3://bucket/key``, ``memory://x``; with
    ``storage_options`` for its filesystem, and the ``chute[cloud]`` extra installed), or
    a binary file object (pipes and sockets included: nothing seeks). A URL written
    (``wb``, ``xb``; not ``ab``) appears whole when the file is closed, and not at all if
    the ``with`` block around it ends with an exception (see :mod:`chute.streams.remote`).
    Modes: ``rb wb ab xb`` and ``rt wt at xt`` (text modes wrap an
    ``io.TextIOWrapper`` with ``encoding``, ``errors``, ``newline``).

    Reading detects the format from the first bytes unless ``format`` is given, and
    decodes concatenated members (``members``/``trailing`` choose the policy, see
    :class:`~chute.codecs._stream.StreamDecoder`). ``max_output`` caps the decompressed
    size and ``memory_limit`` the zstd/xz window. Writing uses ``format``, else the path's
    suffix, else zstd; ``ab`` appends a new member, which every reader of the
    concatenable formats decodes after the old ones. Extra keyword arguments go to the
    codec (``block_size`` for gzip, ``checksum`` for zstd and lz4...).

    ``threads`` (2 or more, 0 = every core) also reads a big gzip file that splits no other
    way (one member, as ``gzip`` and pigz write) on the gzip engine's threads, when it is
    installed and pays (:func:`chute.parallel.gzengine.usable`), with the bytes and errors
    of one thread.

    zstd only, as ``compression.zstd.open`` takes them (whose keywords are a subset of
    these): ``zstd_dict`` is a dictionary (a ``ZstdDict``, bytes, or the path of a
    dictionary file; see :mod:`chute.codecs.zstd_dict`), for writing and reading;
    ``options`` maps ``CompressionParameter`` (writing) or ``DecompressionParameter``
    (reading) to values.

    gzip, reading: ``index`` is the path of an index written by ``chute index`` (see
    docs/gzip-index.md), whose checkpoints make ``seek()`` cost one checkpoint's decode;
    an index that is damaged or made for another file raises
    :class:`~chute.errors.IndexFileError`. By default (``None``) the index beside a file
    opened by path (``FILE.gz.idx``) is used when there is one, and one that is refused
    only warns (the file is then read from its start; a file there that is no chute index
    at all is ignored); ``False`` ignores it. The index is
    used with the default reading options only (``members``, ``trailing``, ``max_output``
    and ``memory_limit`` read the file without it).
    """
    text = mode in _TEXT_MODES
    bmode = _TEXT_MODES.get(mode) or _BINARY_MODES.get(mode)
    if bmode is None:
        raise ValueError(f"invalid mode {mode!r}")
    if not text and (encoding is not None or errors is not None or newline is not None):
        raise ValueError("encoding, errors and newline are for text modes only")
    binary: ChuteReader | ChuteWriter
    if bmode == "rb":
        if level is not None or flush_every is not None or flush_interval is not None:
            raise ValueError("level, flush_every and flush_interval are for writing")
        plain = members == "all" and trailing == "error" and max_output is None and memory_limit is None
        plain = plain and zstd_dict is None and options is None
        if index is not None and index is not False:
            if not isinstance(index, (str, os.PathLike)):
                raise TypeError("index must be a path, None or False")
            if not plain or format not in (None, "gzip"):
                raise ValueError("index= reads gzip with the default options only (no members, trailing, limits)")
        fp, owns, name = _open_file(file, "rb", storage_options)
        # --- a gzip index (given, or beside the file) -> seeks cost one checkpoint's decode
        indexed = None
        if plain and format in (None, "gzip") and index is not False:
            indexed = _open_indexed(fp, file, index, owns, name)
        if indexed is not None:
            return io.TextIOWrapper(indexed, io.text_encoding(encoding), errors, newline) if text else indexed
        # --- seekable files: a seek table or BGZF members -> O(1) seeks.
        if plain and format in (None, "zstd", "gzip"):
            from ..parallel.seekable import open_seekable

            seekable_reader = open_seekable(fp, format, owns_fp=owns, name=name)
            if seekable_reader is not None and text:
                return io.TextIOWrapper(seekable_reader, io.text_encoding(encoding), errors, newline)
            if seekable_reader is not None:
                return seekable_reader
        # --- end of the seekable branch
        raw = None
        if plain and format in (None, "gzip") and threads is not None and threads != 1:
            # any other gzip file, big and regular: the engine's threads (chute[gzip])
            from ..parallel import gzengine
            from ..parallel.pool import resolve_threads

            n = resolve_threads(threads)
            if gzengine.usable(fp, n):
                raw = gzengine.EngineRaw(fp, n, format=format, chunk_size=chunk_size)
        binary = ChuteReader(
            fp,
            format=format,
            owns_fp=owns,
            name=name,
            chunk_size=chunk_size,
            members=members,
            trailing=trailing,
            max_output=max_output,
            memory_limit=memory_limit,
            raw=raw,
            **_zstd_keywords(zstd_dict, options),
        )
    else:
        codec = resolve_format(format, file)
        if bmode == "ab" and not codec.concatenable:
            raise ValueError(f"cannot append to a {codec.name} stream (members cannot be concatenated)")
        codec_options.update(_zstd_keywords(zstd_dict, options))
        comp = new_compressor(codec, level, threads=threads, **codec_options)
        fp, owns, name = _open_file(file, bmode, storage_options)
        binary = ChuteWriter(fp, comp, owns_fp=owns, name=name, flush_every=flush_every, flush_interval=flush_interval)
    if text:
        # With a flush policy, text must reach the writer at once: TextIOWrapper's own
        # buffer would otherwise hold small writes where the policy cannot see them.
        policy = flush_every is not None or flush_interval is not None
        wrapper = _AbortingText if isinstance(binary, ChuteWriter) else io.TextIOWrapper
        return wrapper(
            binary, encoding=io.text_encoding(encoding), errors=errors, newline=newline, write_through=policy
        )
    return binary
