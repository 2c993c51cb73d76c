"""Tar blocks built by hand, from the specifications, for shapes no installed tool writes.

POSIX.1-2017 ``pax`` (ustar header layout, extended header records ``"%d %s=%s\\n"``),
the GNU tar manual's "Tar Internals" (old GNU magic ``"ustar  \\0"``, long names ``L``/``K``,
dumpdir ``D``), and the V7 layout (no magic: name, mode, uid, gid, size, mtime, checksum,
link flag, link name). Everything is bytes, so a test can put any byte anywhere.

    data = archive(
        pax(record(b"path", b"a/b")),
        member(b"ignored", b"hello\\n"),
    )
"""

from __future__ import annotations

BLOCK = 512

MAGICS = {
    "ustar": b"ustar\x0000",  # POSIX: "ustar\0" + version "00"
    "gnu": b"ustar  \x00",  # old GNU: "ustar " + " \0"
    "v7": b"\0" * 8,  # before POSIX: no magic at all
}


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def header(
    name: bytes,
    type: bytes = b"0",
    *,
    size: int = 0,
    mode: int = 0o644,
    mtime: int = 1_700_000_000,
    uid: int = 1000,
    gid: int = 1000,
    linkname: bytes = b"",
    magic: str = "ustar",
    prefix: bytes = b"",
    uname: bytes = b"",
    gname: bytes = b"",
    checksum: int | None = None,
) -> bytes:
    """One 512-byte header block. ``magic`` is ``"ustar"``, ``"gnu"`` or ``"v7"`` (then the
    bytes from offset 257 on stay zero); ``checksum`` overrides the computed one."""
    if len(name) > 100 or len(linkname) > 100 or len(prefix) > 155 or len(type) != 1:
        raise ValueError("field too long")
    h = bytearray(BLOCK)
    h[0 : len(name)] = name
    h[100:108] = _octal(mode, 8)
    h[108:116] = _octal(uid, 8)
    h[116:124] = _octal(gid, 8)
    h[124:136] = _octal(size, 12)
    h[136:148] = _octal(mtime, 12)
    h[156:157] = type
    h[157 : 157 + len(linkname)] = linkname
    if magic != "v7":
        h[257:265] = MAGICS[magic]
        h[265 : 265 + len(uname)] = uname
        h[297 : 297 + len(gname)] = gname
        h[329:337] = _octal(0, 8)
        h[337:345] = _octal(0, 8)
        h[345 : 345 + len(prefix)] = prefix
    h[148:156] = b" " * 8
    total = sum(h) if checksum is None else checksum
    h[148:156] = b"%06o\0 " % total
    return bytes(h)


def pad(data: bytes) -> bytes:
    """``data`` followed by zeros up to a whole number of blocks."""
    return data + b"\0" * (-len(data) % BLOCK)


def member(name: bytes, data: bytes = b"", type: bytes = b"0", **fields: object) -> bytes:
    """A header whose size field is ``len(data)``, then the data, padded."""
    return header(name, type, size=len(data), **fields) + pad(data)  # type: ignore[arg-type]


def record(key: bytes, value: bytes) -> bytes:
    """One well-formed pax record ``"LEN KEY=VALUE\\n"`` (LEN counts itself)."""
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(b"%d" % n) + len(body) != n:
        n = len(b"%d" % n) + len(body)
    return b"%d" % n + body


def pax(records: bytes, type: bytes = b"x", name: bytes = b"PaxHeaders.0/f", **fields: object) -> bytes:
    """An extended header member (``x``, ``g``, Solaris ``X``) holding ``records`` as they are."""
    return member(name, records, type, **fields)


def gnu_long(value: bytes, type: bytes = b"L") -> bytes:
    """A GNU long name (``L``) or long link name (``K``) header, NUL-terminated as GNU tar writes it."""
    return member(b"././@LongLink", value + b"\0", type, magic="gnu", mode=0o644, uid=0, gid=0, mtime=0)


def end() -> bytes:
    """The end-of-archive marker: two zero blocks."""
    return bytes(2 * BLOCK)


def archive(*parts: bytes) -> bytes:
    """``parts`` joined, then the end-of-archive marker."""
    return b"".join(parts) + end()
