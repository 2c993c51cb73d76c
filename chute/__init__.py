"""chute: streaming compression and archiving in constant memory.

The public names are listed in ``__all__``; everything else is private. They are loaded
on first use (PEP 562), so ``import chute`` and ``chute --version`` load no compression
backend and almost no standard library: a pipe tool must start fast.
"""

from __future__ import annotations

import sys

from ._version import __version__

# typing's TYPE_CHECKING without importing typing (about 3 ms of start-up, with the modules
# it pulls in): type checkers treat any TYPE_CHECKING constant the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "__version__",
    "open",
    "compress",
    "decompress",
    "copy",
    "detect",
    "formats",
    "FlushMode",
    "Stats",
    "StreamDecoder",
    "ChuteReader",
    "ChuteWriter",
    "errors",
    "records",
    "dictionaries",
    "RecordCodec",
    "DictionaryError",
    "ChuteError",
    "FormatError",
    "UnknownFormatError",
    "CorruptStreamError",
    "ChecksumError",
    "TrailingDataError",
    "TruncatedStreamError",
    "LimitExceededError",
    "IndexFileError",
    "ArchiveError",
    "UnsafeArchiveError",
]

# public name -> module that defines it
_LAZY = {
    "open": "api.fileobj",
    "ChuteReader": "api.fileobj",
    "ChuteWriter": "api.fileobj",
    "compress": "api.functions",
    "decompress": "api.functions",
    "copy": "api.functions",
    "detect": "api.functions",
    "FlushMode": "codecs",
    "Stats": "streams.pump",
    "StreamDecoder": "codecs._stream",
    "ChuteError": "errors",
    "FormatError": "errors",
    "UnknownFormatError": "errors",
    "CorruptStreamError": "errors",
    "ChecksumError": "errors",
    "TrailingDataError": "errors",
    "TruncatedStreamError": "errors",
    "LimitExceededError": "errors",
    "IndexFileError": "errors",
    "ArchiveError": "errors",
    "UnsafeArchiveError": "errors",
    "DictionaryError": "errors",
    "RecordCodec": "records",
}

# public submodule name -> module
_SUBMODULES = {"errors": "errors", "records": "records", "dictionaries": "dictionaries"}

if TYPE_CHECKING:
    from . import dictionaries, errors, records
    from .api.fileobj import ChuteReader, ChuteWriter, open
    from .api.functions import compress, copy, decompress, detect
    from .codecs import FlushMode
    from .codecs._stream import StreamDecoder
    from .errors import (
        ArchiveError,
        ChecksumError,
        ChuteError,
        CorruptStreamError,
        DictionaryError,
        FormatError,
        IndexFileError,
        LimitExceededError,
        TrailingDataError,
        TruncatedStreamError,
        UnknownFormatError,
        UnsafeArchiveError,
    )
    from .records import RecordCodec
    from .streams.pump import Stats


def formats() -> list[str]:
    """Names of every supported format."""
    from . import codecs

    return codecs.names()


def _submodule(name: str) -> Any:
    # __import__ rather than importlib.import_module: importing importlib costs start-up
    full = f"{__name__}.{name}"
    __import__(full)
    return sys.modules[full]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return _submodule(_SUBMODULES[name])
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chute' has no attribute {name!r}")
    value = getattr(_submodule(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
