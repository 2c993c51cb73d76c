"""How member names are shown: GNU tar's default ``escape`` quoting, over UTF-8.

A name is printed as it is when every character is printable; otherwise ``\\a \\b \\f
\\n \\r \\t \\v`` for those controls, ``\\\\`` for a backslash, and ``\\ooo`` (three octal
digits) for each byte of anything else that is not printable: other control characters,
DEL, C1 controls, invisible format characters, and bytes that are not UTF-8. So
``"a\\nb"`` shows as ``a\\nb`` and the byte ``0x83`` as ``\\203``, as ``tar -t`` shows them in
a UTF-8 locale (which prints the invisible format characters, such as U+200B or the
bidirectional overrides, as they are: chute escapes them). No output line can be split,
faked or hidden by a name. Names are always read as UTF-8 (the archive's bytes), whatever
the locale.
"""

from __future__ import annotations

__all__ = ["quote", "quote_bytes"]

_NAMED = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 92: "\\\\"}
# printable ASCII but the backslash: names made only of these print as they are
_PLAIN = bytes(i for i in range(0x20, 0x7F) if i != 0x5C)


def quote_bytes(raw: bytes) -> bytes:
    """``raw`` (a name's bytes) quoted for output, as UTF-8 bytes."""
    if not raw.translate(None, _PLAIN):
        return raw
    return _quote(raw.decode("utf-8", "surrogateescape")).encode()


def quote(name: str | bytes) -> str:
    """``name`` quoted for output; a ``str`` is taken as decoded with ``surrogateescape``
    (undecodable bytes show as their octal escapes, never as ``\\udcXX``)."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "surrogateescape")
    if name.isprintable() and "\\" not in name:
        return name
    return _quote(name)


def _quote(name: str) -> str:
    out = []
    for ch in name:
        c = ord(ch)
        if c < 0x80:
            if 0x20 <= c < 0x7F and c != 0x5C:
                out.append(ch)
            else:
                out.append(_NAMED.get(c) or f"\\{c:03o}")
        elif 0xDC80 <= c <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\{c - 0xDC00:03o}")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8", "surrogatepass"))
    return "".join(out)
