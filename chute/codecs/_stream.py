"""A whole compressed stream, of any format, as one sans-IO decoder.

:class:`StreamDecoder` wraps one codec's per-member decompressors and applies, the same
way for every format, the policy for what may follow a member:

* ``members="all"`` (default): concatenated members (gzip members, zstd and lz4 frames
  including skippable ones, bz2 and xz streams) are decoded in turn, as ``gzip -d``,
  ``zstd -d`` and friends do. ``members="first"``: stop after the first member and leave
  the rest in ``unused_data`` (for containers that carry more after it).
* ``trailing="error"`` (default): bytes after the last member that do not start a new
  member raise :class:`~chute.errors.TrailingDataError`; zero bytes are accepted where the
  format's tools accept them (gzip after tar padding, xz stream padding).
  ``trailing="ignore"``: stop there and keep them in ``unused_data``.

With ``format=None`` the format is detected from the first bytes. Because the decoder
is fed bytes rather than reading them, detection loses nothing: the bytes used to
detect are the first bytes decoded.

Call :meth:`StreamDecoder.end` when the input is exhausted: it raises
:class:`~chute.errors.TruncatedStreamError` if a member was cut short.
"""

from __future__ import annotations

from ..errors import (
    CorruptStreamError,
    LimitExceededError,
    TrailingDataError,
    TruncatedStreamError,
    UnknownFormatError,
)
from . import MAX_MAGIC, all_codecs, could_be_magic, detect, get
from ._base import SKIPPABLE_MAGICS, Buffer, Codec

TYPE_CHECKING = False  # not typing's: importing typing costs a command's start-up
if TYPE_CHECKING:
    from typing import Any

    from ._protocols import Decompressor

MEMBER_POLICIES = ("all", "first")
TRAILING_POLICIES = ("error", "ignore")


