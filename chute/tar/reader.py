"""Streaming tar reader: one member at a time, over any binary file object, never seeking.

Memory is bounded by the largest extended header allowed (``max_header``), never by the
number or the size of members: nothing is remembered about a member once the next one
is read.
"""

from __future__ import annotations

import io
import os

from ..errors import ArchiveError, TruncatedStreamError
from ..readahead import ReadAhead
from . import header as h
from .header import BLOCK, Member

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc and typing stay off the command path (start-up)
    from collections.abc import Iterator
    from typing import Any, BinaryIO

__all__ = ["TarReader", "DEFAULT_MAX_HEADER", "copy_member"]

DEFAULT_MAX_HEADER = 1 << 20
_SKIP_CHUNK = 1 << 16
_NO_DATA = frozenset((h.HARDLINK, h.SYMLINK, h.DIRECTORY, h.CHARDEV, h.BLOCKDEV, h.FIFO))
# header types that carry no member of their own (extensions) or that are refused
_EXTENSIONS = frozenset((h.PAX_LOCAL, h.PAX_GLOBAL, h.GNU_LONGNAME, h.GNU_LONGLINK, b"V", b"N", b"M"))
_ZERO_BLOCK = bytes(BLOCK)


class _DataStream(io.RawIOBase):
    """The ``size`` bytes of one member's data, read straight from the archive.

    ``pad`` is the count of padding bytes after the data; :meth:`copy_to` may read them
    along with the data (one read instead of two), and then sets it to 0.
    """

    def __init__(self, fp: Any, size: int, name: str, pad: int = 0) -> None:
        self._fp = fp
        self.size = size
        self.remaining = size
        self._name = name
        self.pad = pad

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.remaining)
        if n <= 0:
            return 0
        view = memoryview(b)[:n] if n < len(b) else b
        got: int = self._fp.readinto(view)
        if not got:
            raise TruncatedStreamError(f"{self._name}: archive ends inside the member's data")
        self.remaining -= got
        return got

    def copy_to(self, fd: int, buf: bytearray) -> None:
        """Write the rest of the data to the file descriptor ``fd`` and read the padding
        after it (:func:`copy_member`)."""
        remaining, pad = self.remaining, self.pad
        self.remaining = self.pad = 0
        copy_member(self._fp, fd, remaining, pad, buf, self._name)

    def skip(self) -> None:
        buf = bytearray(min(self.remaining, _SKIP_CHUNK))
        while self.remaining:
            self.readinto(buf)


def copy_member(fp: Any, fd: int, size: int, pad: int, buf: bytearray, name: str) -> None:
    """Write the next ``size`` bytes of ``fp`` to the file descriptor ``fd``, then read the
    ``pad`` bytes of padding after them (the member is whole only with its padding).

    From a :class:`~chute.readahead.ReadAhead` the data is written straight from its
    chunks (no copy); else through ``buf``, in one read of data and padding and one write
    when they fit in it.
    """
    if isinstance(fp, ReadAhead):
        got = fp.write_to(fd, size, pad)
        if got < size + pad:
            where = "data" if got < size else "padding"
            raise TruncatedStreamError(f"{name}: archive ends inside the member's {where}")
        return
    view = memoryview(buf)
    readinto = fp.readinto
    write = os.write
    if size + pad <= len(buf):  # the usual small member: data and padding in one read
        want = size + pad
        got = readinto(view[:want]) if want else 0
        while got < want:
            more = readinto(view[got:want])
            if not more:
                where = "data" if got < size else "padding"
                raise TruncatedStreamError(f"{name}: archive ends inside the member's {where}")
            got += more
        chunk = view[:size]
        while chunk:
            chunk = chunk[write(fd, chunk) :]
        return
    remaining = size
    while remaining:
        got = readinto(view[: min(remaining, len(buf))])
        if not got:
            raise TruncatedStreamError(f"{name}: archive ends inside the member's data")
        remaining -= got
        chunk = view[:got]
        while chunk:
            chunk = chunk[write(fd, chunk) :]
    while pad:
        got = readinto(view[:pad])
        if not got:
            raise TruncatedStreamError(f"{name}: archive ends inside the member's padding")
        pad -= got


