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
    "IndexFileError",
    "ArchiveError",
    "UnsafeArchiveError",
    "ArchiveWarning",
    "UnverifiedDataWarning",
    "IndexFileWarning",
    "RemoteError",
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
    """Bytes that are not a valid member follow the last complete member.

    ``format`` names the stream's format when it is known (the command line's default
    policy for trailing data depends on it)."""

    format: str | None = None


class TruncatedStreamError(ChuteError, EOFError):
    """The input ended before the end of the compressed stream."""


class LimitExceededError(ChuteError, ValueError):
    """A configured limit (output size, window size, member count...) was exceeded.

    ``setting`` names the keyword argument that raises the limit (``"memory_limit"``),
    where one does: ``str()`` then ends with "raise it with memory_limit=", and
    :meth:`advice` words it for another interface (the command line names its option).
    """

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message, setting)
        self.message = message
        self.setting = setting

    def __str__(self) -> str:
        return self.advice(f"{self.setting}=" if self.setting else None)

    def advice(self, how: str | None) -> str:
        """The message, advising to raise the limit with ``how`` (none if ``None``)."""
        return f"{self.message}; raise it with {how}" if how and self.setting else self.message


class DictionaryError(CorruptStreamError):
    """A zstd frame needs a dictionary that was not given, or another one; or a file given
    as a dictionary is not one. (A corrupt stream to whoever lacks the dictionary: a damaged
    frame header may name a dictionary too.)"""


class IndexFileError(ChuteError, ValueError):
    """An index of a compressed file (a gzip sidecar index) is damaged, is not an index,
    or belongs to another file (or to this file before it changed)."""


class ArchiveError(ChuteError, ValueError):
    """An archive is malformed."""


class UnsafeArchiveError(ArchiveError):
    """An archive member would escape the target or is otherwise refused by policy."""


class ArchiveWarning(UserWarning):
    """Something in an archive was read the way other tools read it, but is worth a word:
    an unknown member type read as a regular file, for instance. Not an error: given to
    the reader's ``on_warning`` callback, else to :mod:`warnings` with this category."""


class UnverifiedDataWarning(UserWarning):
    """Data was decoded but could not be verified: an xz stream whose integrity check is
    of a type the decoder does not know (``xz -d`` warns the same way and exits 2). A
    warning, not an error: turn it into one with ``warnings.simplefilter("error",
    UnverifiedDataWarning)``."""


class IndexFileWarning(UserWarning):
    """An index found beside a compressed file was refused (damaged, or made for another
    file): the file is read without it, from its start."""


class RemoteError(OSError):
    """A URL could not be opened, read or written through fsspec: fsspec or the protocol's
    package is missing, or the store failed in a way that is not already an ``OSError``.
    ``filename`` is the URL; ``str()`` is ``URL: reason``. An I/O error, not bad input,
    hence not a :class:`ChuteError`."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(5, reason, url)  # EIO

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"
