"""Benchmark chute.web on 127.0.0.1: requests/s and memory of the ASGI middleware.

Each configuration runs in its own uvicorn process (one worker) serving the same Starlette app:
  plain              no middleware, identity response
  chute-zstd         chute.web.CompressionMiddleware, client accepts zstd (the page repeats:
                     served from the compressed-body cache after the first request)
  chute-zstd-nocache the same with cache_size=0: every response compressed
  chute-gzip         chute.web.CompressionMiddleware, client accepts gzip (level 6)
  starlette-gzip     starlette.middleware.gzip.GZipMiddleware (its default level 9)
  starlette-gzip-6   GZipMiddleware(compresslevel=6), same level as chute-gzip
Load comes from wrk (apt package ``wrk``) for a fixed time with few connections. Then 500 concurrent
streaming responses are held open per configuration and the server's peak RSS (VmHWM) is reported.

    python bench/bench_web.py [--seconds 5] [--streams 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time

PAGE_SIZE = 64 * 1024


def page() -> bytes:
    words = b"alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
    rows = []
    i = 0
    while sum(map(len, rows)) < PAGE_SIZE:
        rows.append(b"<tr><td>%d</td><td>%s</td><td>%d</td></tr>\n" % (i, words[(i * 7) % 60 :], i * 31 % 1000))
        i += 1
    return b"<!DOCTYPE html><html><body><table>\n" + b"".join(rows)[:PAGE_SIZE] + b"</table></body></html>"


def build_app(config: str):  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    body = page()

    async def index(request):  # type: ignore[no-untyped-def]
        return Response(body, media_type="text/html")

    async def stream(request):  # type: ignore[no-untyped-def]
        async def gen():  # type: ignore[no-untyped-def]
            for i in range(20):
                yield b"data: event %d " % i + body[:4000] + b"\n\n"
                await asyncio.sleep(0.1)

        return StreamingResponse(gen(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/", index), Route("/stream", stream)])
    if config.startswith("chute"):
        from chute.web import CompressionMiddleware

        if config == "chute-zstd-1":
            return CompressionMiddleware(app, levels={"zstd": 1})
        if config == "chute-zstd-nocache":  # every request compressed: the cost of a cache miss
            return CompressionMiddleware(app, cache_size=0)
        return CompressionMiddleware(app)
    if config.startswith("starlette-gzip"):
        from starlette.middleware.gzip import GZipMiddleware

        return GZipMiddleware(app, compresslevel=6) if config.endswith("-6") else GZipMiddleware(app)
    return app


ACCEPT = {"plain": "identity", "chute-zstd": "zstd", "chute-gzip": "gzip", "starlette-gzip": "gzip"}
ACCEPT["starlette-gzip-6"] = "gzip"
ACCEPT["chute-zstd-1"] = "zstd"
ACCEPT["chute-zstd-nocache"] = "zstd"


def serve(config: str, port: int) -> None:
    import uvicorn

    uvicorn.run(build_app(config), host="127.0.0.1", port=port, log_level="error", access_log=False, lifespan="off")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(config: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", config, str(port)])
    end = time.monotonic() + 15
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"server for {config} did not start")


def rss_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1)) if m else 0


def wrk(port: int, accept: str, seconds: int) -> tuple[float, int]:
    """(requests/s, bytes per response) from wrk."""
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Accept-Encoding": accept})
    with urllib.request.urlopen(req) as r:
        size = len(r.read())
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds}s", "-H", f"Accept-Encoding: {accept}", f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise SystemExit("wrk output not understood:\n" + out)
    return float(m.group(1)), size


async def hold_streams(port: int, accept: str, n: int) -> tuple[int, float]:
    """Open n streaming responses at once; read them all to the end. (bytes read, seconds)."""
    total = 0
    t0 = time.monotonic()

    async def one() -> None:
        nonlocal total
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /stream HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {accept}\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        while data := await reader.read(65536):
            total += len(data)
        writer.close()

    await asyncio.gather(*(one() for _ in range(n)))
    return total, time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", nargs=2, metavar=("CONFIG", "PORT"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--streams", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best req/s of each is kept")
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found (apt-get install wrk)")
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.streams + 100)), hard))
    results: dict[str, float] = {}
    print(
        f"64 KiB page ({len(page())} bytes), wrk -t1 -c16 -d{args.seconds}s, one uvicorn worker, "
        f"{os.cpu_count()} cores, best of {args.rounds} interleaved rounds"
    )
    for rnd in range(args.rounds):
        for config in ACCEPT:
            proc, port = start(config)
            try:
                rps, size = wrk(port, ACCEPT[config], args.seconds)
                last = rnd == args.rounds - 1
                if last:
                    base = rss_kib(proc.pid, "VmRSS")
                    sent, secs = asyncio.run(hold_streams(port, ACCEPT[config], args.streams))
                    peak = rss_kib(proc.pid, "VmHWM")
            finally:
                proc.terminate()
                proc.wait(10)
            results[config] = max(rps, results.get(config, 0.0))
            if last:
                print(
                    f"{config:17} {results[config]:9.0f} req/s  {size:6d} B/response  | {args.streams} streams: "
                    f"{sent / 1e6:6.1f} MB in {secs:4.1f}s, RSS {base / 1024:5.1f} MiB -> peak {peak / 1024:6.1f} MiB"
                )
    plain = results["plain"]
    print(f"chute-zstd / plain           = {results['chute-zstd'] / plain:.2f}x   (target >= 0.8x; cache hits)")
    print(f"chute-zstd-nocache / plain   = {results['chute-zstd-nocache'] / plain:.2f}x   (every body compressed)")
    print(f"chute-zstd-1 / plain         = {results['chute-zstd-1'] / plain:.2f}x   (zstd level 1)")
    print(f"chute-zstd / starlette-gzip  = {results['chute-zstd'] / results['starlette-gzip']:.2f}x (target > 1)")
    print(f"chute-gzip / starlette-gzip  = {results['chute-gzip'] / results['starlette-gzip']:.2f}x")
    print(f"chute-gzip / starlette-gzip-6 = {results['chute-gzip'] / results['starlette-gzip-6']:.2f}x (same level)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
