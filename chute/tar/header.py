"""Tar headers: encode PAX/ustar blocks and decode ustar, GNU and PAX ones (no I/O here)."""

from __future__ import annotations

import stat
import struct
from zlib import adler32

from ..errors import ArchiveError
from ..quoting import quote

__all__ = ["BLOCK", "Member", "REGULAR", "HARDLINK", "SYMLINK", "CHARDEV", "BLOCKDEV", "DIRECTORY", "FIFO"]

BLOCK = 512
REGULAR = b"0"
HARDLINK = b"1"
SYMLINK = b"2"
CHARDEV = b"3"
BLOCKDEV = b"4"
DIRECTORY = b"5"
FIFO = b"6"
CONTIGUOUS = b"7"
PAX_LOCAL = b"x"
PAX_GLOBAL = b"g"
GNU_LONGNAME = b"L"
GNU_LONGLINK = b"K"
GNU_SPARSE = b"S"

_TYPE_BITS = {
    REGULAR: stat.S_IFREG,
    HARDLINK: stat.S_IFREG,
    SYMLINK: stat.S_IFLNK,
    CHARDEV: stat.S_IFCHR,
    BLOCKDEV: stat.S_IFBLK,
    DIRECTORY: stat.S_IFDIR,
    FIFO: stat.S_IFIFO,
}
_TYPE_CHARS = {REGULAR: "-", HARDLINK: "h", SYMLINK: "l", CHARDEV: "c", BLOCKDEV: "b", DIRECTORY: "d", FIFO: "p"}


class _Record:
    """What ``@dataclasses.dataclass`` gave these small classes, without importing it
    (dataclasses loads inspect, ast and re: 15 ms of start-up): ``__eq__`` and
    ``__repr__`` over the fields, in ``__slots__`` order; unhashable, as a dataclass is."""

    __slots__: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{self.__class__.__qualname__}({fields})"