class _SparseStream(io.RawIOBase):
    """A sparse member read as regular data: the stored runs with zeros in the holes.

    ``runs`` is the member's map: ``(offset, length)`` of each stored run, in the order the
    data is stored, which must be the order of the offsets, runs not overlapping and within
    ``real_size`` (what GNU tar and bsdtar write); anything else is refused as malformed.
    A run of length 0 stores nothing (GNU tar ends every map with one at the real size).
    """

    def __init__(self, data: _DataStream, runs: list[tuple[int, int]], real_size: int, name: str) -> None:
        end = 0
        for off, length in runs:
            if off < end or length < 0 or off + length > real_size:
                raise ArchiveError(f"{name}: malformed sparse map (runs out of order, overlapping or past the end)")
            end = off + length
        self._data = data
        self.runs = runs
        self._run = 0
        self._pos = 0
        self._size = real_size
        self._name = name
        self._in_run = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        want = min(len(b), self._size - self._pos)
        if want <= 0:
            return 0
        view = memoryview(b)
        runs = self.runs
        while not self._in_run and self._run < len(runs) and runs[self._run][0] <= self._pos:
            self._in_run = runs[self._run][1]  # 0 for an empty run: on to the next
            self._run += 1
        if self._in_run:
            n = self._data.readinto(view[: min(want, self._in_run)])
            if not n:
                raise ArchiveError(f"{self._name}: sparse map needs more data than the member stores")
            self._in_run -= n
            self._pos += n
            return n
        hole_end = runs[self._run][0] if self._run < len(runs) else self._size
        n = min(want, hole_end - self._pos)
        view[:n] = bytes(n)
        self._pos += n
        return n

    def copy_to(self, fd: int, buf: bytearray) -> int:
        """Write the member into the new, empty file ``fd`` with its holes left as holes:
        each run written at its offset, then the file cut to the real size. Returns the
        count of data bytes written."""
        view = memoryview(buf)
        data = self._data
        written = 0
        for off, length in self.runs:
            if not length:
                continue
            os.lseek(fd, off, os.SEEK_SET)
            remaining = length
            while remaining:
                n = data.readinto(view[: min(remaining, len(buf))])
                if not n:
                    raise ArchiveError(f"{self._name}: sparse map needs more data than the member stores")
                chunk = view[:n]
                while chunk:
                    chunk = chunk[os.write(fd, chunk) :]
                remaining -= n
            written += length
        os.ftruncate(fd, self._size)
        self._pos = self._size
        return written


