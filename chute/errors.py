"""One exception tree for the whole package.

Every error caused by *input* (a corrupt stream, a hostile archive, a limit) is a
:class:`ChuteError`. Each leaf also subclasses the builtin that callers already catch,
so ``except ValueError`` or ``except EOFError`` around a decompression keeps working.
Misuse of the API (a wrong type, an unknown option) raises plain ``TypeError`` or
``ValueError`` at the call instead.
"""

from __future__ import annotations

__all__ = [
    "ChuteError",
    "FormatError",
    "UnknownFormatError",
    "CorruptStreamError",
    "ChecksumError",
    "TrailingDataError",
    "TruncatedStreamError",
    "LimitExceededError",
    "DictionaryError",
    "ArchiveError",
    "UnsafeArchiveError",
]


class ChuteError(Exception):
    """Root of every error chute raises for bad input or a refused operation."""


class FormatError(ChuteError, ValueError):
    """The data is not in a format chute can handle (or not the one asked for)."""


class UnknownFormatError(FormatError):
    """No known format matches the first bytes of the stream."""


class CorruptStreamError(ChuteError, ValueError):
    """The compressed data is damaged: invalid codes, bad header, bad checksum."""


class ChecksumError(CorruptStreamError):
    """The data decoded, but a checksum (CRC32, xxhash, length) does not match."""


class TrailingDataError(CorruptStreamError):
    """Bytes that are not a valid member follow the last complete member."""


class TruncatedStreamError(ChuteError, EOFError):
    """The input ended before the end of the compressed stream."""


class LimitExceededError(ChuteError, ValueError):
    """A configured limit (output size, window size, member count...) was exceeded."""


class DictionaryError(CorruptStreamError):
    """A zstd frame needs a dictionary that was not given, or another one; or a file given
    as a dictionary is not one. (A corrupt stream to whoever lacks the dictionary: a damaged
    frame header may name a dictionary too.)"""


class ArchiveError(ChuteError, ValueError):
    """An archive is malformed."""


class UnsafeArchiveError(ArchiveError):
    """An archive member would escape the target or is otherwise refused by policy."""
