"""The rules shared by the ASGI and WSGI middlewares: what to skip, how to edit headers."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

#: Media types never compressed: their bytes are already compressed (images, video, audio,
#: archives, fonts). Entries ending in ``/`` match a whole top-level type.
DEFAULT_SKIP_TYPES: frozenset[str] = frozenset(
    {
        "image/",
        "video/",
        "audio/",
        "font/woff",
        "font/woff2",
        "application/font-woff",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/zstd",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/x-brotli",
        "application/x-lz4",
        "application/pdf",
        "application/wasm+gzip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/epub+zip",
        "application/java-archive",
    }
)

#: Exceptions to the ``image/`` rule: text formats.
COMPRESSIBLE_EXCEPTIONS: frozenset[str] = frozenset({"image/svg+xml", "image/x-icon", "image/bmp"})

DEFAULT_LEVELS: dict[str, int] = {"zstd": 3, "br": 4, "gzip": 6}
CODEC_NAMES: dict[str, str] = {"zstd": "zstd", "br": "brotli", "gzip": "gzip"}
ZSTD_WINDOW_LOG = 23  # 8 MiB: the most an HTTP zstd decoder must accept (RFC 9659)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def compressible(content_type: str | None, skip_types: Iterable[str]) -> bool:
    """False for media types listed in ``skip_types`` (``"image/"`` matches all images)."""
    mt = media_type(content_type)
    if not mt or mt in COMPRESSIBLE_EXCEPTIONS:
        return True
    if not isinstance(skip_types, frozenset):
        skip_types = frozenset(skip_types)
    return mt not in skip_types and mt.split("/", 1)[0] + "/" not in skip_types


def merge_vary(existing: str | None) -> str:
    """``Vary`` with ``Accept-Encoding`` added once (kept as is when it is ``*``)."""
    if not existing or not existing.strip():
        return "Accept-Encoding"
    names = [v.strip().lower() for v in existing.split(",")]
    if "*" in names or "accept-encoding" in names:
        return existing
    return existing + ", Accept-Encoding"


def merge_vary_names(existing: str | None, names: Iterable[str]) -> str:
    """``Vary`` with each of ``names`` added once (kept as is when it is ``*``)."""
    vary = existing if existing and existing.strip() else ""
    present = {v.strip().lower() for v in vary.split(",")}
    if "*" in present:
        return vary
    for name in names:
        if name.lower() not in present:
            vary = f"{vary}, {name}" if vary else name
            present.add(name.lower())
    return vary


def weaken_etag(etag: str) -> str:
    """``"x"`` -> ``W/"x"``: the compressed bytes differ from the ones the strong tag named."""
    etag = etag.strip()
    return etag if etag.startswith("W/") else "W/" + etag


def new_compressor(encoding: str, level: int) -> Any:
    """A sans-IO compressor for a content-coding name (``zstd``, ``br``, ``gzip``)."""
    from .. import codecs

    codec = codecs.get(CODEC_NAMES[encoding])
    if encoding == "zstd":
        return _ZstdStream(level)
    if encoding == "gzip":
        return codec.new_compressor(level, strategy="stream")
    return codec.new_compressor(level)


def padding_value(max_padding: int) -> str:
    """A random-length header value (0..max_padding characters) against BREACH length probes."""
    n = secrets.randbelow(max_padding + 1)
    return secrets.token_urlsafe(n)[:n] if n else ""


def cache_control_no_transform(value: str | None) -> bool:
    return value is not None and "no-transform" in value.lower()


class Options:
    """Validated middleware settings; see :class:`chute.web.CompressionMiddleware` for their meaning."""

    def __init__(
        self,
        *,
        minimum_size: int = 500,
        encodings: Iterable[str] = ("zstd", "br", "gzip"),
        levels: dict[str, int] | None = None,
        skip_types: Iterable[str] = DEFAULT_SKIP_TYPES,
        breach_padding: int = 0,
        decompress_requests: bool = False,
        max_request_size: int = 10 << 20,
        cache_size: int | None = None,
        dictionaries: Any = None,
    ) -> None:
        self.encodings = tuple(encodings)
        #: a :class:`chute.web.dictionary.DictionaryStore`: ``dcz`` responses (RFC 9842)
        self.dictionaries = dictionaries
        for enc in self.encodings:
            if enc not in CODEC_NAMES:
                raise ValueError(f"unknown content-coding {enc!r} (use zstd, br, gzip)")
        if minimum_size < 0 or breach_padding < 0 or max_request_size <= 0:
            raise ValueError("minimum_size and breach_padding must be >= 0, max_request_size > 0")
        self.minimum_size = minimum_size
        self.levels = {**DEFAULT_LEVELS, **(levels or {})}
        self.skip_types = frozenset(skip_types)
        self.breach_padding = breach_padding
        self.decompress_requests = decompress_requests
        self.max_request_size = max_request_size
        self.whole = WholeBodyCompressor(self.levels, cache_size)

    def vary(self, existing: str | None) -> str:
        """``Vary`` for a response that depends on the request's codings (and, with
        dictionaries, on ``Available-Dictionary``)."""
        if self.dictionaries is None:
            return merge_vary(existing)
        return merge_vary_names(existing, ("Accept-Encoding", "Available-Dictionary"))

    def skip_reason(
        self,
        *,
        method: str,
        range_requested: bool,
        status: int,
        headers: dict[str, str],
        size: int | None,
    ) -> str | None:
        """Why a response must go out as it is, or None to compress it.

        ``headers`` are the response headers with lower-case names; ``size`` is the body size
        when it is known (whole body in one piece, or a Content-Length), else None.
        """
        if method == "HEAD":
            return "HEAD"
        if status < 200 or status in (204, 206, 304):
            return f"status {status}"
        if range_requested or "content-range" in headers:
            return "range"
        if headers.get("content-encoding", "identity").strip().lower() != "identity":
            return "already encoded"
        if cache_control_no_transform(headers.get("cache-control")):
            return "no-transform"
        if not compressible(headers.get("content-type"), self.skip_types):
            return "already compressed type"
        if size is not None and size < self.minimum_size:
            return "small"
        return None


def _zstd_options(z: Any, level: int) -> dict[int, int]:
    """zstd parameters of every response (``z``: :func:`chute.codecs.zstd.core`): the
    level, no content checksum, and a window of at most 8 MiB (RFC 9659), which only
    levels 20 and up would exceed."""
    options = {z.ZSTD_c_compressionLevel: level, z.ZSTD_c_checksumFlag: 0}
    if level >= 20:
        options[z.ZSTD_c_windowLog] = ZSTD_WINDOW_LOG
    return options


class _ZstdPool:
    """Reusable zstd contexts for whole bodies: a context reset costs far less than a new one.

    A whole body is compressed in one ``FLUSH_FRAME`` call, which lets zstd size its tables and
    window to the body (and write its size in the frame header).
    """

    def __init__(self, level: int, keep: int = 64) -> None:
        self.level = level
        self.keep = keep
        self.free: list[Any] = []
        self._z: Any = None

    def compress(self, body: bytes) -> bytes:
        z = self._z
        if z is None:
            from ..codecs.zstd import core

            z = self._z = core()
        try:
            c = self.free.pop()
        except IndexError:
            c = z.ZstdCompressor(options=_zstd_options(z, self.level))
        out: bytes = c.compress(body, mode=z.ZstdCompressor.FLUSH_FRAME)
        if len(self.free) < self.keep:
            self.free.append(c)
        return out


class WholeBodyCompressor:
    """One-shot compression of a body known whole, the fastest way each format offers,
    through a :class:`~chute.web.cache.BodyCache` of ``cache_size`` bytes (``None``: the
    default 16 MiB, 0: no cache)."""

    def __init__(self, levels: dict[str, int], cache_size: int | None = None) -> None:
        from .cache import DEFAULT_CACHE_SIZE, BodyCache

        self.levels = levels
        self._zstd = _ZstdPool(levels["zstd"])
        self.cache = BodyCache(DEFAULT_CACHE_SIZE if cache_size is None else cache_size)

    def compress(self, encoding: str, body: bytes) -> bytes:
        body = bytes(body)  # a bytearray or memoryview would make a mutable cache key
        key = self.cache.key(encoding, body)
        if key is None:
            return self._compress(encoding, body)
        data = self.cache.get(key, body)
        if data is None:
            data = self._compress(encoding, body)
            self.cache.put(key, body, data)
        return data

    def _compress(self, encoding: str, body: bytes) -> bytes:
        level = self.levels[encoding]
        if encoding == "zstd":
            return self._zstd.compress(body)
        if encoding == "gzip":
            from .. import codecs

            c = codecs.get("gzip").new_compressor(level, block_size=max(len(body), 1))  # libdeflate
        else:
            c = new_compressor(encoding, level)
        return bytes(c.compress(body) + c.finish())


#: Streamed zstd responses: smaller match tables than the level's default, so that hundreds of
#: open streams stay cheap (the tables are zeroed, hence resident, at the start of each frame).
ZSTD_STREAM_HASH_LOG = 15
ZSTD_STREAM_CHAIN_LOG = 15


class _ZstdStream:
    """A zstd compressor for a streamed response: window at most 8 MiB (RFC 9659), small tables."""

    def __init__(self, level: int) -> None:
        from ..codecs.zstd import core

        z = core()
        options = _zstd_options(z, level)
        if level <= 9:
            options[z.ZSTD_c_hashLog] = ZSTD_STREAM_HASH_LOG
            options[z.ZSTD_c_chainLog] = ZSTD_STREAM_CHAIN_LOG
        self._c = z.ZstdCompressor(options=options)
        self._cls = z.ZstdCompressor

    def compress(self, data: bytes) -> bytes:
        return bytes(self._c.compress(data))

    def flush(self) -> bytes:
        return bytes(self._c.flush(self._cls.FLUSH_BLOCK))

    def finish(self) -> bytes:
        return bytes(self._c.flush(self._cls.FLUSH_FRAME))