class TarReader:
    """Iterate ``(member, fileobj)`` pairs of a tar stream (ustar, GNU, PAX).

    ``fileobj`` reads the member's data (holes of sparse members come back as zeros) and
    is valid only until the next member is requested; what is left of it is skipped.
    GNU long names, PAX local and global headers are folded into the member. Extended
    headers larger than ``max_header`` bytes are refused.
    """

    def __init__(self, fp: BinaryIO, *, max_header: int = DEFAULT_MAX_HEADER, drain: bool = True) -> None:
        self._fp = fp
        self.max_header = max_header
        self._drain = drain
        self._globals: dict[str, str] = {}
        self.offset = 0

    def _read_exact(self, n: int, what: str) -> bytes:
        data = self._fp.read(n)
        if len(data) < n:
            chunks = [data]
            got = len(data)
            while got < n:
                more = self._fp.read(n - got)
                if not more:
                    raise TruncatedStreamError(f"archive ends inside {what}")
                chunks.append(more)
                got += len(more)
            data = b"".join(chunks)
        self.offset += n
        return data

    def _read_ext(self, size: int, what: str) -> bytes:
        if size > self.max_header:
            raise ArchiveError(f"{what}: extended header of {size} bytes is over the {self.max_header} byte limit")
        data = self._read_exact(size + (-size % BLOCK), what)
        return data[:size]

    def __iter__(self) -> Iterator[tuple[Member, io.RawIOBase]]:
        read = self._fp.read
        while True:
            got = self._member(read(BLOCK))
            if got is None:
                return
            m, stream, data = got
            yield m, stream
            self._finish(data)

    def _member(self, block: bytes) -> tuple[Member, io.RawIOBase, _DataStream] | None:
        """The member whose first header block is ``block`` (read from the archive), with
        the extension headers before it folded in: ``(member, stream, data)``, or None at
        the end of the archive. :meth:`_finish` must follow once the caller is done with
        the data."""
        long_name: bytes | None = None
        long_link: bytes | None = None
        pax: dict[str, str] = {}
        pax0: list[tuple[int, int]] | None = None  # a GNU sparse 0.0 map: its pairs in order
        while True:
            if len(block) < BLOCK:
                if not block and long_name is None and not pax:
                    if self.offset == 0:  # as GNU tar and Python's tarfile: not an archive
                        raise ArchiveError("empty archive: no tar header")
                    # Missing end-of-archive blocks: GNU tar accepts this too.
                    return None
                raise TruncatedStreamError(f"archive ends inside a header at offset {self.offset}")
            start = self.offset
            self.offset += BLOCK
            if block == _ZERO_BLOCK:
                if self._drain:
                    self._drain_rest()
                return None
            if not h.checksum_ok(block):
                raise ArchiveError(f"bad tar header checksum at offset {start}")
            m = h.decode(block)
            t = m.type
            if t not in _EXTENSIONS:
                break
            if t == h.PAX_LOCAL:
                raw = self._read_ext(m.size, "PAX header")
                pax.update(h.parse_pax(raw, f"PAX header at offset {start}"))
                if b" GNU.sparse.offset=" in raw:
                    try:
                        pax0 = _pax0_map(raw)
                    except ValueError as exc:
                        raise ArchiveError(f"PAX header at offset {start}: malformed sparse map ({exc})") from None
            elif t == h.PAX_GLOBAL:
                self._globals.update(h.parse_pax(self._read_ext(m.size, "PAX header"), f"global header at {start}"))
                if sum(len(k) + len(v) for k, v in self._globals.items()) > self.max_header:
                    raise ArchiveError("global PAX headers are over the size limit")
            elif t == h.GNU_LONGNAME:
                long_name = self._read_ext(m.size, "GNU long name").split(b"\0", 1)[0]
            elif t == h.GNU_LONGLINK:
                long_link = self._read_ext(m.size, "GNU long link").split(b"\0", 1)[0]
            elif t in (b"V", b"N"):  # volume label, old GNU long-name list: no member
                self._read_exact(m.size + (-m.size % BLOCK), "a GNU extension header")
            else:
                raise ArchiveError(f"{m.name}: multi-volume archives are not supported")
            block = self._fp.read(BLOCK)
        if long_name is not None:
            m.name = h.decode_text(long_name)
        if long_link is not None:
            m.linkname = h.decode_text(long_link)
        if t == h.GNU_SPARSE:
            self._old_gnu_sparse(m, block)
        if pax or self._globals:
            records = {**self._globals, **pax} if self._globals else pax
            self._apply_pax(m, records)
            if pax0 is not None and m.sparse is not None:
                m.sparse = pax0
        else:
            records = pax
        if m.type == h.GNU_SPARSE or m.type not in _NO_DATA:
            stored = m.size  # regular, sparse and unknown types (read as regular, like POSIX says)
            if m.type != h.GNU_SPARSE:
                m.type = h.REGULAR
        else:
            stored = m.size = 0
        data = _DataStream(self._fp, stored, m.name, -stored % BLOCK)
        stream: io.RawIOBase = data
        if m.sparse is not None and m.real_size is not None:
            if not m.sparse and records.get("GNU.sparse.major") == "1":
                m.sparse = self._pax1_map(data, m)
            stream = _SparseStream(data, m.sparse, m.real_size, m.name)
            m.type = h.REGULAR
            m.size = m.real_size
        return m, stream, data

    def _finish(self, data: _DataStream) -> None:
        """Skip what is left of the member's data and padding."""
        stored = data.size
        if data.remaining:
            data.skip()
        if data.pad:
            self._read_exact(data.pad, "member padding")
            self.offset += stored
        else:  # read with the data (_DataStream.copy_to), or none
            self.offset += stored + (-stored % BLOCK)

    def _drain_rest(self) -> None:
        while self._fp.read(_SKIP_CHUNK):
            pass

    def _old_gnu_sparse(self, m: Member, block: bytes) -> None:
        runs = h.gnu_sparse_entries(block[386:482], 4)
        extended = block[482]
        while extended:
            ext = self._read_exact(BLOCK, "a GNU sparse header")
            runs += h.gnu_sparse_entries(ext[:504], 21)
            extended = ext[504]
            if len(runs) > self.max_header // 24:
                raise ArchiveError(f"{m.name}: sparse map is over the size limit")
        m.sparse = runs
        m.real_size = h.parse_number(block[483:495])

    def _apply_pax(self, m: Member, rec: dict[str, str]) -> None:
        try:
            if "path" in rec:
                m.name = rec["path"]
            if "linkpath" in rec:
                m.linkname = rec["linkpath"]
            if "size" in rec:
                m.size = int(rec["size"])
            for key in ("uid", "gid"):
                if key in rec:
                    setattr(m, key, int(rec[key]))
            for key in ("uname", "gname"):
                if key in rec:
                    setattr(m, key, rec[key])
            if "mtime" in rec:
                m.mtime_ns = _parse_time(rec["mtime"])
            if "GNU.sparse.name" in rec:
                m.name = rec["GNU.sparse.name"]
            real = rec.get("GNU.sparse.realsize") or rec.get("GNU.sparse.size")
            if real is not None:
                m.real_size = int(real)
                if "GNU.sparse.map" in rec:
                    nums = [int(x) for x in rec["GNU.sparse.map"].split(",") if x]
                    m.sparse = list(zip(nums[0::2], nums[1::2], strict=False))
                else:  # sparse 0.0 (repeated offset/numbytes records): _pax0_map
                    m.sparse = []
        except ValueError:
            raise ArchiveError(f"{m.name}: invalid value in a PAX header") from None
        if m.size < 0:
            raise ArchiveError(f"{m.name}: negative size in a PAX header")

    def _pax1_map(self, data: _DataStream, m: Member) -> list[tuple[int, int]]:
        """The GNU sparse 1.0 map: decimal lines at the start of the data, padded to a block."""
        buf = b""
        used = 0
        nums: list[int] = []
        count: int | None = None
        while count is None or len(nums) < 2 * count:
            if b"\n" not in buf:
                if used > self.max_header:
                    raise ArchiveError(f"{m.name}: sparse map is over the size limit")
                chunk = bytearray(BLOCK)
                got = data.readinto(chunk)
                if not got:
                    raise ArchiveError(f"{m.name}: truncated sparse map")
                used += got
                buf += bytes(chunk[:got])
                continue
            line, _, buf = buf.partition(b"\n")
            try:
                value = int(line)
            except ValueError:
                raise ArchiveError(f"{m.name}: malformed sparse map") from None
            if count is None:
                count = value
            else:
                nums.append(value)
        # the map is padded to a whole block: the data starts after it
        if used % BLOCK:
            raise ArchiveError(f"{m.name}: malformed sparse map")
        return list(zip(nums[0::2], nums[1::2], strict=False))


