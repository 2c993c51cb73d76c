"""zstd dictionaries: loading, the Dictionary_ID of a frame, training.

A dictionary is given as a ``ZstdDict`` (from ``compression.zstd`` or ``backports.zstd``), as
bytes, or as the path of a file holding them (read once, when the compressor or decompressor
is made). Bytes that start with the dictionary magic number (``37 a4 30 ec``) are a *trained*
dictionary (header, entropy tables, content; its ID goes into every frame it compresses);
any other bytes are a *raw-content* dictionary (``is_raw=True``: the bytes are only history
to match against, the ID recorded in frames is 0), which is what ``zstd -D`` does with such a
file too.

Training (:func:`train`) wraps ``train_dict`` (libzstd's ``ZDICT_trainFromBuffer``, the
fastCover trainer that ``zstd --train`` runs) and, for a level other than the default,
``finalize_dict``, which recomputes the entropy tables for that level.
"""

from __future__ import annotations

import os

from ..errors import DictionaryError, LimitExceededError
from ._base import SKIPPABLE_MAGICS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = [
    "DICT_MAGIC",
    "MAX_DICT_SIZE",
    "as_zstd_dict",
    "frame_dictionary_id",
    "dictionary_id",
    "train",
]

#: The first bytes of a trained dictionary (RFC 8878 section 5, 0xEC30A437 little-endian).
DICT_MAGIC = b"\x37\xa4\x30\xec"
#: Largest dictionary file read from a path (zstd's trainer stops far below; raw-content
#: dictionaries for the web are whole resources).
MAX_DICT_SIZE = 128 << 20
_FRAME_MAGIC = b"\x28\xb5\x2f\xfd"
#: The repeat offsets ZDICT writes after the entropy tables (1, 4, 8 as 32-bit LE): where
#: the content of a dictionary it trained begins.
_ZDICT_REPCODES = b"\x01\x00\x00\x00\x04\x00\x00\x00\x08\x00\x00\x00"
DEFAULT_TRAIN_LEVEL = 3  # what ZDICT tunes for when told level 0


def _zstd() -> Any:
    """``compression.zstd`` or ``backports.zstd`` (the package: ``train_dict``,
    ``finalize_dict`` and ``ZstdDict`` live there; :mod:`chute.codecs.zstd` builds on
    this module, not the other way round)."""
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef,unused-ignore]
    return zstd


def as_zstd_dict(obj: Any, *, raw: bool | None = None) -> Any:
    """A ``ZstdDict`` from a ``ZstdDict`` (returned as is), a digested form of one
    (``d.as_digested_dict`` and friends, returned as is), bytes, or a path.

    ``raw``: ``None`` decides from the bytes (a trained dictionary if they start with
    :data:`DICT_MAGIC`); ``True`` always raw content (the web's rule, RFC 9842); ``False``
    requires a trained dictionary. A path is read whole, up to :data:`MAX_DICT_SIZE`.
    """
    z = _zstd()
    if isinstance(obj, z.ZstdDict) or (isinstance(obj, tuple) and obj and isinstance(obj[0], z.ZstdDict)):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        with open(obj, "rb") as f:
            data = f.read(MAX_DICT_SIZE + 1)
        if len(data) > MAX_DICT_SIZE:
            raise LimitExceededError(f"{os.fsdecode(obj)}: dictionary larger than {MAX_DICT_SIZE >> 20} MiB")
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
    else:
        raise TypeError(f"zstd_dict must be a ZstdDict, bytes or a path, not {type(obj).__name__}")
    trained = data[:4] == DICT_MAGIC
    if raw is False and not trained:
        raise DictionaryError("not a trained zstd dictionary (no dictionary magic number)")
    if raw or not trained:
        return z.ZstdDict(data, is_raw=True)
    try:
        return z.ZstdDict(data)
    except ValueError as exc:
        raise DictionaryError(f"invalid zstd dictionary ({exc})") from None


def dictionary_id(zstd_dict: Any) -> int:
    """The ID a dictionary writes into frames (0 for raw content)."""
    d = zstd_dict[0] if isinstance(zstd_dict, tuple) else zstd_dict
    return int(d.dict_id)


def frame_dictionary_id(header: bytes) -> int | None:
    """The Dictionary_ID field of the zstd frame starting ``header`` (RFC 8878 3.1.1.1).

    0: the frame names no dictionary (none needed, or a raw-content one). ``None``: not
    enough bytes yet, or not a zstd frame (a skippable frame names none either: 0).
    """
    if len(header) < 5:
        return None
    if header[:4] in SKIPPABLE_MAGICS:
        return 0
    if header[:4] != _FRAME_MAGIC:
        return None
    descriptor = header[4]
    id_size = (0, 1, 2, 4)[descriptor & 0x03]
    single_segment = descriptor & 0x20
    start = 5 if single_segment else 6  # Window_Descriptor is absent in a single segment
    if len(header) < start + id_size:
        return None
    return int.from_bytes(header[start : start + id_size], "little")


def train(samples: Sequence[bytes], size: int = 112640, *, level: int | None = None) -> Any:
    """Train a dictionary of at most ``size`` bytes on ``samples``; tuned for ``level``.

    Raises :class:`~chute.errors.DictionaryError` when libzstd cannot train on them (too
    few, too small, or too alike to learn from).
    """
    z = _zstd()
    if size < 256:
        raise ValueError("dictionary size must be at least 256 bytes")
    try:
        trained = z.train_dict(list(samples), size)
    except z.ZstdError as exc:
        raise DictionaryError(f"zstd could not train a dictionary on these samples ({_reason(exc)})") from None
    if level is None or level == DEFAULT_TRAIN_LEVEL:
        return trained
    content = trained.dict_content
    at = content.find(_ZDICT_REPCODES, 8)
    if at < 0:  # not a layout we know: keep the tables tuned for the default level
        return trained
    raw = z.ZstdDict(content[at + len(_ZDICT_REPCODES) :], is_raw=True)
    try:
        return z.finalize_dict(raw, list(samples), size, level)
    except z.ZstdError as exc:
        raise DictionaryError(f"zstd could not finalize the dictionary ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    msg = str(exc)
    return msg.split(": ", 1)[1] if ": " in msg else msg
