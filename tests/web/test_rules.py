"""Every compress/skip rule, for the ASGI and the WSGI middleware alike (in-process)."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.web import CompressionMiddleware, WSGICompressionMiddleware

from . import apps, inproc


def make(kind: str, **options: Any) -> tuple[Any, Any]:
    if kind == "asgi":
        return CompressionMiddleware(apps.asgi_app, **options), inproc.asgi
    return WSGICompressionMiddleware(apps.wsgi_app, **options), inproc.wsgi


KINDS = pytest.mark.parametrize("kind", ["asgi", "wsgi"])


@KINDS
@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
def test_whole_body_compressed(kind: str, encoding: str) -> None:
    mw, call = make(kind)
    status, h, body, _ = call(mw, "/page", headers={"Accept-Encoding": encoding})
    assert status == 200
    assert h["content-encoding"] == encoding
    assert h["vary"] == "Cookie, Accept-Encoding"
    assert h["etag"] == 'W/"v1"'
    assert int(h["content-length"]) == len(body) < len(apps.PAGE) // 3
    assert inproc.decode(encoding, body) == apps.PAGE


@KINDS
def test_identity_when_not_accepted_still_varies(kind: str) -> None:
    mw, call = make(kind)
    for headers in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0, deflate"}):
        _, h, body, _ = call(mw, "/page", headers=headers)
        assert "content-encoding" not in h and body == apps.PAGE
        assert h["vary"] == "Cookie, Accept-Encoding" and h["etag"] == '"v1"'


@KINDS
@pytest.mark.parametrize(
    ("path", "method", "req_headers"),
    [
        ("/small", "GET", {}),
        ("/image", "GET", {}),
        ("/encoded", "GET", {}),
        ("/notransform", "GET", {}),
        ("/partial", "GET", {}),
        ("/page", "GET", {"Range": "bytes=0-99"}),
        ("/page", "HEAD", {}),
        ("/nocontent", "GET", {}),
        ("/notmodified", "GET", {}),
        ("/streamsmall", "GET", {}),
    ],
)
def test_skipped(kind: str, path: str, method: str, req_headers: dict[str, str]) -> None:
    mw, call = make(kind)
    plain = call(make(kind)[0].app, path, method=method, headers=req_headers)
    status, h, body, _ = call(mw, path, method=method, headers={"Accept-Encoding": "zstd, br, gzip", **req_headers})
    assert status == plain[0]
    assert body == plain[2]
    assert h.get("content-encoding") == plain[1].get("content-encoding")
    assert h.get("etag") == plain[1].get("etag")


@KINDS
def test_small_limit_is_configurable(kind: str) -> None:
    mw, call = make(kind, minimum_size=5)
    _, h, body, _ = call(mw, "/small", headers={"Accept-Encoding": "gzip"})
    assert h["content-encoding"] == "gzip" and gzip.decompress(body) == apps.SMALL


@KINDS
def test_skip_types_configurable(kind: str) -> None:
    mw, call = make(kind, skip_types=["text/"])
    _, h, _, _ = call(mw, "/page", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in h
    mw, call = make(kind, skip_types=[])
    _, h, body, _ = call(mw, "/image", headers={"Accept-Encoding": "gzip"})
    assert h["content-encoding"] == "gzip" and gzip.decompress(body) == apps.PNG


@KINDS
@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
def test_stream_compressed_and_each_piece_decodable(kind: str, encoding: str) -> None:
    mw, call = make(kind)
    _, h, body, pieces = call(mw, "/stream", headers={"Accept-Encoding": encoding})
    assert h["content-encoding"] == encoding and "content-length" not in h
    assert inproc.decode(encoding, body) == b"".join(apps.CHUNKS)
    # flushed per piece: every prefix of whole pieces decodes to a prefix of the data
    from chute.codecs._stream import StreamDecoder

    dec = StreamDecoder(inproc.NAMES[encoding])
    got = b""
    for i, piece in enumerate(pieces[: len(apps.CHUNKS)]):
        got += dec.decompress(piece)
        assert got == b"".join(apps.CHUNKS[: i + 1])


@KINDS
def test_wrong_content_length_dropped(kind: str) -> None:
    mw, call = make(kind)
    _, h, body, _ = call(mw, "/wronglength", headers={"Accept-Encoding": "gzip"})
    assert "content-length" not in h and gzip.decompress(body) == apps.PAGE


@KINDS
def test_breach_padding_header(kind: str) -> None:
    mw, call = make(kind, breach_padding=64)
    lengths = set()
    for _ in range(20):
        _, h, body, _ = call(mw, "/page", headers={"Accept-Encoding": "gzip"})
        assert gzip.decompress(body) == apps.PAGE
        lengths.add(len(h["chute-padding"]))
        assert all(0 <= n <= 64 for n in lengths)
    assert len(lengths) > 3


@KINDS
def test_encodings_option(kind: str) -> None:
    mw, call = make(kind, encodings=["gzip", "zstd"])
    _, h, _, _ = call(mw, "/page", headers={"Accept-Encoding": "br, zstd, gzip"})
    assert h["content-encoding"] == "gzip"


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="content-coding"):
        CompressionMiddleware(apps.asgi_app, encodings=["lz4"])
    with pytest.raises(ValueError):
        WSGICompressionMiddleware(apps.wsgi_app, minimum_size=-1)


def test_zstd_window_at_most_8_mib() -> None:
    from chute.web._policy import new_compressor

    c = new_compressor("zstd", 22)  # level 22 would use a 128 MiB window unbounded
    frame = c.compress(b"x" * 100) + c.flush() + c.finish()
    # frame header descriptor: no single-segment flag unless content size known; check window
    fhd = frame[4]
    assert not fhd & 0x20  # streamed: no single-segment flag, so a Window_Descriptor follows
    wd = frame[5]
    exponent, mantissa = wd >> 3, wd & 7
    window = (1 << (10 + exponent)) + ((1 << (10 + exponent)) // 8) * mantissa
    assert window <= 8 << 20


# -- request bodies ----------------------------------------------------------------------------

BODY = apps.PAGE * 3


def _encode(coding: str, data: bytes) -> bytes:
    from chute import compress

    fmt = {"gzip": "gzip", "deflate": "zlib", "br": "brotli", "zstd": "zstd"}[coding]
    return compress(data, format=fmt)


@KINDS
@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_request_body_decoded(kind: str, coding: str) -> None:
    import hashlib

    mw, call = make(kind, decompress_requests=True)
    status, _, body, _ = call(
        mw, "/echo", method="POST", headers={"Content-Encoding": coding}, body=_encode(coding, BODY)
    )
    assert status == 200
    assert body == b"%d %s" % (len(BODY), hashlib.sha256(BODY).hexdigest().encode())


@KINDS
def test_request_bomb_refused_413(kind: str) -> None:
    bomb = zlib.compress(bytes(50 << 20), 9)  # 50 MiB of zeros in ~50 KiB
    mw, call = make(kind, decompress_requests=True, max_request_size=1 << 20)
    status, _, body, _ = call(mw, "/echo", method="POST", headers={"Content-Encoding": "deflate"}, body=bomb)
    assert status == 413 and b"more than" in body


@KINDS
def test_request_corrupt_400_unknown_415(kind: str) -> None:
    mw, call = make(kind, decompress_requests=True)
    status, _, _, _ = call(mw, "/echo", method="POST", headers={"Content-Encoding": "gzip"}, body=b"not gzip at all")
    assert status == 400
    status, _, _, _ = call(mw, "/echo", method="POST", headers={"Content-Encoding": "compress"}, body=b"x")
    assert status == 415


@KINDS
def test_request_not_decoded_without_option(kind: str) -> None:
    mw, call = make(kind)
    raw = gzip.compress(b"hello")
    _, _, body, _ = call(mw, "/echo", method="POST", headers={"Content-Encoding": "gzip"}, body=raw)
    assert body.startswith(b"%d " % len(raw))


def _post_pieces(mw: Any, pieces: list[bytes], coding: str) -> tuple[int, bytes]:
    import asyncio

    sent: list[dict[str, Any]] = []
    msgs = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]
    scope = {"type": "http", "method": "POST", "path": "/echo", "headers": [(b"content-encoding", coding.encode())]}

    async def receive() -> dict[str, Any]:
        assert msgs, "receive() called after the last request body message"
        return msgs.pop(0)

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    asyncio.run(mw(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@settings(max_examples=examples(40), deadline=None)
@given(
    st.binary(max_size=3000).map(lambda b: b * 50),
    st.lists(st.integers(1, 5000), min_size=1, max_size=30),
    st.sampled_from(["gzip", "deflate", "br", "zstd"]),
)
def test_request_body_any_split(data: bytes, cuts: list[int], coding: str) -> None:
    """However the compressed body is split into ASGI messages, the app sees the decoded bytes."""
    import hashlib

    enc = _encode(coding, data)
    pieces, pos = [], 0
    for n in cuts:
        pieces.append(enc[pos : pos + n])
        pos += n
    pieces.append(enc[pos:])
    mw = CompressionMiddleware(apps.asgi_app, decompress_requests=True, max_request_size=1 << 20)
    status, body = _post_pieces(mw, pieces, coding)
    assert status == 200
    assert body == b"%d %s" % (len(data), hashlib.sha256(data).hexdigest().encode())


def test_request_truncated_is_400() -> None:
    enc = _encode("zstd", apps.PAGE)
    mw = CompressionMiddleware(apps.asgi_app, decompress_requests=True)
    status, _ = _post_pieces(mw, [enc[:100], enc[100:-5]], "zstd")
    assert status == 400


def test_asgi_other_body_messages_pass_through() -> None:
    """A response sent with an extension message (pathsend) goes out untouched, start first."""
    import asyncio

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.pathsend", "path": "/x.html"})

    sent: list[dict[str, Any]] = []

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept-encoding", b"zstd")]}
    asyncio.run(CompressionMiddleware(app)(scope, None, send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    assert (b"content-encoding", b"zstd") not in sent[0]["headers"]


def test_wsgi_legacy_write_passes_through() -> None:
    def app(environ: Any, start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/html")])
        write(apps.PAGE[:1000])
        return [apps.PAGE[1000:]]

    status, h, body, _ = inproc.wsgi(WSGICompressionMiddleware(app), "/", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in h and body == apps.PAGE
