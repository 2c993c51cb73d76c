"""Where a batch reads and writes: local paths through chute's own files, URLs through fsspec.

Everything the batch package does to a file goes through the few functions here, so that
one place decides how a source is opened and how an output appears: a local output is an
:class:`~chute.streams.atomic.AtomicFile` (a temporary file renamed on success, nothing left
on failure); a URL (``s3://...``, ``memory://...``, ``file://...``) is read and written
through :mod:`chute.streams.remote` (fsspec must be installed), whose uploads also appear
whole or not at all.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any, BinaryIO

__all__ = ["is_url", "open_file", "stat", "output_size", "remove", "filesystem"]


def is_url(path: str) -> bool:
    """Whether ``path`` names a file through fsspec (``PROTOCOL://...``)."""
    from ..streams.remote import is_url as remote_url

    return remote_url(path)


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path within it."""
    try:
        import fsspec
    except ImportError:
        from ..errors import ChuteError

        raise ChuteError(f"{url}: URLs need fsspec (pip install 'chute[dask]' or fsspec)") from None
    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


def open_file(path: str, mode: str) -> AbstractContextManager[BinaryIO]:
    """``path`` opened in ``mode`` (``"rb"`` or ``"wb"``), as a context manager.

    Writing a local path creates the missing folders and writes atomically (overwriting
    what was there only once the new file is complete); an exception inside the ``with``
    leaves the old file, or no file, in place.
    """
    if mode not in ("rb", "wb"):
        raise ValueError(f"invalid mode {mode!r}")
    if is_url(path):
        fs, inner = filesystem(path)
        from ..streams import remote

        if mode == "rb":
            return remote.open_input(path)  # type: ignore[return-value]
        parent = os.path.dirname(inner.rstrip("/"))
        if parent:
            fs.makedirs(parent, exist_ok=True)
        return remote.AtomicUpload(path, overwrite=True)  # type: ignore[return-value]
    if mode == "rb":
        return open(path, "rb")
    from ..streams.atomic import AtomicFile

    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    return AtomicFile(path, overwrite=True)


def stat(path: str) -> tuple[int, int | str]:
    """``(size, version)`` of ``path``: the version is the modification time in
    nanoseconds for a local file, fsspec's ``ukey`` (a hash of the object's metadata) for a
    URL. A source whose size or version changed is processed again on resume."""
    if is_url(path):
        fs, inner = filesystem(path)
        info = fs.info(inner)
        return int(info["size"]), str(fs.ukey(inner))
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def output_size(path: str) -> int | None:
    """The size of the output ``path``, ``None`` when it does not exist."""
    try:
        if is_url(path):
            fs, inner = filesystem(path)
            return int(fs.info(inner)["size"])
        return os.stat(path).st_size
    except (FileNotFoundError, NotADirectoryError):
        return None


def remove(path: str) -> None:
    """Remove the output ``path`` if it exists."""
    try:
        if is_url(path):
            fs, inner = filesystem(path)
            fs.rm(inner)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
