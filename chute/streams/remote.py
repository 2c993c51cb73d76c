"""Inputs and outputs named by URL, read and written through fsspec.

A URL is a name that starts with ``PROTOCOL://`` (``s3://bucket/key``, ``gs://``,
``memory://``, ``file://``...) or is an fsspec chain (``simplecache::s3://...``), and is not
an existing local path. :func:`is_url` tells one by looking at the string alone: fsspec is
imported only when a URL is used, so commands on local files start as fast as before.

- :func:`open_input`: a URL opened for reading, in ranged requests of :data:`BLOCK_SIZE`
  with one block read ahead (memory: about two blocks per open input).
- :class:`AtomicUpload`: a URL opened for writing that appears whole or not at all. Output
  that stays under one part (:data:`PART_SIZE`) is sent in one request at the end; larger
  output goes up as a multipart upload that is completed only on success and aborted on an
  error, SIGINT or SIGTERM. A process killed outright (SIGKILL) never completes its upload,
  so no object appears either (the parts already sent stay with the store until an
  abort-incomplete-multipart-upload lifecycle rule removes them).
- :func:`expand`: a glob (``*``, ``?``, ``[``) to the sorted URLs it matches.
- :func:`info` and :func:`remove`: what ``--rm`` and the size checks need.

Every failure is an :class:`OSError` naming the URL (:class:`chute.errors.RemoteError` when
the store's own exception is not one), so callers report it like a local file's error.
``storage_options`` are passed to the filesystem as fsspec takes them (``endpoint_url``,
``anon``, ``key``...; for a chain, keyed by protocol).
"""

from __future__ import annotations

import errno
import os

from ..errors import RemoteError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

__all__ = [
    "BLOCK_SIZE",
    "PART_SIZE",
    "is_url",
    "open_input",
    "AtomicUpload",
    "expand",
    "info",
    "remove",
    "parse_storage_option",
]

#: Bytes per ranged read of an input; one block more is read ahead.
BLOCK_SIZE = 8 << 20
#: Output smaller than this goes up in one request; larger, in parts of at least this size
#: (S3 wants 5 MiB at least). Parts grow with the output to stay under S3's 10,000 parts.
PART_SIZE = 8 << 20
_PARTS_WANTED = 1000

_PROTOCOL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")
_GLOB_CHARS = "*?["
EXTRA = "pip install 'chute[cloud]'"


def is_url(name: object) -> bool:
    """Whether ``name`` is a URL for fsspec: ``PROTOCOL://...`` or ``PROTOCOL::...``
    (``PROTOCOL`` two characters or more: ``C://`` is a Windows drive), and no local file,
    folder or link of that name exists."""
    if not isinstance(name, str):
        return False
    cut = name.find("://")
    chain = name.find("::")
    if chain != -1 and (cut == -1 or chain < cut):
        cut = chain
    if cut < 2 or not _PROTOCOL_CHARS.issuperset(name[:cut]) or not name[0].isalpha():
        return False
    return not os.path.lexists(name)


