"""``WSGICompressionMiddleware``: compressed HTTP responses for any WSGI application."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

from ._policy import DEFAULT_SKIP_TYPES, Options, new_compressor, padding_value, weaken_etag
from .negotiate import choose_encoding

__all__ = ["WSGICompressionMiddleware"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WSGICompressionMiddleware:
    """The WSGI twin of :class:`chute.web.CompressionMiddleware`, with the same options and rules.

    The body size is known when the application returns a one-item list/tuple or sets
    Content-Length; otherwise the body is compressed as it is iterated, each item flushed. An
    application that writes through the legacy ``write()`` callable gets its response unchanged.
    """

    def __init__(
        self,
        app: WSGIApp,
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
        self.app = app
        self.options = Options(
            minimum_size=minimum_size,
            encodings=encodings,
            levels=levels,
            skip_types=skip_types,
            breach_padding=breach_padding,
            decompress_requests=decompress_requests,
            max_request_size=max_request_size,
            cache_size=cache_size,
            dictionaries=dictionaries,
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        from .request import RequestBodyError

        if self.options.decompress_requests:
            from .request import wsgi_request_decoder

            refusal = wsgi_request_decoder(environ, self.options.max_request_size)
            if refusal is not None:
                return _refuse(refusal, start_response)
        state = _State(start_response)
        try:
            result = self.app(environ, state.start_response)
            return _Response(self.options, environ, state, result)
        except RequestBodyError as exc:
            if state.committed:
                raise
            return _refuse(exc, start_response)


def _refuse(exc: Any, start_response: Callable[..., Any]) -> list[bytes]:
    body = f"{exc.reason}\n".encode()
    start_response(
        exc.wsgi_status(), [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


class _State:
    """Captures the application's start_response until the first body piece decides."""

    def __init__(self, start_response: Callable[..., Any]) -> None:
        self.real = start_response
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.exc_info: Any = None
        self.committed = False
        self.legacy_write = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
        if exc_info is not None and self.committed:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers, self.exc_info = status, list(headers), exc_info
        return self._write

    def commit(self, headers: list[tuple[str, str]]) -> None:
        self.committed = True
        self._server_write = self.real(self.status, headers, self.exc_info)

    def _write(self, data: bytes) -> None:
        if not self.committed:
            self.legacy_write = True
            self.commit(self.headers)
        self._server_write(data)


class _Response:
    """The iterable handed back to the server: compresses the application's body lazily.

    ``close()`` (which every WSGI server calls, also when the client went away) closes the
    body generator, which drops its compressor, then the application's iterable (PEP 3333).
    The generator does not refer back to this object, so nothing waits for the cyclic
    garbage collector: a compressor holds up to a few MiB (brotli, zstd tables).
    """

    def __init__(self, options: Options, environ: dict[str, Any], state: _State, result: Iterable[bytes]) -> None:
        self._result: Iterable[bytes] | None = result
        self._body: Generator[bytes, None, None] | None = _generate(options, environ, state, result)

    def __iter__(self) -> Iterator[bytes]:
        return self._body if self._body is not None else iter(())

    def close(self) -> None:
        body, result = self._body, self._result
        self._body = self._result = None
        try:
            if body is not None:
                body.close()
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


def _generate(
    options: Options, environ: dict[str, Any], state: _State, result: Iterable[bytes]
) -> Generator[bytes, None, None]:
    whole = isinstance(result, (list, tuple)) and len(result) <= 1
    it = iter(result)
    first = b""
    exhausted = False
    for piece in it:  # the application may call start_response lazily, on its first piece
        if piece:
            first = piece
            break
    else:
        exhausted = True
    if state.legacy_write:
        if first:
            yield first
        yield from it
        return
    if state.status is None:
        raise RuntimeError("WSGI application did not call start_response")
    headers = {k.lower(): v for k, v in state.headers}
    size: int | None = len(first) if whole or exhausted else None
    length = headers.get("content-length")
    if size is None and length is not None and length.strip().isdigit() and int(length) >= len(first):
        size = int(length)  # a Content-Length shorter than the first piece is wrong: ignored
    method = environ.get("REQUEST_METHOD", "GET")
    reason = options.skip_reason(
        method=method,
        range_requested="HTTP_RANGE" in environ,
        status=int(state.status.split(None, 1)[0]),
        headers=headers,
        size=size,
    )
    encoding = choose_encoding(environ.get("HTTP_ACCEPT_ENCODING"), options.encodings)
    dictionary: Any = None  # with dcz: the chute.web.dictionary.Dictionary to use
    if options.dictionaries is not None:
        from .dictionary import choose, records

        encoding, dictionary = choose(
            environ.get("HTTP_ACCEPT_ENCODING"),
            options.encodings,
            options.dictionaries,
            environ.get("HTTP_AVAILABLE_DICTIONARY"),
        )
        if method == "GET" and records(int(state.status.split(None, 1)[0]), headers):
            recorder = options.dictionaries.recorder()
            recorder.feed(first)
            if whole or exhausted:
                recorder.done()
            else:
                it = recorder.tee(it)
    if reason is not None or encoding is None:
        out = state.headers
        if reason in (None, "small") and method != "HEAD":
            out = [(k, v) for k, v in out if k.lower() != "vary"]
            out.append(("Vary", options.vary(headers.get("vary"))))
        state.commit(out)
        if first:
            yield first
        yield from it
        return
    out = [(k, v) for k, v in state.headers if k.lower() not in ("content-length", "vary", "etag", "accept-ranges")]
    out.append(("Content-Encoding", encoding))
    out.append(("Vary", options.vary(headers.get("vary"))))
    if "etag" in headers:
        out.append(("ETag", weaken_etag(headers["etag"])))
    if options.breach_padding:
        out.append(("Chute-Padding", padding_value(options.breach_padding)))
    if whole or exhausted:
        if dictionary is not None:
            data = dictionary.compress_whole(first, options.levels["zstd"])
        else:
            data = options.whole.compress(encoding, first)
        out.append(("Content-Length", str(len(data))))
        state.commit(out)
        yield data
        return
    state.commit(out)
    if dictionary is not None:
        c = dictionary.stream(options.levels["zstd"])
    else:
        c = new_compressor(encoding, options.levels[encoding])
    try:
        yield c.compress(first) + c.flush()
        for piece in it:
            if piece:
                data = c.compress(piece) + c.flush()
                if data:
                    yield data
        yield c.finish()
    finally:
        c = None  # when the application raises, the traceback keeps this frame's variables alive
