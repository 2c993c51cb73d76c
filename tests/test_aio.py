"""chute.aio: async compression, off the event loop for big chunks."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute import aio
from chute.errors import LimitExceededError, TruncatedStreamError


async def _gen(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for c in chunks:
        yield c


async def _collect(it: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in it])


@settings(max_examples=examples(25), deadline=None)
@given(chunks=st.lists(st.binary(max_size=3000), max_size=8), fmt=st.sampled_from(["zstd", "gzip", "lz4", "bz2"]))
def test_round_trip(chunks: list[bytes], fmt: str) -> None:
    async def main() -> None:
        packed = await _collect(aio.compress(_gen(chunks), fmt, offload=1000))
        assert chute.decompress(packed) == b"".join(chunks)
        parts = [packed[i : i + 7] for i in range(0, len(packed), 7)]
        assert await _collect(aio.decompress(_gen(parts), chunk_size=100, offload=50)) == b"".join(chunks)

    asyncio.run(main())


def test_flush_each_makes_each_chunk_decodable() -> None:
    async def main() -> None:
        seen = b""
        dec = chute.codecs._stream.StreamDecoder("zstd")
        recs = [f"event {i}\n".encode() for i in range(5)]
        i = 0
        async for out in aio.compress(_gen(recs), "zstd", flush_each=True):
            seen += dec.decompress(out)
            assert seen == b"".join(recs[: i + 1])
            i += 1
        assert i == 6  # one output per record, then the trailer

    asyncio.run(main())


def test_real_zstd_reads_output_and_truncation_and_limit() -> None:
    data = os.urandom(1000) * 300

    async def main() -> None:
        packed = await _collect(aio.compress([data], "zstd", level=3))
        assert subprocess.run(["zstd", "-dc"], input=packed, capture_output=True, check=True).stdout == data
        with pytest.raises(TruncatedStreamError):
            await _collect(aio.decompress([packed[:-5]]))
        with pytest.raises(LimitExceededError):
            await _collect(aio.decompress([packed], max_output=1000))
        with pytest.raises(TypeError):
            await _collect(aio.compress(["text"]))  # type: ignore[list-item]

    asyncio.run(main())


def test_loop_keeps_running_while_big_chunk_compresses() -> None:
    big = os.urandom(1 << 20) + bytes(range(256)) * 40000  # ~11 MiB, xz -6: well over a second inline

    async def ticker(stop: asyncio.Event, gaps: list[float]) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async def main() -> tuple[float, float]:
        stop, gaps = asyncio.Event(), list[float]()
        t = asyncio.create_task(ticker(stop, gaps))
        t0 = time.perf_counter()
        await _collect(aio.compress([big], "xz", level=6))
        took = time.perf_counter() - t0
        stop.set()
        await t
        return took, max(gaps)

    took, worst = asyncio.run(main())
    assert took > 0.3  # the work was big enough to matter
    assert worst < max(0.1, took / 4), f"loop stalled {worst:.3f}s while compressing for {took:.3f}s"


def test_streams_over_a_socket() -> None:
    payload = b"line\n" * 50000

    async def main() -> None:
        got = asyncio.get_running_loop().create_future()

        async def server(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            got.set_result(await _collect(aio.decompress(aio._reader_chunks(r, 4096))))
            w.close()

        srv = await asyncio.start_server(server, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        _, w = await asyncio.open_connection("127.0.0.1", port)
        async with aio.CompressingStreamWriter(w, "gzip") as cw:
            await cw.write(payload[:100000])
            await cw.flush()
            await cw.write(payload[100000:])
        assert await asyncio.wait_for(got, 10) == payload
        srv.close()
        await srv.wait_closed()

        r1, w1 = os.pipe()
        os.write(w1, chute.compress(payload, format="lz4"))
        os.close(w1)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(r1, "rb"))

        class Sink:
            data = b""

            def write(self, b: bytes) -> None:
                self.data += b

            async def drain(self) -> None:
                pass

        sink = Sink()
        await aio.decompress_stream(reader, sink)  # type: ignore[arg-type]
        assert sink.data == payload

    asyncio.run(main())
