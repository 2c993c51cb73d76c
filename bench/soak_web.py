"""Soak test of chute.web: real servers on 127.0.0.1 under clients that disconnect, for minutes.

Two server processes run the same routes behind chute's middleware:
  waitress   a WSGI app behind WSGICompressionMiddleware (8 threads)
  uvicorn    a Starlette app behind CompressionMiddleware (StreamingResponse for streams)
Routes: /page (a 64 KiB HTML page, sent whole) and /stream?n=N (N pieces of 64 KiB of text,
400 by default: 25 MiB). Client threads keep a mix of requests going against both, each with
Accept-Encoding zstd, br or gzip at random:
  abandon   GET /stream, read 4-256 KiB, close the socket (the client goes away mid-stream)
  page      GET /page, read it all, decode it, compare with the original
  stream    GET /stream?n=32 (2 MiB), read it all, decode it, compare
Every --interval seconds a row per server: RSS, peak RSS (VmHWM), open files, threads, requests
done so far; at the end the same after the load stops and the servers settle, then the servers
are stopped. Responses are decoded with the Python bindings of zlib, brotli and zstd, not with
chute.

    python bench/soak_web.py [--duration 60] [--interval 10] [--clients 8] [--chute-src DIR]
                             [--middleware chute|none]

``--chute-src DIR`` runs the servers on the chute package found in DIR (e.g. a ``git archive``
of an older commit) instead of the installed one, to compare before/after a change.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PIECE_SIZE = 64 * 1024
STREAM_PIECES = 400  # 25 MiB
ENCODINGS = ("zstd", "br", "gzip")


def _text(size: int, seed: int) -> bytes:
    """Text that compresses like real pages do (about 3-4x), the same in every process."""
    rng = random.Random(seed)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"soak", b"chute", b"stream", b"client", b"server"]
    words += [rng.randbytes(4).hex().encode() for _ in range(400)]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(12)) + b"\n"
    return bytes(out[:size])


PAGE = b"<!DOCTYPE html><html><body><pre>" + _text(PIECE_SIZE, 1) + b"</pre></body></html>"
SOURCE = _text(16 * PIECE_SIZE, 2)


def piece(i: int) -> bytes:
    """Piece i of a stream: a 64 KiB window of SOURCE, moving by a prime step."""
    start = (i * 40_009) % (len(SOURCE) - PIECE_SIZE)
    return SOURCE[start : start + PIECE_SIZE]


def stream_body(n: int) -> bytes:
    return b"".join(piece(i) for i in range(n))


def _pieces(query: str) -> int:
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "n" and value.isdigit():
            return min(int(value), 4 * STREAM_PIECES)
    return STREAM_PIECES


# servers


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
    path = environ.get("PATH_INFO", "/")
    if path == "/page":
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(PAGE)))])
        return [PAGE]
    if path == "/stream":
        n = _pieces(environ.get("QUERY_STRING", ""))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (piece(i) for i in range(n))
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


def asgi_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def page(request: Any) -> Response:
        return Response(PAGE, media_type="text/html")

    async def stream(request: Any) -> StreamingResponse:
        n = _pieces(request.url.query)

        async def gen() -> Any:
            for i in range(n):
                yield piece(i)
                await asyncio.sleep(0)

        return StreamingResponse(gen(), media_type="text/plain")

    return Starlette(routes=[Route("/page", page), Route("/stream", stream)])


def serve(kind: str, port: int, middleware: str) -> None:
    import chute

    print(f"{kind} server pid {os.getpid()} on chute from {os.path.dirname(chute.__file__)}", file=sys.stderr)
    if kind == "waitress":
        import logging

        import waitress

        logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is N" per request

        from chute.web import WSGICompressionMiddleware

        app = WSGICompressionMiddleware(wsgi_app) if middleware == "chute" else wsgi_app
        waitress.serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)
    else:
        import uvicorn

        from chute.web import CompressionMiddleware

        aapp = asgi_app()
        uvicorn.run(
            CompressionMiddleware(aapp) if middleware == "chute" else aapp,
            host="127.0.0.1",
            port=port,
            log_level="error",
            lifespan="off",
        )


# clients


def decode(encoding: str | None, data: bytes) -> bytes:
    if not encoding:
        return data
    if encoding == "gzip":
        return zlib.decompress(data, wbits=31)
    if encoding == "br":
        import brotli

        return bytes(brotli.decompress(data))
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd
    return bytes(zstd.decompress(data))


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {"abandon": 0, "page": 0, "stream": 0, "errors": 0}
        self.last_error = ""

    def add(self, key: str, error: str = "") -> None:
        with self.lock:
            self.counts[key] += 1
            if error:
                self.last_error = error


def abandon(port: int, encoding: str, keep: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET /stream HTTP/1.1\r\nHost: soak\r\nAccept-Encoding: {encoding}\r\n\r\n".encode())
        got = 0
        while got < keep:
            data = s.recv(65536)
            if not data:
                raise ConnectionError("server closed the stream early")
            got += len(data)


def fetch(port: int, target: str, encoding: str, expected: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", target, headers={"Accept-Encoding": encoding})
        r = conn.getresponse()
        raw = r.read()
        if r.status != 200:
            raise ValueError(f"{target}: status {r.status}")
        if decode(r.getheader("Content-Encoding"), raw) != expected:
            raise ValueError(f"{target} {encoding}: decoded body differs")
    finally:
        conn.close()


def client(port: int, stats: Stats, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    small_stream = stream_body(32)
    while not stop.is_set():
        encoding = rng.choice(ENCODINGS)
        kind = rng.choices(("abandon", "page", "stream"), weights=(6, 3, 1))[0]
        try:
            if kind == "abandon":
                abandon(port, encoding, rng.randint(4, 256) * 1024)
            elif kind == "page":
                fetch(port, "/page", encoding, PAGE)
            else:
                fetch(port, "/stream?n=32", encoding, small_stream)
            stats.add(kind)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            if not stop.is_set():
                stats.add("errors", f"{kind}: {exc!r}")


# measurement


def proc_figures(pid: int) -> dict[str, int]:
    """RSS and peak RSS (KiB), open file descriptors and threads of a process, from /proc."""
    out = {"rss": 0, "hwm": 0, "threads": 0, "fds": 0}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "VmRSS":
                out["rss"] = int(value.split()[0])
            elif key == "VmHWM":
                out["hwm"] = int(value.split()[0])
            elif key == "Threads":
                out["threads"] = int(value)
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


HEADER = f"{'t (s)':>6} {'server':<9} {'RSS MiB':>8} {'peak MiB':>9} {'fds':>5} {'threads':>8} " + (
    f"{'abandoned':>10} {'pages':>7} {'streams':>8} {'errors':>7}"
)


def row(t: float, name: str, fig: dict[str, int], counts: dict[str, int]) -> str:
    return (
        f"{t:6.0f} {name:<9} {fig['rss'] / 1024:8.1f} {fig['hwm'] / 1024:9.1f} {fig['fds']:5d} {fig['threads']:8d} "
        f"{counts['abandon']:10d} {counts['page']:7d} {counts['stream']:8d} {counts['errors']:7d}"
    )


@contextmanager
def servers(args: argparse.Namespace) -> Iterator[dict[str, tuple[subprocess.Popen[bytes], int]]]:
    env = dict(os.environ)
    if args.chute_src:
        env["PYTHONPATH"] = os.path.abspath(args.chute_src) + os.pathsep + env.get("PYTHONPATH", "")
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for name in args.servers.split(","):
            port = free_port()
            cmd = [sys.executable, os.path.abspath(__file__), "--serve", name, "--port", str(port)]
            cmd += ["--middleware", args.middleware]
            procs[name] = (subprocess.Popen(cmd, env=env), port)
        for _, port in procs.values():
            wait_port(port)
        yield procs
    finally:
        for proc, _ in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc, _ in procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def soak(args: argparse.Namespace) -> int:
    with servers(args) as procs:
        stats = {name: Stats() for name in procs}
        stop = threading.Event()
        threads = []
        for name, (_, port) in procs.items():
            for i in range(args.clients):
                t = threading.Thread(target=client, args=(port, stats[name], stop, hash((name, i))), daemon=True)
                threads.append(t)
        print(
            f"soak: {args.duration:.0f} s, {args.clients} client threads per server, middleware {args.middleware}"
            + (f", chute from {args.chute_src}" if args.chute_src else ""),
            flush=True,
        )
        print(HEADER)
        start = time.monotonic()
        first: dict[str, dict[str, int]] = {name: proc_figures(p.pid) for name, (p, _) in procs.items()}
        for name in procs:
            print(row(0, name, first[name], stats[name].counts), flush=True)
        for t in threads:
            t.start()
        peak = dict(first)
        next_row = start + args.interval
        while (now := time.monotonic()) < start + args.duration:
            time.sleep(min(next_row, start + args.duration) - now)
            if time.monotonic() >= next_row:
                next_row += args.interval
                for name, (p, _) in procs.items():
                    fig = proc_figures(p.pid)
                    peak[name] = {k: max(v, peak[name][k]) for k, v in fig.items()}
                    print(row(time.monotonic() - start, name, fig, stats[name].counts), flush=True)
        stop.set()
        for t in threads:
            t.join(60)
        time.sleep(args.settle)
        print(f"after the load stopped and {args.settle:.0f} s of quiet:")
        failed = False
        for name, (p, _) in procs.items():
            fig = proc_figures(p.pid)
            print(row(time.monotonic() - start, name, fig, stats[name].counts))
            s = stats[name]
            print(
                f"  {name}: RSS {first[name]['rss'] / 1024:.1f} -> {fig['rss'] / 1024:.1f} MiB "
                f"(highest sample {peak[name]['rss'] / 1024:.1f}, VmHWM {fig['hwm'] / 1024:.1f}), "
                f"fds {first[name]['fds']} -> {fig['fds']}, threads {first[name]['threads']} -> {fig['threads']}"
                + (f"; last error: {s.last_error}" if s.last_error else "")
            )
            failed = failed or s.counts["errors"] > 0
        return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    ap.add_argument("--interval", type=float, default=10.0, help="seconds between table rows (default 10)")
    ap.add_argument("--clients", type=int, default=8, help="client threads per server (default 8)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds of quiet before the last row (default 3)")
    ap.add_argument("--servers", default="waitress,uvicorn", help="comma-separated: waitress, uvicorn")
    ap.add_argument("--middleware", choices=("chute", "none"), default="chute")
    ap.add_argument("--chute-src", help="run the servers on the chute package in this folder")
    ap.add_argument("--serve", choices=("waitress", "uvicorn"), help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.middleware)
        return 0
    return soak(args)


if __name__ == "__main__":
    sys.exit(main())
