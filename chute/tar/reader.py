"""Streaming tar reader: one member at a time, over any binary file object, never seeking.

Memory is bounded by the largest extended header allowed (``max_header``), never by the
number or the size of members: nothing is remembered about a member once the next one
is read.
"""

from __future__ import annotations

import io
import os
from zlib import adler32

from ..errors import ArchiveError, TruncatedStreamError
from ..quoting import quote
from ..streams.readahead import ReadAhead
from . import header as h
from .header import BLOCK, Member

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc and typing stay off the command path (start-up)
    from collections.abc import Callable, Iterator
    from typing import Any, BinaryIO

__all__ = ["TarReader", "DEFAULT_MAX_HEADER", "copy_member"]

DEFAULT_MAX_HEADER = 1 << 20
_SKIP_CHUNK = 1 << 16
_NO_DATA = frozenset((h.HARDLINK, h.SYMLINK, h.DIRECTORY, h.CHARDEV, h.BLOCKDEV, h.FIFO))
SOLARIS_EXTENDED = b"X"  # Solaris tar's extended header: the same records as a pax "x" one
DUMPDIR = b"D"  # GNU incremental: a directory, with a listing of its entries as data
# header types that carry no member of their own (extensions) or that are refused
_EXTENSIONS = frozenset((h.PAX_LOCAL, h.PAX_GLOBAL, SOLARIS_EXTENDED, h.GNU_LONGNAME, h.GNU_LONGLINK, b"V", b"N", b"M"))
# pax keys refused in a global header: they belong to one member
_PER_MEMBER_KEYS = frozenset(("path", "linkpath", "size"))
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
            raise TruncatedStreamError(f"{quote(self._name)}: archive ends inside the member's data")
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

    From a :class:`~chute.streams.readahead.ReadAhead` the data is written straight from its
    chunks (no copy); else through ``buf``, in one read of data and padding and one write
    when they fit in it.
    """
    if type(fp) is ReadAhead:  # not isinstance: through io's ABCs that costs ~1.7 us a member
        got = fp.write_to(fd, size, pad)
        if got < size + pad:
            where = "data" if got < size else "padding"
            raise TruncatedStreamError(f"{quote(name)}: archive ends inside the member's {where}")
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
                raise TruncatedStreamError(f"{quote(name)}: archive ends inside the member's {where}")
            got += more
        chunk = view[:size]
        while chunk:
            chunk = chunk[write(fd, chunk) :]
        return
    remaining = size
    while remaining:
        got = readinto(view[: min(remaining, len(buf))])
        if not got:
            raise TruncatedStreamError(f"{quote(name)}: archive ends inside the member's data")
        remaining -= got
        chunk = view[:got]
        while chunk:
            chunk = chunk[write(fd, chunk) :]
    while pad:
        got = readinto(view[:pad])
        if not got:
            raise TruncatedStreamError(f"{quote(name)}: archive ends inside the member's padding")
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
    """Iterate ``(member, fileobj)`` pairs of a tar stream (ustar, GNU, PAX, V7, Solaris).

    ``fileobj`` reads the member's data (holes of sparse members come back as zeros) and
    is valid only until the next member is requested; what is left of it is skipped.
    GNU long names, PAX local and global headers are folded into the member. Extended
    headers larger than ``max_header`` bytes are refused.

    What other tools write is read as GNU tar and bsdtar read it: a name ending in ``/``
    on a regular-file header (old V7 and BSD tars) is a directory, with no data; a GNU
    dumpdir (``D``) is a directory whose listing is skipped; a Solaris ``X`` header is a
    PAX ``x`` header; of several ``x`` headers (or GNU long names) before one member, the
    last one alone applies. A member type chute does not know is read as a regular file
    (a directory if its name ends in ``/``), with a warning. Each warning, a ``str`` that
    starts with the member's quoted name, goes to ``on_warning`` (default: Python's
    :mod:`warnings`, category :class:`~chute.errors.ArchiveWarning`).
    """

    def __init__(
        self,
        fp: BinaryIO,
        *,
        max_header: int = DEFAULT_MAX_HEADER,
        drain: bool = True,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self._fp = fp
        self.max_header = max_header
        self._drain = drain
        self._globals: dict[str, str] = {}
        self.offset = 0
        self.on_warning = on_warning
        self._pre = b""  # bytes read ahead of the archive's position by _small_pax, unused yet

    def _warn(self, message: str) -> None:
        if self.on_warning is not None:
            self.on_warning(message)
            return
        import warnings

        from ..errors import ArchiveWarning

        warnings.warn(message, ArchiveWarning, stacklevel=4)

    def _take(self, n: int) -> bytes:
        """Up to ``n`` bytes of the archive: first those :meth:`_small_pax` read ahead."""
        pre = self._pre
        if not pre:
            return self._fp.read(n)
        self._pre = pre[n:]
        if len(pre) >= n:
            return pre[:n]
        return pre + self._fp.read(n - len(pre))

    def _read_exact(self, n: int, what: str) -> bytes:
        data = self._take(n)
        if len(data) < n:
            chunks = [data]
            got = len(data)
            while got < n:
                more = self._take(n - got)
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

    def names(self) -> Iterator[bytes]:
        """The name of each member as stored (bytes), in order, the data skipped: what
        iterating gives as ``member.name``, faster. See :meth:`name_batches`."""
        for batch in self.name_batches():
            yield from batch

    def name_batches(self) -> Iterator[list[bytes]]:
        """:meth:`names` a list at a time (``chute ls`` uses it): from a compressed archive,
        the names of the members read from one decoded chunk together; none is empty.

        Plain ustar and GNU headers (a file, folder or link, numeric fields in their usual
        shape, nothing before them but maybe a pax header that gives only the mtime, as chute
        writes) are read here; any other header takes the general path.
        """
        fp = self._fp
        read = fp.read
        member = self._member
        finish = self._finish
        small_pax = self._small_pax
        # from a ReadAhead (a compressed archive) the data is passed over in its chunks, and
        # the headers inside each decoded chunk are read there (_names_in_chunk)
        chunked = fp if isinstance(fp, ReadAhead) else None
        pass_over = chunked.skip if chunked is not None else None
        while True:
            if chunked is not None:
                batch = self._names_in_chunk(chunked)
                if batch:
                    yield batch
            block = read(BLOCK)
            fast = _plain_header(block)
            pre = b""
            if fast is None and block[156:157] == h.PAX_LOCAL:
                pax = small_pax(block)
                if pax is not None:
                    pre, mtime = pax
                    if mtime is not None:  # the mtime alone does not change the name
                        after = read(BLOCK)
                        fast = _plain_header(after)
                        if fast is None:
                            pre += after
                        else:
                            self.offset += 2 * BLOCK
            if fast is not None:
                name, skip = fast
                self.offset += BLOCK
                yield [name]  # before its data, which may be cut short: as the general path
                if skip:  # the data and its padding: in one read when small
                    if pass_over is not None:
                        if pass_over(skip) < skip:
                            raise TruncatedStreamError(
                                f"{quote(name)}: archive ends inside the member's data or padding"
                            )
                    elif skip > _SKIP_CHUNK:
                        self._skip(skip, name)
                    else:
                        n = len(read(skip))
                        if n < skip:
                            self._skip(skip - n, name)
                    self.offset += skip
                continue
            got = member(block, pre)
            if got is None:
                return
            yield [got[0].name.encode("utf-8", "surrogateescape")]
            finish(got[2])

    def _skip(self, n: int, name: str | bytes) -> None:
        """Read and drop the next ``n`` bytes (data and padding of the member ``name``)."""
        read = self._fp.read
        while n:
            got = len(read(min(n, _SKIP_CHUNK)))
            if not got:
                raise TruncatedStreamError(f"{quote(name)}: archive ends inside the member's data or padding")
            n -= got

    def _small_pax(self, block: bytes) -> tuple[bytes, int | None] | None:
        """For ``block``, a pax ``x`` header in the usual shape whose records fit one block
        (no global header before it): read that block and return it with the mtime in
        nanoseconds when its one record is a valid ``mtime`` (what chute writes before
        every member), else None for it. None, nothing read, for any other header.

        The archive's position is then past the records; :meth:`_member` must be given the
        bytes read since ``block`` (``pre``) unless the caller reads the member itself.
        """
        if self._globals:
            return None
        size = _small_pax_size(block)
        if size is None:
            return None
        data = self._fp.read(BLOCK)
        if len(data) < BLOCK:
            return data, None
        return data, _lone_mtime(data[:size])

    def _names_in_chunk(self, fp: ReadAhead) -> list[bytes]:
        """For :meth:`names`: the names of the plain members that lie whole in the next
        decoded chunk of ``fp``, from its start, read in place (no ``read`` call and no
        copy of their data); the chunk is consumed up to the first member that does not
        (another kind of header, a pax header other than a lone mtime, a member that
        runs into the next chunk), which the caller reads block by block.

        This loop is :func:`_plain_header`, :func:`_small_pax_size` and :func:`_lone_mtime`
        written out for the usual header (every byte ASCII, so one ``adler32`` sums the
        block, see :func:`_ascii_sum`; chute's own pax mtime record in its usual shape):
        it takes a subset of what they take, with the same result, in 60-65% of the time.
        Anything else goes through those functions, from the same block.
        """
        cur = fp.peek_chunk()
        size = len(cur)
        pos = 0
        names: list[bytes] = []
        append = names.append
        pax_ok = not self._globals
        magics = _MAGICS
        usual = _USUAL_HEAD
        to_zero = _OCTAL_TO_ZERO
        sums, sizes = _ASCII_SUMS, _SIZES
        while pos + BLOCK <= size:
            block = cur[pos : pos + BLOCK].tobytes()
            at = pos + BLOCK
            if block[156] == 0x78:  # a pax header (chute writes one with the mtime alone)
                if not pax_ok or at + 2 * BLOCK > size:
                    break
                if (
                    block.isascii()
                    and block[257:265] in magics
                    and block[100:156].translate(to_zero) == usual
                    and (adler32(block) & 0xFFFF) == (sums.get(block[148:156]) or _ascii_sum(block[148:156]))
                ):
                    n = int(block[124:135], 8)
                    record = cur[at : at + n].tobytes() if 0 < n <= _MTIME_RECORD_MAX else b""
                    # LEN must be the record's length, 11 or more: no leading zero can pass
                    if record.translate(_DIGITS_TO_ZERO) not in _MTIME_SHAPES or int(record[:2]) != n:
                        break
                else:  # in doubt: the general checks
                    records = _small_pax_size(block)
                    if records is None or _lone_mtime(cur[at : at + records].tobytes()) is None:
                        break
                block = cur[at + BLOCK : at + 2 * BLOCK].tobytes()
                at += 2 * BLOCK
            if (
                block.isascii()
                and block[257:265] in magics
                and block[100:156].translate(to_zero) == usual
                and (adler32(block) & 0xFFFF) == (sums.get(block[148:156]) or _ascii_sum(block[148:156]))
            ):
                t = block[156]
                j = block.find(0, 0, 100)
                name = block[: j if j >= 0 else 100]
                if block[345] and block[262] == 0:  # ustar: the prefix field
                    name = block[345:500].partition(b"\0")[0] + b"/" + name
                if t in _PLAIN_DATA:
                    if name[-1:] == b"/" or not name:
                        break
                    field = block[124:135]
                    skip = sizes.get(field)
                    at += _octal_size(field) if skip is None else skip
                    if at > size:
                        break
                elif t not in _PLAIN_NO_DATA:
                    break
            else:  # in doubt: the general checks
                fast = _plain_header(block)
                if fast is None:
                    break
                name = fast[0]
                at += fast[1]
                if at > size:
                    break
            append(name)
            pos = at
        fp.consume(pos)
        self.offset += pos
        return names

    def _member(self, block: bytes, pre: bytes = b"") -> tuple[Member, io.RawIOBase, _DataStream] | None:
        """The member whose first header block is ``block`` (read from the archive), with
        the extension headers before it folded in: ``(member, stream, data)``, or None at
        the end of the archive. ``pre``: the bytes read after ``block`` by :meth:`_small_pax`
        and what followed. :meth:`_finish` must follow once the caller is done with the
        data."""
        self._pre = pre
        long_name: bytes | None = None
        long_link: bytes | None = None
        pax: dict[str, str] | None = None
        first = self.offset
        pax0: list[tuple[int, int]] | None = None  # a GNU sparse 0.0 map: its pairs in order
        while True:
            start = self.offset
            if len(block) < BLOCK:
                if not block and long_name is None and long_link is None and pax is None:
                    if self.offset == 0:  # as GNU tar and Python's tarfile: not an archive
                        raise ArchiveError("empty archive: no tar header")
                    # Missing end-of-archive blocks: GNU tar accepts this too.
                    return None
                if not start:
                    raise TruncatedStreamError(f"not a tar archive, or one cut short: only {len(block)} bytes")
                raise TruncatedStreamError(f"archive ends inside a header at offset {start}")
            self.offset += BLOCK
            if block == _ZERO_BLOCK:
                if self._drain:
                    self._drain_rest()
                return None
            if not h.checksum_ok(block):
                if not start:
                    raise ArchiveError("not a tar archive (bad header checksum at offset 0)")
                raise ArchiveError(f"bad tar header checksum at offset {start}")
            try:
                m = h.decode(block)
            except ArchiveError as exc:
                raise ArchiveError(f"header at offset {start}: {exc}") from None
            t = m.type
            if t not in _EXTENSIONS:
                break
            if t == h.PAX_LOCAL or t == SOLARIS_EXTENDED:
                # the last one applies, as GNU tar, bsdtar and Go's archive/tar read them
                what = f"pax header at offset {start}"
                in_order = h.pax_records(self._read_ext(m.size, what), what)
                pax = dict(in_order)
                pax0 = _pax0_map(in_order, what) if "GNU.sparse.offset" in pax else None
            elif t == h.PAX_GLOBAL:
                what = f"global pax header at offset {start}"
                self._add_globals(h.parse_pax(self._read_ext(m.size, what), what), what)
            elif t == h.GNU_LONGNAME:
                long_name = self._read_ext(m.size, "GNU long name").split(b"\0", 1)[0]
            elif t == h.GNU_LONGLINK:
                long_link = self._read_ext(m.size, "GNU long link").split(b"\0", 1)[0]
            elif t in (b"V", b"N"):  # volume label, old GNU long-name list: no member
                self._read_exact(m.size + (-m.size % BLOCK), "a GNU extension header")
            else:
                raise ArchiveError(f"header at offset {start}: multi-volume archives are not supported")
            block = self._take(BLOCK)
        if long_name is not None:
            m.name = h.decode_text(long_name)
        if long_link is not None:
            m.linkname = h.decode_text(long_link)
        if pax is not None:
            self._check_both(pax, m, long_name, long_link, first)
        if t == h.GNU_SPARSE:
            self._old_gnu_sparse(m, block)
        if pax or self._globals:
            records = {**self._globals, **pax} if self._globals and pax else (pax or self._globals)
            self._apply_pax(m, records, first)
            if pax0 is not None and m.sparse is not None:
                m.sparse = pax0
        else:
            records = {}
        stored = self._stored_size(m, start)
        data = _DataStream(self._fp, stored, m.name, -stored % BLOCK)
        stream: io.RawIOBase = data
        if m.sparse is not None and m.real_size is not None:
            if not m.sparse and records.get("GNU.sparse.major") == "1":
                m.sparse = self._pax1_map(data, m)
            stream = _SparseStream(data, m.sparse, m.real_size, m.name)
            m.type = h.REGULAR
            m.size = m.real_size
        return m, stream, data

    def _check_both(
        self, pax: dict[str, str], m: Member, long_name: bytes | None, long_link: bytes | None, first: int
    ) -> None:
        """Refuse a member given a GNU long name and a different pax ``path`` (or long
        link name and ``linkpath``): GNU tar, bsdtar and Go each pick another of the two,
        by order or by kind, so an archive could send each tool to another place."""
        for key, value, what in (("path", long_name, "name"), ("linkpath", long_link, "link name")):
            if value is not None and key in pax and pax[key] != h.decode_text(value):
                raise ArchiveError(
                    f"member at offset {first}: its GNU long {what} '{quote(value)}' and its pax {key} "
                    f"'{quote(pax[key])}' differ (tools disagree on which applies)"
                )

    def _add_globals(self, records: dict[str, str], what: str) -> None:
        """Fold a global header into the records every later member gets.

        Records that would give every later member the same name, link or size are
        refused: GNU tar applies them, bsdtar and Go do not. An empty value removes the
        key (POSIX).
        """
        for key, value in records.items():
            if key in _PER_MEMBER_KEYS or key.startswith("GNU.sparse."):
                raise ArchiveError(f"{what}: '{quote(key)}' in a global header (tools disagree on what it does)")
            if value:
                self._globals[key] = value
            else:
                self._globals.pop(key, None)
        if sum(len(k) + len(v) for k, v in self._globals.items()) > self.max_header:
            raise ArchiveError(f"{what}: global pax headers are over the {self.max_header} byte limit")

    def _stored_size(self, m: Member, start: int) -> int:
        """Bytes of data after the member's header; settle the member's type as GNU tar
        and bsdtar read it."""
        t = m.type
        if t == h.REGULAR:
            if m.name[-1:] != "/":
                return m.size
            # Old V7 and BSD tars mark a directory by a trailing slash alone. Its size
            # field may be non-zero: no data follows it (GNU tar, bsdtar, tarfile).
            m.type = h.DIRECTORY
        elif t in _NO_DATA:
            pass
        elif t == h.GNU_SPARSE:
            return m.size
        elif t == DUMPDIR:  # a directory, then its listing for incremental backups
            m.type = h.DIRECTORY
            stored, m.size = m.size, 0
            return stored
        else:
            # POSIX: read an unknown type as a regular file; GNU tar warns and does so,
            # and with a trailing slash a directory it is (its data still skipped).
            folder = m.name[-1:] == "/"
            kind = "directory" if folder else "regular file"
            self._warn(f"{quote(m.name)}: unknown member type '{quote(t)}' at offset {start}, read as a {kind}")
            m.type = h.DIRECTORY if folder else h.REGULAR
            if folder:
                stored, m.size = m.size, 0
                return stored
            return m.size
        m.size = 0
        return 0

    def _finish(self, data: _DataStream) -> None:
        """Skip what is left of the member's data and padding."""
        stored = data.size
        left = data.remaining + data.pad
        if left and left <= _SKIP_CHUNK:  # the usual small member: data and padding in one read
            got = len(self._fp.read(left))
            if got < left:
                self._skip(left - got, data._name)
            data.remaining = data.pad = 0
            self.offset += stored + (-stored % BLOCK)
            return
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

    def _apply_pax(self, m: Member, rec: dict[str, str], first: int) -> None:
        """Apply the records ``rec`` to ``m``, whose first header is at offset ``first``."""
        if "path" in rec:
            m.name = rec["path"]
        if "linkpath" in rec:
            m.linkname = rec["linkpath"]
        for key in ("uname", "gname"):
            if key in rec:
                setattr(m, key, rec[key])
        for key, attr in _PAX_NUMBERS:
            if key in rec:
                try:
                    setattr(m, attr, _parse_time(rec[key]) if key == "mtime" else _decimal(rec[key]))
                except ValueError:
                    raise ArchiveError(
                        f"member at offset {first}: invalid {key} '{quote(rec[key])}' in a pax header"
                    ) from None
        try:
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
            raise ArchiveError(f"member at offset {first}: invalid sparse map in a pax header") from None
        if m.size < 0:
            raise ArchiveError(f"member at offset {first}: negative size in a pax header")

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


# ustar and old GNU magic (with the version field)
_MAGICS = (b"ustar\x0000", b"ustar  \x00")
# numeric fields mode, uid, gid, size and mtime as 7, 7, 7, 11 and 11 octal digits, each
# NUL-terminated: their bytes with every octal digit made "0"
_OCTAL_TO_ZERO = bytes.maketrans(b"1234567", b"0000000")
_USUAL_NUMBERS = b"0000000\0" * 3 + b"00000000000\0" * 2
# the same with the checksum after them, as GNU tar, bsdtar and chute write it
_USUAL_HEAD = _USUAL_NUMBERS + b"000000\0 "
_OCTAL = b"01234567"
# header types names() reads alone: regular files (0, NUL, 7) and hard links, symlinks, folders
_PLAIN_DATA = frozenset(b"0\x007")
_PLAIN_NO_DATA = frozenset(b"125")
_DIGITS = b"0123456789"
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
# A pax record "LEN mtime=[-]SECONDS[.FRACTION]\n" of up to 18 digits of seconds (so within
# the range _lone_mtime takes) and 9 of fraction: its shapes with every digit made "0".
# LEN has two digits then (13 to 40).
_MTIME_SHAPES = frozenset(
    b"00 mtime=%s%s%s\n" % (sign, b"0" * secs, b"." + b"0" * frac if frac >= 0 else b"")
    for sign in (b"", b"-")
    for secs in range(1, 19)
    for frac in range(-1, 10)
)
_MTIME_RECORD_MAX = 40


# What _names_in_chunk's loop has seen: the low half of adler32 of an ASCII header block
# by its checksum field, and the bytes of data and padding by size field. Headers repeat
# both (a tree's headers sum to a few thousand values; small files share sizes): a lookup
# costs a third of int(field, 8), plus sum() for the checksum. Bounded: cleared when full.
_ASCII_SUMS: dict[bytes, int] = {}
_SIZES: dict[bytes, int] = {}
_MEMO_MAX = 1 << 14


def _ascii_sum(check: bytes) -> int:
    """``adler32(block) & 0xFFFF`` of an ASCII header block whose checksum field, in the
    usual form (6 octal digits, NUL, space), is ``check`` and right: 1 + the byte sum of
    the block (below adler32's modulus 65521, as 512 bytes of up to 127 are), that is the
    stored checksum (the sum with the field as 8 spaces) - 8 x 32 + the field's own sum."""
    if len(_ASCII_SUMS) >= _MEMO_MAX:
        _ASCII_SUMS.clear()
    value = _ASCII_SUMS[check] = int(check[:6], 8) - 255 + sum(check)
    return value


def _octal_size(field: bytes) -> int:
    """The bytes of data and padding after a header whose size field (11 octal digits) is
    ``field``."""
    if len(_SIZES) >= _MEMO_MAX:
        _SIZES.clear()
    n = int(field, 8)
    value = _SIZES[field] = n + (-n % BLOCK)
    return value


def _lone_mtime(record: bytes) -> int | None:
    """The mtime (ns) of pax records that are exactly one ``LEN mtime=[-]SECONDS[.FRACTION]\n``
    (as chute writes them, LEN right), else None."""
    sp = record.find(b" mtime=")
    length = record[:sp]
    if sp <= 0 or length[0] == 0x30 or length.translate(None, _DIGITS) or int(length) != len(record):
        return None
    if record[-1] != 0x0A:
        return None
    value = record[sp + 7 : -1]
    negative = value[:1] == b"-"
    secs, _, frac = (value[1:] if negative else value).partition(b".")
    if not secs or secs.translate(None, _DIGITS) or frac.translate(None, _DIGITS):
        return None
    ns = int(secs) * 1_000_000_000 + int((frac + b"000000000")[:9])  # as _parse_time
    if ns >= _MAX_TIME_NS:
        return None  # the general path refuses it
    return -ns if negative else ns


def _small_pax_size(block: bytes) -> int | None:
    """The size of the records of ``block``, a pax ``x`` header in the usual shape whose
    records fit one block (numbers as :func:`_plain_header` takes them, checksum right),
    else None."""
    if len(block) != BLOCK or block[156] != 0x78 or block[257:265] not in _MAGICS:
        return None
    if block[100:148].translate(_OCTAL_TO_ZERO) != _USUAL_NUMBERS:
        return None
    size = int(block[124:135], 8)
    if not 0 < size <= BLOCK:
        return None
    check = block[148:156]
    if check[6:] == b"\0 " and not check[:6].translate(None, _OCTAL):  # the usual form: as _plain_header
        total = (adler32(block[:256]) & 0xFFFF) + (adler32(block[256:]) & 0xFFFF) + 254 - sum(check)
        if int(check[:6], 8) != total:
            return None
    elif not h.checksum_ok(block):
        return None
    return size


def _plain_header(block: bytes) -> tuple[bytes, int] | None:
    """``(name, skip)`` for a header :meth:`TarReader.names` reads on its own: ``skip`` is
    the count of bytes of data and padding after it. None for anything else: another
    type, numbers not in their usual shape, a checksum not written as GNU tar, bsdtar and
    chute write it (6 octal digits, NUL, space) or wrong, a file name ending in ``/``.
    Such headers take the general path, which reads the same name and size from these."""
    if len(block) != BLOCK or block[257:265] not in _MAGICS:
        return None
    t = block[156]
    data = t in _PLAIN_DATA
    if not data and t not in _PLAIN_NO_DATA:
        return None
    if block[100:148].translate(_OCTAL_TO_ZERO) != _USUAL_NUMBERS:
        return None
    check = block[148:156]
    if check[6:] != b"\0 " or check[:6].translate(None, _OCTAL):
        return None
    if int(check[:6], 8) != (adler32(block[:256]) & 0xFFFF) + (adler32(block[256:]) & 0xFFFF) + 254 - sum(check):
        return None
    j = block.find(0, 0, 100)
    name = block[: j if j >= 0 else 100]
    if block[345] and block[262] == 0:  # ustar: the prefix field
        name = block[345:500].partition(b"\0")[0] + b"/" + name
    if not data:
        return name, 0
    if name[-1:] == b"/" or not name:
        return None
    size = int(block[124:135], 8)
    return name, size + (-size % BLOCK)


_PAX_NUMBERS = (("size", "size"), ("uid", "uid"), ("gid", "gid"), ("mtime", "mtime_ns"))


def _decimal(text: str) -> int:
    """A pax decimal number: ASCII digits, maybe after a minus sign (``int()`` would also
    take ``+``, ``_``, spaces and other scripts' digits)."""
    digits = text[1:] if text[:1] == "-" else text
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(text)
    return int(text)


def _pax0_map(records: list[tuple[str, str]], what: str) -> list[tuple[int, int]]:
    """The map of GNU sparse format 0.0: the ``GNU.sparse.offset`` and ``GNU.sparse.numbytes``
    records of one PAX header, one pair per run, in their order (a dict of the records keeps
    only the last pair)."""
    offsets: list[int] = []
    sizes: list[int] = []
    try:
        for key, value in records:
            if key == "GNU.sparse.offset":
                offsets.append(_decimal(value))
            elif key == "GNU.sparse.numbytes":
                sizes.append(_decimal(value))
                if len(sizes) != len(offsets):
                    raise ValueError("GNU.sparse.numbytes without its offset")
        if len(sizes) != len(offsets):
            raise ValueError("GNU.sparse.offset without its numbytes")
    except ValueError as exc:
        raise ArchiveError(f"{what}: malformed sparse map ({exc})") from None
    return list(zip(offsets, sizes, strict=True))


# times os.utime can be given: seconds in a 64-bit time_t (file systems clamp what they
# cannot store); beyond it utime raises OverflowError
_MAX_TIME_NS = (1 << 63) * 1_000_000_000


def _parse_time(text: str) -> int:
    """Nanoseconds from a pax time, ``[-]SECONDS[.FRACTION]`` (digits past the ninth
    decimal dropped)."""
    neg = text[:1] == "-"
    secs, _, frac = (text[1:] if neg else text).partition(".")
    if not (secs or frac) or any(p and not (p.isascii() and p.isdigit()) for p in (secs, frac)):
        raise ValueError(text)
    ns = int(secs or "0") * 1_000_000_000 + int((frac + "000000000")[:9])
    if ns >= _MAX_TIME_NS:
        raise ValueError(f"{text}: out of range")
    return -ns if neg else ns
