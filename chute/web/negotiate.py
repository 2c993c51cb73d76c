"""``Accept-Encoding`` parsing and content-coding choice (RFC 9110 section 12.5.3).

Pure functions, no I/O: the ASGI and WSGI middlewares and the static helper share them.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DEFAULT_PREFERENCE", "parse_accept_encoding", "choose_encoding"]

#: Server preference when the client gives several codings the same q-value.
DEFAULT_PREFERENCE: tuple[str, ...] = ("zstd", "br", "gzip")

_ALIASES = {"x-gzip": "gzip"}


def _qvalue(text: str) -> float | None:
    """A q-value (0..1, at most three decimals), or None when it is malformed."""
    text = text.strip()
    try:
        q = float(text)
    except ValueError:
        return None
    if not 0.0 <= q <= 1.0 or text.lower() in {"nan", "inf"}:
        return None
    return q


def parse_accept_encoding(header: str | None) -> dict[str, float]:
    """Map each coding named in ``header`` (lower-cased, ``x-gzip`` -> ``gzip``) to its q-value.

    Elements with a malformed q-value are ignored (RFC 9110: a recipient may ignore them). When a
    coding appears twice, the highest q wins. ``*`` is kept as the key ``"*"``.
    """
    result: dict[str, float] = {}
    if not header:
        return result
    for element in header.split(","):
        parts = element.split(";")
        coding = parts[0].strip().lower()
        if not coding:
            continue
        q: float | None = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = _qvalue(value)
        if q is None:
            continue
        coding = _ALIASES.get(coding, coding)
        result[coding] = max(q, result.get(coding, 0.0))
    return result


def choose_encoding(header: str | None, available: Sequence[str] = DEFAULT_PREFERENCE) -> str | None:
    """The coding to use for a client sending ``header``, or None for identity (no coding).

    ``available`` lists the codings the server offers, best first: it breaks ties between equal
    q-values, while a higher client q-value always wins. A coding is acceptable when it is listed
    with q > 0, or not listed and ``*`` has q > 0; ``q=0`` means never. No header means identity.
    """
    accepted = parse_accept_encoding(header)
    if not accepted:
        return None
    star = accepted.get("*", 0.0)
    best: str | None = None
    best_q = 0.0
    for coding in available:
        q = accepted.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    return best
