"""chute: streaming compression and archiving in constant memory.

The public names are listed in ``__all__``; everything else is private. Imports are
lazy where they cost: ``import chute`` loads no compression backend.
"""

from __future__ import annotations

from typing import IO, Any

from . import errors
from .api import compress, copy, decompress, detect
from .codecs import FlushMode
from .errors import (
    ArchiveError,
    ChecksumError,
    ChuteError,
    CorruptStreamError,
    FormatError,
    LimitExceededError,
    TrailingDataError,
    TruncatedStreamError,
    UnknownFormatError,
    UnsafeArchiveError,
)
from .fileobj import ChuteReader, ChuteWriter, open
from .pump import Stats

__version__ = "0.1.0"

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
    "ChuteReader",
    "ChuteWriter",
    "errors",
    "ChuteError",
    "FormatError",
    "UnknownFormatError",
    "CorruptStreamError",
    "ChecksumError",
    "TrailingDataError",
    "TruncatedStreamError",
    "LimitExceededError",
    "ArchiveError",
    "UnsafeArchiveError",
]


def formats() -> list[str]:
    """Names of every supported format."""
    from . import codecs

    return codecs.names()


def __getattr__(name: str) -> Any:  # pragma: no cover - trivial
    raise AttributeError(f"module 'chute' has no attribute {name!r}")


_ = IO  # keep the typing import used for re-export tools
