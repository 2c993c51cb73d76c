"""The compressed-body cache: exact hits only, bounded, shared by threads, on in both middlewares."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from chute.web import CompressionMiddleware, WSGICompressionMiddleware
from chute.web.cache import BodyCache

from . import apps, inproc


def test_hit_returns_the_stored_compression() -> None:
    cache = BodyCache(1 << 20)
    body = b"<p>hello</p>" * 500
    key = cache.key("zstd", body)
    assert key is not None
    assert cache.get(key, body) is None
    cache.put(key, body, b"COMPRESSED")
    assert cache.get(key, body) == b"COMPRESSED"
    assert cache.get(key, bytes(bytearray(body))) == b"COMPRESSED"  # equal content, other object
    assert (cache.hits, cache.misses) == (2, 1)
    assert cache.key("gzip", body) != key  # per coding


def test_same_crc_other_content_is_a_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = BodyCache(1 << 20)
    monkeypatch.setattr(cache, "_crc", lambda data: 42)  # every body collides
    a, b = b"a" * 1000, b"b" * 1000
    key_a, key_b = cache.key("zstd", a), cache.key("zstd", b)
    assert key_a == key_b
    assert key_a is not None
    cache.put(key_a, a, b"A")
    assert cache.get(key_b, b) is None
    assert cache.get(key_a, a) == b"A"


def test_bounded_lru() -> None:
    cache = BodyCache(80_000)
    bodies = [os.urandom(9_000) for _ in range(10)]
    for body in bodies:
        key = cache.key("zstd", body)
        assert key is not None
        cache.put(key, body, body[:1000])
        assert cache.size <= 80_000
    assert len(cache) == 8  # 10 x 10 kB into 80 kB: the two oldest went
    first, last = bodies[0], bodies[-1]
    assert cache.get(cache.key("zstd", first), first) is None  # type: ignore[arg-type]
    assert cache.get(cache.key("zstd", last), last) == last[:1000]  # type: ignore[arg-type]
    assert cache.key("zstd", os.urandom(10_001)) is None  # over an eighth of the budget
    assert BodyCache(0).key("zstd", b"x" * 100) is None  # off
    with pytest.raises(ValueError):
        BodyCache(-1)


def test_threads_share_it() -> None:
    cache = BodyCache(1 << 20)
    bodies = [bytes([i]) * 5000 for i in range(20)]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                for body in bodies:
                    key = cache.key("br", body)
                    assert key is not None
                    got = cache.get(key, body)
                    if got is None:
                        cache.put(key, body, body[:10])
                    else:
                        assert got == body[:10]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.size == sum(len(b) + 10 for b in bodies)


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
def test_middleware_compresses_a_repeated_body_once(kind: str, encoding: str) -> None:
    mw: Any
    if kind == "asgi":
        mw, call = CompressionMiddleware(apps.asgi_app), inproc.asgi
    else:
        mw, call = WSGICompressionMiddleware(apps.wsgi_app), inproc.wsgi
    calls = []
    real = mw.options.whole._compress
    mw.options.whole._compress = lambda enc, body: calls.append(enc) or real(enc, body)
    bodies = [call(mw, "/page", headers={"Accept-Encoding": encoding})[2] for _ in range(3)]
    assert calls == [encoding]
    assert bodies[0] == bodies[1] == bodies[2]
    assert inproc.decode(encoding, bodies[2]) == apps.PAGE


def test_middleware_cache_off() -> None:
    mw = CompressionMiddleware(apps.asgi_app, cache_size=0)
    calls = []
    real = mw.options.whole._compress
    mw.options.whole._compress = lambda enc, body: calls.append(enc) or real(enc, body)  # type: ignore[method-assign]
    for _ in range(2):
        inproc.asgi(mw, "/page", headers={"Accept-Encoding": "zstd"})
    assert calls == ["zstd", "zstd"]
