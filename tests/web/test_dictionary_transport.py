"""RFC 9842 (Compression Dictionary Transport) through real servers: ``dcz`` responses.

httpx sends the headers a browser sends; the bodies are checked with the zstd CLI (``-D``
with the dictionary, on the body after the 40-byte dcz header), not with chute.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chute.web import CompressionMiddleware, WSGICompressionMiddleware
from chute.web.dictionary import DCZ_MAGIC, DictionaryStore, choose

from .conftest import serve_asgi, serve_wsgi

httpx = pytest.importorskip("httpx")


def _bundle(version: int) -> bytes:
    lines = [
        f"export function widget{i}(el) {{ return render(el, {{ id: {i}, label: 'widget {i}', v: {version} }}); }}\n"
        for i in range(600)
    ]
    if version > 1:
        lines[100:110] = [f"export const added{i} = {i * version};\n" for i in range(10)]
    return "".join(lines).encode()


V1 = _bundle(1)
V2 = _bundle(2)
V3_DICT = _bundle(3)
SSE_EVENTS = [b"data: " + V2[i * 500 : (i + 1) * 500].replace(b"\n", b" ") + b"\n\n" for i in range(4)]
JS = ("Content-Type", "text/javascript")


def _route(path: str) -> tuple[int, list[tuple[str, str]], list[bytes]]:
    if path == "/v1.js":
        return 200, [JS, ("Use-As-Dictionary", 'match="/v*.js"'), ("Cache-Control", "max-age=3600")], [V1]
    if path == "/v2.js":
        return 200, [JS, ("ETag", '"v2"')], [V2]
    if path == "/v3-dict.js":
        return 200, [JS, ("Use-As-Dictionary", 'match="/v3*.js"')], [V3_DICT]
    if path == "/v1-streamed.js":
        streamed = V1 + b"// streamed\n"
        return (
            200,
            [JS, ("Use-As-Dictionary", 'match="/v*.js"')],
            [streamed[i : i + 7000] for i in range(0, len(streamed), 7000)],
        )
    if path == "/v2-streamed.js":
        return 200, [JS], [V2[i : i + 8000] for i in range(0, len(V2), 8000)]
    if path == "/events":
        return 200, [("Content-Type", "text/event-stream")], SSE_EVENTS
    if path == "/encoded.js":
        import gzip

        return 200, [JS, ("Content-Encoding", "gzip")], [gzip.compress(V2)]
    return 404, [("Content-Type", "text/plain")], [b"not found"]


async def _asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    status, headers, pieces = _route(scope["path"])
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    for i, piece in enumerate(pieces):
        await send({"type": "http.response.body", "body": piece, "more_body": i < len(pieces) - 1})


def _wsgi(environ: dict[str, Any], start_response: Any) -> Any:
    status, headers, pieces = _route(environ["PATH_INFO"])
    start_response(f"{status} X", headers)
    return pieces if len(pieces) == 1 else iter(pieces)


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, DictionaryStore]]:
    store = DictionaryStore()
    if request.param == "asgi":
        yield from ((url, store) for url in serve_asgi(CompressionMiddleware(_asgi, dictionaries=store)))
    else:
        yield from ((url, store) for url in serve_wsgi(WSGICompressionMiddleware(_wsgi, dictionaries=store)))


def _get(url: str, **headers: str) -> tuple[Any, bytes]:
    with httpx.Client() as client, client.stream("GET", url, headers=headers) as r:
        return r, b"".join(r.iter_raw())


def _available(content: bytes) -> str:
    return ":" + base64.b64encode(hashlib.sha256(content).digest()).decode() + ":"


AE = "gzip, deflate, br, zstd, dcz"


def _zstd_d(dictionary: bytes, data: bytes, tmp_path: Path) -> bytes:
    if shutil.which("zstd") is None:
        pytest.skip("zstd CLI not installed")
    d = tmp_path / "dict.bin"
    d.write_bytes(dictionary)
    return subprocess.run(["zstd", "-d", "-q", "-D", str(d), "-c"], input=data, capture_output=True, check=True).stdout


def _learn(url: str) -> None:
    r, _ = _get(url + "/v1.js", **{"Accept-Encoding": AE})
    assert r.headers["use-as-dictionary"] == 'match="/v*.js"'
    assert r.headers.get("content-encoding") == "zstd"  # the dictionary itself goes out as usual


def test_dcz_with_a_known_dictionary(server: tuple[str, DictionaryStore], tmp_path: Path) -> None:
    url, _ = server
    _learn(url)
    r, body = _get(url + "/v2.js", **{"Accept-Encoding": AE, "Available-Dictionary": _available(V1)})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "dcz"
    vary = [v.strip().lower() for v in r.headers["vary"].split(",")]
    assert "accept-encoding" in vary and "available-dictionary" in vary
    assert r.headers["etag"] == 'W/"v2"'
    assert body[:8] == DCZ_MAGIC and body[8:40] == hashlib.sha256(V1).digest()
    assert _zstd_d(V1, body[40:], tmp_path) == V2  # the zstd CLI, the dictionary as raw content
    assert _zstd_d(V1, body, tmp_path) == V2  # the header is a skippable frame: zstd passes it
    plain, zbody = _get(url + "/v2.js", **{"Accept-Encoding": "zstd"})
    assert plain.headers["content-encoding"] == "zstd"
    assert len(body) * 3 < len(zbody), (len(body), len(zbody))


def test_dcz_streamed(server: tuple[str, DictionaryStore], tmp_path: Path) -> None:
    url, _ = server
    _learn(url)
    r, body = _get(url + "/v2-streamed.js", **{"Accept-Encoding": AE, "Available-Dictionary": _available(V1)})
    assert r.headers["content-encoding"] == "dcz"
    assert "content-length" not in r.headers
    assert body[:40] == DCZ_MAGIC + hashlib.sha256(V1).digest()
    assert _zstd_d(V1, body[40:], tmp_path) == V2


def test_dcz_server_sent_events(server: tuple[str, DictionaryStore], tmp_path: Path) -> None:
    url, _ = server
    _learn(url)
    r, body = _get(url + "/events", **{"Accept-Encoding": AE, "Available-Dictionary": _available(V1)})
    assert r.headers["content-encoding"] == "dcz"
    assert _zstd_d(V1, body[40:], tmp_path) == b"".join(SSE_EVENTS)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Accept-Encoding": AE, "Available-Dictionary": _available(b"a dictionary this server never saw")}, "zstd"),
        ({"Accept-Encoding": "gzip, zstd, dcz;q=0", "Available-Dictionary": _available(V1)}, "zstd"),
        ({"Accept-Encoding": "gzip, zstd", "Available-Dictionary": _available(V1)}, "zstd"),
        ({"Accept-Encoding": "dcz, zstd;q=0.5", "Available-Dictionary": ":not base64!:"}, "zstd"),
        ({"Accept-Encoding": AE, "Available-Dictionary": _available(V1), "Range": "bytes=0-99"}, None),
    ],
    ids=["unknown-dictionary", "dcz-q0", "dcz-not-offered", "malformed-hash", "range"],
)
def test_no_dcz(server: tuple[str, DictionaryStore], headers: dict[str, str], expected: str | None) -> None:
    url, _ = server
    _learn(url)
    r, body = _get(url + "/v2.js", **headers)
    assert r.headers.get("content-encoding") == expected
    if expected is None and "Range" not in headers:
        assert body == V2
    if "Range" not in headers:
        vary = [v.strip().lower() for v in r.headers["vary"].split(",")]
        assert {"accept-encoding", "available-dictionary"} <= set(vary)


def test_already_encoded_untouched(server: tuple[str, DictionaryStore]) -> None:
    url, _ = server
    _learn(url)
    r, body = _get(url + "/encoded.js", **{"Accept-Encoding": AE, "Available-Dictionary": _available(V1)})
    assert r.headers["content-encoding"] == "gzip"
    import gzip

    assert gzip.decompress(body) == V2


def test_store_records_use_as_dictionary_once(server: tuple[str, DictionaryStore]) -> None:
    url, store = server
    _learn(url)
    _learn(url)
    assert store.find(_available(V1)) is not None
    assert store.find(_available(V2)) is None  # V2 never named itself as a dictionary


def test_streamed_dictionary_is_recorded(server: tuple[str, DictionaryStore], tmp_path: Path) -> None:
    url, store = server
    streamed = V1 + b"// streamed\n"
    r, _ = _get(url + "/v1-streamed.js", **{"Accept-Encoding": AE})
    assert r.headers["use-as-dictionary"]
    assert store.find(_available(streamed)) is not None
    r, body = _get(url + "/v2.js", **{"Accept-Encoding": AE, "Available-Dictionary": _available(streamed)})
    assert r.headers["content-encoding"] == "dcz"
    assert _zstd_d(streamed, body[40:], tmp_path) == V2


def test_head_records_nothing(server: tuple[str, DictionaryStore]) -> None:
    url, store = server
    with httpx.Client() as client:
        assert client.head(url + "/v3-dict.js").headers["use-as-dictionary"]
        assert store.find(_available(V3_DICT)) is None  # HEAD has no body to remember
        client.get(url + "/v3-dict.js")
    assert store.find(_available(V3_DICT)) is not None


@given(value=st.text(max_size=80))
def test_available_dictionary_parsing_never_raises(value: str) -> None:
    store = DictionaryStore()
    store.add(V1)
    found = store.find(value)
    assert found is None or value.strip() == _available(V1)
    assert choose(AE, ("zstd", "br", "gzip"), store, value)[0] in ("dcz", "zstd")


def test_store_limits() -> None:
    store = DictionaryStore(max_entries=2, max_size=1000)
    a, b, c = (bytes([i]) * 500 for i in (1, 2, 3))
    for d in (a, b, c):
        assert store.add(d) is not None
    assert store.find(_available(a)) is None  # the least recently used went first
    assert store.find(_available(c)) is not None
    assert store.add(b"x" * 1001) is None
    assert store.add(b"\x37\xa4\x30\xec" + b"x" * 100) is None  # would be taken for a trained dictionary
    assert len(store) == 2


def test_window_rule() -> None:
    from chute.web.dictionary import Dictionary

    assert Dictionary(b"x" * 1000).window_log == 23  # at least 8 MiB
    d = Dictionary(b"x" * (20 << 20))  # 1.25 x 20 MiB = 25 MiB: a 16 MiB window
    assert d.window_log == 24
