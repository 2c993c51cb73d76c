"""Log handlers that compress: rotated files in the background, or the live file itself.

This package is ``chute.logging``; chute uses absolute imports, so ``import logging``
anywhere (inside chute too) still means the standard library.

The compression level parameter is named ``compresslevel`` (like :func:`gzip.open`), not
``level``: :class:`logging.Handler` already has ``level`` (the log level, ``setLevel``), and a
drop-in replacement must not change what an existing keyword means.

Crash safety of the rotating handlers: a rotated file is first renamed (a plain file, never
lost), then compressed into a temporary file that is renamed into place
(:class:`chute.streams.atomic.AtomicFile`), and only then is the plain file removed. A crash at any
moment leaves either the plain rotated file or a complete compressed one; a handler
finishes the compressions that a killed process left pending and removes its torn
temporary files.

Modules: :mod:`~chute.logging.rotating` (size), :mod:`~chute.logging.timed` (time),
:mod:`~chute.logging.compressed` (straight into a compressed file),
:mod:`~chute.logging.endmark` (the end marker of gzip logs).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: `chute -t` imports endmark, and must start fast
if TYPE_CHECKING:
    from .compressed import CompressedFileHandler
    from .endmark import check_end_marker
    from .rotating import CompressingRotatingFileHandler
    from .timed import CompressingTimedRotatingFileHandler

__all__ = [
    "CompressedFileHandler",
    "CompressingRotatingFileHandler",
    "CompressingTimedRotatingFileHandler",
    "check_end_marker",
]

_HOME = {
    "CompressedFileHandler": "compressed",
    "CompressingRotatingFileHandler": "rotating",
    "CompressingTimedRotatingFileHandler": "timed",
    "check_end_marker": "endmark",
}


def __getattr__(name: str) -> object:
    # The handlers load the standard library's logging (and re, threading...) when first
    # used, not when ``chute -t`` loads :mod:`chute.logging.endmark` through this package.
    if name in _HOME:
        from importlib import import_module

        value = getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