def parse_storage_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` -> ``(KEY, VALUE)``: the value as JSON where it parses (``true``,
    ``3``, ``{"a": 1}``), else the string as given."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    import json

    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _filesystem(url: str, storage_options: dict[str, Any] | None) -> tuple[Any, str]:
    """``(filesystem, path inside it)`` for ``url``."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise RemoteError(url, f"reading and writing URLs needs fsspec: {EXTRA}") from None
    try:
        fs, path = url_to_fs(url, **(storage_options or {}))
    except ImportError as exc:  # the protocol's package (s3fs, gcsfs...) is missing
        raise RemoteError(url, f"{_reason(exc)} ({EXTRA} for s3://)") from None
    except Exception as exc:
        raise _as_oserror(exc, url) from None
    return fs, str(path)


def _reason(exc: BaseException) -> str:
    """``exc`` in one line, lower-case first."""
    text = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or type(exc).__name__
    text = " ".join(text.split())
    return text[:1].lower() + text[1:]


def _as_oserror(exc: BaseException, url: str) -> OSError:
    """``exc`` as an OSError naming ``url``: its own errno kept where it has one."""
    if isinstance(exc, RemoteError):
        return exc
    if isinstance(exc, OSError):
        if isinstance(exc, FileNotFoundError):
            return FileNotFoundError(errno.ENOENT, "no such file or object", url)
        if exc.errno is not None:
            return type(exc)(exc.errno, _reason(exc), url)
    return RemoteError(url, _reason(exc))


class _Guarded:
    """A remote file whose every failure is an OSError naming the URL (fsspec's and the
    stores' libraries raise their own exceptions, which the callers do not know)."""

    def __init__(self, file: Any, url: str) -> None:
        self._file = file
        self.name = url

    def _fail(self, exc: Exception) -> OSError:
        return _as_oserror(exc, self.name)

    def close(self) -> None:
        try:
            self._file.close()
        except Exception as exc:
            raise self._fail(exc) from None

    @property
    def closed(self) -> bool:
        return bool(self._file.closed)

    def __enter__(self) -> _Guarded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RemoteReader(_Guarded):
    """A URL open for reading: ``read``, ``readinto``, ``seek``, ``tell``, ``size``."""

    def read(self, size: int = -1) -> bytes:
        try:
            return bytes(self._file.read(size))
        except Exception as exc:
            raise self._fail(exc) from None

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        try:
            return int(self._file.seek(offset, whence))
        except Exception as exc:
            raise self._fail(exc) from None

    def tell(self) -> int:
        return int(self._file.tell())

    @property
    def size(self) -> int | None:
        """Bytes in the object, when the store says (it does for S3, GCS, files)."""
        size = getattr(self._file, "size", None)
        return size if isinstance(size, int) else None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def flush(self) -> None:
        """Nothing to flush (``io.BufferedReader`` calls it on close)."""

    def writable(self) -> bool:
        return False


def open_input(url: str, storage_options: dict[str, Any] | None = None) -> RemoteReader:
    """``url`` opened for reading (a missing object: ``FileNotFoundError`` naming it)."""
    fs, path = _filesystem(url, storage_options)
    try:
        if fs.isdir(path):
            raise IsADirectoryError(errno.EISDIR, "is a directory", url)
        f = fs.open(path, "rb", block_size=BLOCK_SIZE, cache_type="readahead")
    except Exception as exc:
        raise _as_oserror(exc, url) from None
    return RemoteReader(f, url)


class AtomicUpload:
    """Context manager: ``with AtomicUpload(url) as f: f.write(...)``; ``url`` appears on a
    clean exit, whole, and never after an exception (see the module's notes).

    Without ``overwrite`` an existing object is ``FileExistsError`` before anything is
    written (a check, not a lock: an object written by someone else meanwhile is replaced).
    """

    def __init__(self, url: str, *, overwrite: bool = False, storage_options: dict[str, Any] | None = None) -> None:
        self.url = url
        self.name = url
        self.overwrite = overwrite
        self._fs, self._path = _filesystem(url, storage_options)
        self._pending = bytearray()  # output not yet handed to fsspec (below one part)
        self._file: Any = None  # the fsspec file, once the output outgrew one part
        self._written = 0
        self._done = False

    def __enter__(self) -> AtomicUpload:
        try:
            exists = self._fs.exists(self._path)
        except Exception as exc:
            raise _as_oserror(exc, self.url) from None
        if exists and not self.overwrite:
            raise FileExistsError(errno.EEXIST, "already exists", self.url)
        return self

    def write(self, data: Any) -> int:
        if self._done:
            raise ValueError("write to a finished upload")
        with memoryview(data) as view, view.cast("B") as flat:
            n = len(flat)
            self._written += n
            try:
                if self._file is None:
                    self._pending += flat
                    if len(self._pending) >= PART_SIZE:
                        self._start_multipart()
                else:
                    # parts grow with the output: S3 takes at most 10,000 parts
                    self._file.blocksize = max(PART_SIZE, self._written // _PARTS_WANTED)
                    self._file.write(flat)
            except Exception as exc:
                raise _as_oserror(exc, self.url) from None
        return n

    def _start_multipart(self) -> None:
        self._file = self._fs.open(self._path, "wb", block_size=PART_SIZE, autocommit=False)
        pending, self._pending = self._pending, bytearray()
        self._file.write(pending)

    def flush(self) -> None:
        """Nothing: the parts go up as they fill, the rest at :meth:`commit`."""

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._written

    @property
    def closed(self) -> bool:
        return self._done

    def commit(self) -> None:
        """Make the object appear: one request for small output, else the last part and
        the completion of the multipart upload."""
        if self._done:
            return
        try:
            if self._file is None:
                self._fs.pipe_file(self._path, bytes(self._pending))
            else:
                self._file.close()  # sends the last part; autocommit=False: not completed yet
                self._file.commit()
        except BaseException as exc:
            self.abort()
            if isinstance(exc, Exception):
                raise _as_oserror(exc, self.url) from None
            raise
        self._done = True
        self._pending = bytearray()

    def abort(self) -> None:
        """Leave no object: abort the multipart upload (if one started), drop the rest."""
        if self._done:
            return
        self._done = True
        self._pending = bytearray()
        f, self._file = self._file, None
        if f is not None:
            # discard() first: close() alone would send the last part (not completing the
            # upload either, but for nothing). After discard(), close() only releases what
            # the file holds (a local temporary file's descriptor); an S3 file, its buffer
            # gone, fails there, and is marked closed all the same.
            for step in (f.discard, f.close):
                try:
                    step()
                except Exception:  # the upload is never completed either way
                    pass

    def close(self) -> None:
        """Commit (what ``close`` means to a file: the data written is kept)."""
        self.commit()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def expand(pattern: str, storage_options: dict[str, Any] | None = None) -> list[str]:
    """The URLs ``pattern`` stands for, sorted: itself if it has no glob characters, else
    every object its glob matches (none: ``FileNotFoundError`` naming the pattern)."""
    head, sep, last = pattern.rpartition("::")
    if not any(c in last for c in _GLOB_CHARS):
        return [pattern]
    fs, path = _filesystem(last, storage_options)  # a chain's glob is its last URL's
    try:
        found = sorted(p for p in fs.glob(path) if not fs.isdir(p))
    except Exception as exc:
        raise _as_oserror(exc, pattern) from None
    if not found:
        raise FileNotFoundError(errno.ENOENT, "no object matches", pattern)
    return [head + sep + fs.unstrip_protocol(p) for p in found]


def info(url: str, storage_options: dict[str, Any] | None = None) -> tuple[int | None, bool]:
    """``(size, is_dir)`` of ``url``: ``FileNotFoundError`` if there is nothing there."""
    fs, path = _filesystem(url, storage_options)
    try:
        details = fs.info(path)
    except Exception as exc:
        raise _as_oserror(exc, url) from None
    size = details.get("size")
    return (size if isinstance(size, int) else None), details.get("type") == "directory"


def remove(url: str, storage_options: dict[str, Any] | None = None) -> None:
    """Delete the object ``url``."""
    fs, path = _filesystem(url, storage_options)
    try:
        fs.rm_file(path)
    except Exception as exc:
        raise _as_oserror(exc, url) from None
