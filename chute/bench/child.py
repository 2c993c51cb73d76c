"""The measuring child: ``python -m chute.bench.child`` reads one candidate as JSON on
standard input and writes its measurements as JSON on standard output.

Each candidate runs in a process of its own so that its peak memory can be read: the
kernel's high-water mark of resident memory (``VmHWM``, what ``ru_maxrss`` reports) counts
what the C libraries allocate, which ``tracemalloc`` does not see. Before each compression
and each decompression the mark is reset to the current resident size (``/proc/self/
clear_refs``, Linux); the peak memory of the operation is the mark afterwards minus the
resident size before it. Where the reset is refused, nothing is reported for memory.

Every stream is compressed as the command line compresses a file (the layout picked from the
input alone, :func:`chute.api.fileobj.fixed_layout_compressor`) into a temporary file,
exactly as ``chute -F FORMAT -LEVEL [-T N] FILE`` does (same read size, same threads), then
decompressed by :func:`chute.copy` into a sink that only counts (timed), then decompressed
again into a sink that compares every byte with the original (not timed): a result that
does not round-trip is an error, never a figure.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any

from ..api.functions import copy
from ..errors import ChuteError
from ..quoting import quote
from .window import decoder_window

__all__ = ["measure_streams", "main"]


def _rss() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _reset_peak() -> int | None:
    """Reset the high-water mark; return the resident size it starts from (``None``: no)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    return _rss()


def _peak(base: int | None) -> int | None:
    if base is None:
        return None
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return max(0, int(line.split()[1]) * 1024 - base)
    except (OSError, ValueError):
        pass
    return None


class _Count:
    """A sink that counts what it is given."""

    def __init__(self) -> None:
        self.n = 0

    def write(self, data: Any) -> int:
        n = len(memoryview(data).cast("B")) if not isinstance(data, bytes) else len(data)
        self.n += n
        return n

    def flush(self) -> None:
        pass


class _Compare(_Count):
    """A sink that compares what it is given with the original file."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.f = open(path, "rb")  # noqa: SIM115  (closed by close())
        self.path = path

    def write(self, data: Any) -> int:
        n = super().write(data)
        if self.f.read(n) != bytes(data):
            self.f.close()
            raise ChuteError(f"{quote(self.path)}: does not round-trip (differs within bytes {self.n - n}..{self.n})")
        return n

    def close(self) -> None:
        with self.f:
            more = self.f.read(1)
        if more:
            raise ChuteError(
                f"{quote(self.path)}: does not round-trip (decoded {self.n} bytes, fewer than the original)"
            )


def measure_streams(job: dict[str, Any]) -> dict[str, Any]:
    """Measure ``job`` (format, level, threads, dthreads, streams as [path, size] pairs,
    time_limit in seconds): stops after the stream that reaches the time limit."""
    fmt, level = job["format"], job["level"]
    out: dict[str, Any] = {
        "sizes": [],
        "compressed": [],
        "c_wall": 0.0,
        "c_cpu": 0.0,
        "d_wall": 0.0,
        "d_cpu": 0.0,
        "c_mem": None,
        "d_mem": None,
        "window": None,
    }
    begin = time.monotonic()
    fd, tmp = tempfile.mkstemp(prefix="chute-bench-", dir=job.get("tmpdir"))
    os.close(fd)
    try:
        _warm_up(job)
        for path, size in job["streams"]:
            base = _reset_peak()
            w0, c0 = time.perf_counter(), time.process_time()
            _compress(path, tmp, fmt, level, job["threads"])
            w1, c1 = time.perf_counter(), time.process_time()
            c_mem = _peak(base)
            with open(tmp, "rb") as f:
                head = f.read(64)
            csize = os.path.getsize(tmp)
            sink = _Count()
            base = _reset_peak()
            w2, c2 = time.perf_counter(), time.process_time()
            copy(tmp, sink, decompress=True, format=fmt, threads=job["dthreads"])
            w3, c3 = time.perf_counter(), time.process_time()
            d_mem = _peak(base)
            check = _Compare(path)
            try:
                copy(tmp, check, decompress=True, format=fmt, threads=job["dthreads"])
            finally:
                check.close()
            if sink.n != size:
                raise ChuteError(f"{quote(path)}: decoded {sink.n} bytes of {size}")
            out["sizes"].append(size)
            out["compressed"].append(csize)
            out["c_wall"] += w1 - w0
            out["c_cpu"] += c1 - c0
            out["d_wall"] += w3 - w2
            out["d_cpu"] += c3 - c2
            for key, value in (("c_mem", c_mem), ("d_mem", d_mem), ("window", decoder_window(fmt, head))):
                if value is not None:
                    out[key] = max(out[key] or 0, value)
            if time.monotonic() - begin >= job["time_limit"]:
                break
    finally:
        os.unlink(tmp)
    return out


def _compress(src: Any, dst: Any, fmt: str, level: int | None, threads: int | None) -> None:
    """Compress as ``chute -F FMT --level L -T N FILE`` does: the layout picked from the
    input alone (:func:`chute.api.fileobj.fixed_layout_compressor`), read a block at a time."""
    from .. import codecs
    from ..api.fileobj import fixed_layout_compressor
    from ..streams._writeall import flush_all
    from ..streams.pump import DEFAULT_CHUNK, compress_stream

    size = os.path.getsize(src) if isinstance(src, str) else None
    comp = fixed_layout_compressor(fmt, level, threads=threads, size=size)
    read_size = getattr(comp, "block_size", 0) or codecs.get(fmt).extra.get("read_size", 0) or DEFAULT_CHUNK
    s = open(src, "rb") if isinstance(src, str) else src  # noqa: SIM115 - closed below when opened here
    d = open(dst, "wb") if isinstance(dst, str) else dst  # noqa: SIM115
    try:
        compress_stream(s, d, comp, chunk_size=read_size)
        flush_all(d)
    finally:
        if s is not src:
            s.close()
        if d is not dst:
            d.close()


def _warm_up(job: dict[str, Any]) -> None:
    """Import the format's library and start the workers outside the timed region: one
    round trip of the first stream's first 64 KiB with the same settings."""
    import io

    with open(job["streams"][0][0], "rb") as f:
        head = f.read(64 << 10)
    packed = io.BytesIO()
    _compress(io.BytesIO(head), packed, job["format"], job["level"], job["threads"])
    packed.seek(0)
    copy(packed, _Count(), decompress=True, format=job["format"], threads=job["dthreads"])


def main() -> None:
    """Read the job from standard input, write the result (or ``{"error": ...}``) out."""
    job = json.load(sys.stdin)
    try:
        result = measure_streams(job)
    except MemoryError as exc:  # often without a message: the allocation that failed has none
        result = {"error": str(exc) or "out of memory"}
    except (ChuteError, OSError) as exc:
        result = {"error": str(exc)}
    json.dump(result, sys.stdout)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
