"""Peak memory stays flat while 1 GB streams through the pump (slow).

A child process generates 1 GB, compresses it with :func:`chute.streams.pump.compress_stream`
into a pipe, and decompresses the other end with :func:`chute.streams.pump.decompress_stream`
into a counting sink, both at once. It reports its peak RSS (``VmHWM``) after 200 MB
and at the end: the second may exceed the first by a few MiB at most, and neither may
reach 64 MiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

TOTAL = 1_000_000_000
MARK = 200_000_000
MAX_GROWTH = 4 << 20
MAX_RSS = 64 << 20

CHILD = textwrap.dedent(
    """
    import io, json, os, random, resource, sys, threading, zlib

    from chute import codecs
    from chute.codecs._stream import StreamDecoder
    from chute.streams.pump import compress_stream, decompress_stream

    fmt, total, mark = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

    def peak() -> int:
        # VmHWM: peak RSS of this process image. ru_maxrss would do, but Linux carries it
        # over exec from the parent (a big pytest process) into the child.
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    rnd = random.Random(1)
    words = [bytes(rnd.choices(b"abcdefghijklmnopqrstuvwxyz", k=rnd.randint(2, 9))) for _ in range(5000)]
    lines = []
    size = 0
    while size < (4 << 20):
        line = b" ".join(rnd.choices(words, k=10)) + b" %d\\n" % rnd.getrandbits(40)
        lines.append(line)
        size += len(line)
    block = memoryview(b"".join(lines))

    class Source(io.RawIOBase):
        # total bytes of log-like text; each pass over the block is tagged so no two repeat
        def __init__(self):
            self.left, self.pos, self.round, self.crc = total, 0, 0, 0
        def readable(self):
            return True
        def readinto(self, buf):
            n = min(len(buf), self.left, len(block) - self.pos)
            if n <= 0:
                return 0
            buf[:n] = block[self.pos : self.pos + n]
            if self.pos == 0 and n >= 8:
                buf[:8] = b"%08d" % (self.round % 10**8)
                self.round += 1
            self.crc = zlib.crc32(buf[:n], self.crc)
            self.pos = (self.pos + n) % len(block)
            self.left -= n
            return n

    class Sink(io.RawIOBase):
        def __init__(self):
            self.n, self.crc, self.at_mark = 0, 0, None
        def writable(self):
            return True
        def write(self, b):
            self.crc = zlib.crc32(b, self.crc)
            self.n += len(b)
            if self.at_mark is None and self.n >= mark:
                self.at_mark = peak()
            return len(b)

    codec = codecs.get(fmt)
    src, sink = Source(), Sink()
    r, w = os.pipe()
    errors = []

    def produce():
        try:
            with os.fdopen(w, "wb") as out:
                compress_stream(src, out, codec.new_compressor(codec.fast))
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=produce)
    t.start()
    with os.fdopen(r, "rb") as inp:
        stats = decompress_stream(inp, sink, StreamDecoder(fmt))
    t.join()
    if errors:
        raise errors[0]
    print(json.dumps({
        "bytes": sink.n, "same": sink.crc == src.crc, "compressed": stats.bytes_in,
        "rss_mark": sink.at_mark, "rss_end": peak(),
    }))
    """
)


@pytest.mark.parametrize("name", ["zstd", "lz4", "gzip"])
def test_peak_rss_is_flat_over_1_gb(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, name, str(TOTAL), str(MARK)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["bytes"] == TOTAL and report["same"], report
    assert report["compressed"] < TOTAL * 0.95, report
    growth = report["rss_end"] - report["rss_mark"]
    assert growth <= MAX_GROWTH, f"{name}: peak RSS grew by {growth / 2**20:.1f} MiB from 200 MB to 1 GB"
    assert report["rss_end"] < MAX_RSS, f"{name}: peak RSS {report['rss_end'] / 2**20:.1f} MiB"