class Member(_Record):
    """One archive member, as read or about to be written.

    ``name`` and ``linkname`` are ``str`` (UTF-8, undecodable bytes kept as surrogates);
    ``mtime_ns`` is an integer of nanoseconds; ``size`` is the size of the data that
    follows (0 for everything but regular files). ``sparse`` holds the hole map of a GNU
    sparse member (``(offset, length)`` runs of stored data) and ``real_size`` its full size.
    """

    __slots__ = (  # noqa: RUF023 - in field order: the repr and the constructor's
        "name",
        "type",
        "mode",
        "size",
        "mtime_ns",
        "linkname",
        "uid",
        "gid",
        "uname",
        "gname",
        "devmajor",
        "devminor",
        "sparse",
        "real_size",
    )

    def __init__(
        self,
        name: str,
        type: bytes = REGULAR,
        mode: int = 0o644,
        size: int = 0,
        mtime_ns: int = 0,
        linkname: str = "",
        uid: int = 0,
        gid: int = 0,
        uname: str = "",
        gname: str = "",
        devmajor: int = 0,
        devminor: int = 0,
        sparse: list[tuple[int, int]] | None = None,
        real_size: int | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.mode = mode
        self.size = size
        self.mtime_ns = mtime_ns
        self.linkname = linkname
        self.uid = uid
        self.gid = gid
        self.uname = uname
        self.gname = gname
        self.devmajor = devmajor
        self.devminor = devminor
        self.sparse = sparse
        self.real_size = real_size

    def isfile(self) -> bool:
        return self.type == REGULAR

    def isdir(self) -> bool:
        return self.type == DIRECTORY

    def issym(self) -> bool:
        return self.type == SYMLINK

    def islnk(self) -> bool:
        return self.type == HARDLINK

    @property
    def data_size(self) -> int:
        """Size of the member once read: the real size of a sparse file."""
        return self.real_size if self.real_size is not None else self.size

    def filemode(self) -> str:
        """``ls -l`` style mode string, e.g. ``drwxr-xr-x``."""
        return _TYPE_CHARS.get(self.type, "?") + stat.filemode(self.mode & 0o7777)[1:]

    def st_mode(self) -> int:
        return _TYPE_BITS.get(self.type, stat.S_IFREG) | (self.mode & 0o7777)


# ----------------------------------------------------------------------------- encoding


def _octal(value: int, width: int) -> bytes | None:
    """``width``-byte NUL-terminated octal field, or None when it does not fit."""
    if value < 0 or value >= 8 ** (width - 1):
        return None
    return b"%0*o\0" % (width - 1, value)


def _pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode("utf-8", "surrogateescape")
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


def _split_ustar(name: bytes) -> tuple[bytes, bytes] | None:
    """(prefix, name) for ustar, or None when ``name`` cannot be stored there."""
    if len(name) <= 100:
        return b"", name
    if len(name) > 256:
        return None
    i = name.rfind(b"/", 0, 156)
    while i > 0:
        if len(name) - i - 1 <= 100 and i <= 155:
            return name[:i], name[i + 1 :]
        i = name.rfind(b"/", 0, i)
    return None


def _block(name: bytes, prefix: bytes, m: Member, fields: dict[str, bytes], typeflag: bytes, link: bytes) -> bytes:
    h = bytearray(BLOCK)
    h[0 : len(name)] = name
    h[100:108] = fields["mode"]
    h[108:116] = fields["uid"]
    h[116:124] = fields["gid"]
    h[124:136] = fields["size"]
    h[136:148] = fields["mtime"]
    h[148:156] = b"        "
    h[156:157] = typeflag
    h[157 : 157 + len(link)] = link
    h[257:265] = b"ustar\x0000"
    un = m.uname.encode("utf-8", "surrogateescape")[:31]
    gn = m.gname.encode("utf-8", "surrogateescape")[:31]
    h[265 : 265 + len(un)] = un
    h[297 : 297 + len(gn)] = gn
    if typeflag in (CHARDEV, BLOCKDEV):
        h[329:337] = _octal(m.devmajor, 8) or b"0000000\0"
        h[337:345] = _octal(m.devminor, 8) or b"0000000\0"
    h[345 : 345 + len(prefix)] = prefix
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def encode(m: Member) -> bytes:
    """The header block(s) for ``m``: one ustar block, preceded by a PAX one when needed.

    A PAX extended header carries what ustar cannot: names over its limits or not ASCII,
    sizes of 8 GiB and more, sub-second mtimes, large ids.
    """
    pax: list[tuple[str, str]] = []
    bname = m.name.encode("utf-8", "surrogateescape")
    blink = m.linkname.encode("utf-8", "surrogateescape")
    split = _split_ustar(bname) if bname.isascii() else None
    if split is None:
        pax.append(("path", m.name))
        short = bname.decode("ascii", "ignore")[-100:].encode()
        prefix, name = b"", short or b"_"
    else:
        prefix, name = split
    if len(blink) > 100 or not blink.isascii():
        pax.append(("linkpath", m.linkname))
        blink = blink.decode("ascii", "ignore")[:100].encode()
    fields: dict[str, bytes] = {"mode": _octal(m.mode & 0o7777, 8) or b"0000644\0"}
    for key, value, width in (("uid", m.uid, 8), ("gid", m.gid, 8), ("size", m.size, 12)):
        enc = _octal(value, width)
        if enc is None:
            pax.append((key, str(value)))
            enc = b"0" * (width - 1) + b"\0"
        fields[key] = enc
    secs, frac = divmod(m.mtime_ns, 1_000_000_000)
    enc = _octal(secs, 12)
    if frac or enc is None:
        pax.append(("mtime", f"{secs}.{frac:09d}".rstrip("0").rstrip(".") if frac else str(secs)))
    fields["mtime"] = enc or b"0" * 11 + b"\0"
    for key, text in (("uname", m.uname), ("gname", m.gname)):
        raw = text.encode("utf-8", "surrogateescape")
        if len(raw) > 31 or not raw.isascii():
            pax.append((key, text))
    out = b""
    if pax:
        data = b"".join(_pax_record(k, v) for k, v in pax)
        base = name.rsplit(b"/", 1)[-1][:80] or b"_"
        pm = Member(name="", mode=0o644, size=len(data), mtime_ns=min(max(secs, 0), 8**11 - 1) * 10**9)
        pfields = {
            "mode": b"0000644\0",
            "uid": b"0000000\0",
            "gid": b"0000000\0",
            "size": _octal(len(data), 12) or b"",
            "mtime": _octal(min(max(secs, 0), 8**11 - 1), 12) or b"",
        }
        out = _block(b"PaxHeaders/" + base, b"", pm, pfields, PAX_LOCAL, b"") + data + b"\0" * (-len(data) % BLOCK)
    return out + _block(name, prefix, m, fields, m.type, blink)


def end_of_archive() -> bytes:
    return b"\0" * (2 * BLOCK)


# ----------------------------------------------------------------------------- decoding


def parse_number(field: bytes) -> int:
    """An octal (NUL/space padded) or GNU base-256 numeric field."""
    if field and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big") | ((field[0] & 0x3F) << (8 * (len(field) - 1)))
        return -((1 << (8 * len(field) - 1)) - value) if field[0] & 0x40 else value
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    if text.translate(None, _OCTAL_DIGITS):  # int() would take "+", "_" and inner spaces
        shown = quote(field.rstrip(b"\0"))
        raise ArchiveError(f"invalid number '{shown}' in a tar header")
    return int(text, 8)


_OCTAL_DIGITS = b"01234567"
_OCTAL_OR_NUL = b"01234567\0"


def _cstr(field: bytes) -> bytes:
    return field.partition(b"\0")[0]


def checksum_ok(block: bytes) -> bool:
    # The unsigned sum of the block with the checksum field read as spaces. Each half's
    # byte sum is below 65521, so adler32's low half (1 + sum mod 65521) gives it exactly,
    # an order of magnitude faster than sum() on a bytes object.
    view = memoryview(block)
    field = block[148:156]
    if field[6:] == b"\0 " and not field[:6].translate(None, _OCTAL_DIGITS):  # as most tars write it
        stored = int(field[:6], 8)
    else:
        try:
            stored = parse_number(field)
        except ArchiveError:  # not a number: not a header
            return False
    unsigned = (adler32(view[:256]) & 0xFFFF) + (adler32(view[256:]) & 0xFFFF) - 2 - sum(view[148:156]) + 256
    if stored == unsigned:
        return True
    signed = sum(b - 256 if b > 127 else b for b in block[:148]) + 256
    signed += sum(b - 256 if b > 127 else b for b in block[156:])
    return stored == signed


def decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


# name mode uid gid size mtime chksum typeflag linkname magic+version uname gname devmajor devminor prefix
_USTAR = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s")
_PLAIN_NUMBERS = (7, 7, 7, 11, 11, 0)
_OCTAL = (8, 8, 8, 8, 8)


def decode(block: bytes) -> Member:
    """Parse one 512-byte header block (checksum already checked)."""
    (name, mode, uid, gid, size, mtime, _, typeflag, link, magic, uname, gname, major, minor, prefix) = (
        _USTAR.unpack_from(block)
    )
    if typeflag == b"\0" or typeflag == CONTIGUOUS:
        typeflag = REGULAR
    name = name.partition(b"\0")[0]
    if magic == b"ustar\x0000" or magic[:6] == b"ustar\0":
        prefix = prefix.partition(b"\0")[0]
        if prefix:
            name = prefix + b"/" + name
    # The usual numeric fields, 7 and 11 octal digits each NUL-terminated, in one split;
    # anything else (spaces, base-256, garbage) goes through the general parser.
    raw = block[100:148]
    nums = raw.split(b"\0")
    if not raw.translate(None, _OCTAL_OR_NUL) and tuple(map(len, nums)) == _PLAIN_NUMBERS:
        imode, iuid, igid, isize, imtime = map(int, nums[:5], _OCTAL)
    else:
        imode, iuid, igid, isize, imtime = map(parse_number, (mode, uid, gid, size, mtime))
    m = Member(
        name.decode("utf-8", "surrogateescape"),
        typeflag,
        imode & 0o7777,
        isize,
        imtime * 1_000_000_000,
        link.partition(b"\0")[0].decode("utf-8", "surrogateescape"),
        iuid,
        igid,
        uname.partition(b"\0")[0].decode("utf-8", "surrogateescape"),
        gname.partition(b"\0")[0].decode("utf-8", "surrogateescape"),
    )
    if typeflag in (CHARDEV, BLOCKDEV):
        m.devmajor = parse_number(major)
        m.devminor = parse_number(minor)
    if m.size < 0:
        raise ArchiveError(f"negative size {m.size} in a tar header")
    return m


def gnu_sparse_entries(area: bytes, count: int) -> list[tuple[int, int]]:
    """(offset, numbytes) pairs from ``count`` 24-byte old-GNU sparse slots."""
    out = []
    for i in range(count):
        slot = area[i * 24 : i * 24 + 24]
        if not slot[:1].strip(b"\0"):
            break
        out.append((parse_number(slot[:12]), parse_number(slot[12:24])))
    return out


# keys whose values are names: a NUL in them is refused (as Go's archive/tar does), not cut
_NAME_KEYS = frozenset((b"path", b"linkpath", b"uname", b"gname"))
_MAX_LENGTH_DIGITS = 20  # a record longer than 10**20 bytes cannot be in a header we read


def pax_records(data: bytes, what: str) -> list[tuple[str, str]]:
    """The records ``"LEN KEY=VALUE\\n"`` of a PAX extended header, in order.

    LEN is the record's length in decimal (ASCII digits, no sign, no leading zero), and
    counts itself, the space and the newline. Refused with :class:`ArchiveError` (``what``
    says which header): a length that is not such a number or not followed by one space,
    a record that does not end with a newline where its length says, a record cut by the
    end of the data, no ``=``, an empty key, a NUL in a key or in the value of ``path``,
    ``linkpath``, ``uname`` or ``gname``. NUL bytes may pad the data after the last record
    (GNU tar reads such headers); anything else there is refused. Keys and values are
    decoded as UTF-8, undecodable bytes kept as surrogates.
    """
    out: list[tuple[str, str]] = []
    pos = 0
    n = len(data)
    while pos < n:
        if data[pos] == 0:
            if data[pos:].strip(b"\0"):
                raise ArchiveError(f"{what}: malformed record at byte {pos}: bytes after the padding")
            break
        sp = data.find(b" ", pos, pos + _MAX_LENGTH_DIGITS + 1)
        digits = data[pos:sp] if sp > pos else b""
        if not digits or digits.translate(None, b"0123456789") or digits[0] == 0x30:
            raise ArchiveError(f"{what}: malformed record at byte {pos}: no length")
        length = int(digits)
        end = pos + length
        if end > n:
            raise ArchiveError(f"{what}: malformed record at byte {pos}: cut short (length {length})")
        if end <= sp + 1 or data[end - 1] != 0x0A:
            raise ArchiveError(f"{what}: malformed record at byte {pos}: length {length} does not end the record")
        key, eq, value = data[sp + 1 : end - 1].partition(b"=")
        if not eq:
            raise ArchiveError(f"{what}: malformed record at byte {pos}: no '='")
        if not key or 0 in key:
            raise ArchiveError(f"{what}: malformed record at byte {pos}: empty key or NUL in the key")
        if 0 in value and key in _NAME_KEYS:
            raise ArchiveError(f"{what}: malformed record at byte {pos}: NUL in the value of '{key.decode()}'")
        out.append((key.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape")))
        pos = end
    return out


def parse_pax(data: bytes, what: str) -> dict[str, str]:
    """The records of a PAX extended header as a dict (the last of repeated keys wins);
    refused as :func:`pax_records` says."""
    return dict(pax_records(data, what))