class StreamDecoder:
    def __init__(
        self,
        format: str | Codec | None = None,
        *,
        members: str = "all",
        trailing: str = "error",
        max_output: int | None = None,
        memory_limit: int | None = None,
        zstd_dict: Any = None,
        options: dict[int, int] | None = None,
    ) -> None:
        """``zstd_dict`` and ``options`` (``DecompressionParameter`` -> value) go to each zstd
        frame's decompressor, as ``compression.zstd.decompress`` takes them; other formats
        ignore them."""
        if members not in MEMBER_POLICIES:
            raise ValueError(f"members must be one of {MEMBER_POLICIES}")
        if trailing not in TRAILING_POLICIES:
            raise ValueError(f"trailing must be one of {TRAILING_POLICIES}")
        if max_output is not None and max_output < 0:
            raise ValueError("max_output must be >= 0")
        self.codec: Codec | None = get(format) if isinstance(format, str) else format
        self._members_policy = members
        self._trailing = trailing
        self._max_output = max_output
        self._memory_limit = memory_limit
        self._zstd: dict[str, Any] = {}
        if zstd_dict is not None:
            from .zstd_dict import as_zstd_dict

            self._zstd["zstd_dict"] = as_zstd_dict(zstd_dict)  # a path is read once, not per frame
        if options is not None:
            self._zstd["options"] = options
        self._dec: Decompressor | None = None
        self._buf = b""  # bytes seen between members, not yet given to a decompressor
        self._padding = False
        self._padding_len = 0
        self._skip = 0  # bytes left of a skippable frame met before the format is known
        self._skipped = 0  # skippable frames dropped before the format was known
        self.members = 0
        self.total_in = 0
        self.total_out = 0
        self.eof = False
        self.needs_input = True
        self.unused_data = b""

    @property
    def format(self) -> str | None:
        """The format name, once known (after detection)."""
        return self.codec.name if self.codec else None

    def _new_member(self) -> Decompressor:
        assert self.codec is not None
        if self._zstd and self.codec.name == "zstd":
            if self._memory_limit is not None:
                return self.codec.new_decompressor(memory_limit=self._memory_limit, **self._zstd)
            return self.codec.new_decompressor(**self._zstd)
        if self._memory_limit is not None and self.codec.name in ("zstd", "xz"):
            return self.codec.new_decompressor(memory_limit=self._memory_limit)
        return self.codec.new_decompressor()

    def _stop(self, rest: bytes) -> None:
        self.eof = True
        self.needs_input = False
        self.unused_data = rest
        self._buf = b""

    def _skip_leading_frames(self) -> bool:
        """Drop skippable frames that precede the first member of an undetected stream.

        They say nothing about the format (zstd and lz4 share them), so detection looks
        past them, without buffering their payload. True: ``self._buf`` is ready to detect.
        """
        while True:
            if self._skip:
                take = min(self._skip, len(self._buf))
                self._buf = self._buf[take:]
                self._skip -= take
                if self._skip:
                    return False
            if self._buf[:4] not in SKIPPABLE_MAGICS:
                return bool(self._buf)
            if len(self._buf) < 8:
                return False
            self._skip = 8 + int.from_bytes(self._buf[4:8], "little")
            self._skipped += 1

    def _between_members(self) -> bool:
        """Decide what ``self._buf`` holds. True: a new member was started."""
        if self.codec is None and not self._skip_leading_frames():
            return False
        buf = self._buf
        if self.codec is None:
            name = detect(buf)
            if name is None:
                if len(buf) < MAX_MAGIC and could_be_magic(buf):
                    return False
                raise UnknownFormatError("not in a known compressed format")
            self.codec = get(name)
        codec = self.codec
        if self.members:
            if self._members_policy == "first":
                self._stop(buf)
                return False
            if codec.zero_padding_ok:
                rest = buf.lstrip(b"\0")
                if len(rest) < len(buf):
                    self._padding = True
                    self._padding_len += len(buf) - len(rest)
                    buf = self._buf = rest
                    if not buf:
                        return False
            closed = self._padding_closes()
            starts = codec.concatenable and not closed and any(buf.startswith(m) for m in codec.magic)
            if not starts:
                maybe = (
                    codec.concatenable
                    and not closed
                    and len(buf) < MAX_MAGIC
                    and any(m.startswith(buf) for m in codec.magic)
                )
                if maybe:
                    return False
                if self._trailing == "ignore":
                    self._stop(bytes(self._padding_len) + buf)
                    return False
                what = "data after zero padding" if self._padding else "trailing data"
                raise TrailingDataError(f"{what} after the end of the {codec.name} stream")
            self._padding = False
            self._padding_len = 0
        self._dec = self._new_member()
        return True

    def _padding_closes(self) -> bool:
        """True if zero padding was seen and no member may follow it.

        gzip: zeros end the stream (tar padding). xz: stream padding comes in 4-byte
        units and may separate concatenated streams.
        """
        if not self._padding:
            return False
        unit = self.codec.extra.get("padding_unit") if self.codec is not None else None
        return not unit or self._padding_len % unit != 0

    def _cut_in_header(self, buf: bytes) -> bool:
        """True if ``buf`` is the incomplete start of a member: the input ended in its magic."""
        codec = self.codec
        if codec is None:
            if buf[:4] in SKIPPABLE_MAGICS:
                return len(buf) < 8
            candidates = all_codecs()
        elif self.members and (self._padding_closes() or self._members_policy == "first" or not codec.concatenable):
            return False
        else:
            candidates = [codec]
        return any(len(buf) < len(m) and m.startswith(buf) for c in candidates for m in c.magic)

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        """Decode ``data``; at most ``max_length`` bytes of output (-1: no bound)."""
        if self.eof:
            if len(data):
                self.unused_data += bytes(data)
            return b""
        self.total_in += len(data)
        pending: Buffer = data
        out: list[bytes] = []
        room = max_length
        while True:
            if self._dec is None:
                if len(pending):
                    self._buf += bytes(pending)
                    pending = b""
                if not self._buf or room == 0 or not self._between_members():
                    self.needs_input = not self.eof and (not self._buf or room != 0)
                    break
                pending, self._buf = self._buf, b""
            dec = self._dec
            assert dec is not None
            chunk = dec.decompress(pending, room)
            pending = b""
            if chunk:
                out.append(chunk)
                self.total_out += len(chunk)
                if room > 0:
                    room -= len(chunk)
            if dec.eof:
                self.members += 1
                self._buf = dec.unused_data
                self._dec = None
                continue
            self.needs_input = dec.needs_input
            break
        if self._max_output is not None and self.total_out > self._max_output:
            raise LimitExceededError(f"decompressed data exceeds the limit of {self._max_output} bytes")
        return b"".join(out)

    def end(self) -> None:
        """Declare the input finished; raise if it stopped inside a member."""
        if self.eof:
            return
        if self._dec is not None:
            raise TruncatedStreamError(f"{self.format} stream is truncated (input ended inside a member)")
        if self._skip:
            raise TruncatedStreamError("stream is truncated (input ended inside a skippable frame)")
        if self._buf:
            if self.codec is not None and self._trailing == "ignore":
                self._stop(bytes(self._padding_len) + self._buf)
                return
            if self._cut_in_header(self._buf):
                raise TruncatedStreamError(
                    f"{self.format or 'compressed'} stream is truncated (input ended in a header)"
                )
            if self.codec is None:
                raise UnknownFormatError("not in a known compressed format")
            raise TrailingDataError(f"trailing data after the end of the {self.format} stream")
        unit = self.codec.extra.get("padding_unit") if self.codec is not None else None
        if self._padding and unit and self._padding_len % unit:
            if self._trailing == "ignore":
                self._stop(bytes(self._padding_len))
                return
            raise CorruptStreamError(
                f"{self.format} stream padding of {self._padding_len} bytes is not a multiple of {unit}"
            )
        if not self.members and not self._skipped:
            raise TruncatedStreamError("empty input: no compressed data")
        self.eof = True
        self.needs_input = False


def decoder(format: str | Codec | None = None, **options: Any) -> StreamDecoder:
    """Shorthand for :class:`StreamDecoder`."""
    return StreamDecoder(format, **options)