def _pax0_map(raw: bytes) -> list[tuple[int, int]]:
    """The map of GNU sparse format 0.0: the ``GNU.sparse.offset`` and ``GNU.sparse.numbytes``
    records of the PAX header ``raw``, one pair per run, in their order (a dict of the
    records keeps only the last pair). The records were already checked by ``parse_pax``."""
    offsets: list[int] = []
    sizes: list[int] = []
    pos = 0
    n = len(raw)
    while pos < n and raw[pos]:
        sp = raw.find(b" ", pos)
        end = pos + int(raw[pos:sp])
        key, _, value = raw[sp + 1 : end - 1].partition(b"=")
        if key == b"GNU.sparse.offset":
            offsets.append(int(value))
        elif key == b"GNU.sparse.numbytes":
            sizes.append(int(value))
            if len(sizes) != len(offsets):
                raise ValueError("GNU.sparse.numbytes without its offset")
        pos = end
    if len(sizes) != len(offsets):
        raise ValueError("GNU.sparse.offset without its numbytes")
    return list(zip(offsets, sizes, strict=True))


def _parse_time(text: str) -> int:
    neg = text.startswith("-")
    secs, _, frac = text.lstrip("-").partition(".")
    ns = int(secs or "0") * 1_000_000_000 + int((frac + "000000000")[:9] or "0")
    return -ns if neg else ns
