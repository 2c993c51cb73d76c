"""One unit of a batch, as it runs in a worker: read, hash, transform, write, verify.

:func:`execute` is a plain top-level function of picklable arguments, so any
``concurrent.futures.Executor`` can run it: a process pool, a Dask client's executor, or
the calling thread. It returns the manifest entries of what it did (see
:mod:`chute.batch.manifest`). A source that does not decode (corrupt, truncated, unknown
format) is reported as a failed entry, not raised: running it again would fail again.
Anything else (a full disk, a lost connection, a dying worker) raises, and the runner may
try again.

Checksums are XXH3-128 (``xxh3_128:`` and 32 hex digits): ``checksum`` of the source's
bytes as read, ``data_checksum`` of the uncompressed data. Compressed output is verified as
it is written: the bytes go through a decoder too, and the job fails unless they decode to
exactly the data that was compressed (same XXH3-128, same length).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

from .. import codecs
from ..codecs._stream import StreamDecoder
from ..errors import ChuteError
from . import storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

__all__ = ["Job", "ShardJob", "Member", "execute", "execute_packet", "OPERATIONS", "HASH"]

OPERATIONS = ("compress", "decompress", "recompress", "verify")
#: The checksum every entry records, as the prefix of its value.
HASH = "xxh3_128"
CHUNK = 1 << 20
#: Most output one decoder call may return: bounds memory whatever the input expands to.
STEP = 4 << 20


@dataclass(frozen=True)
class Job:
    """One source to one output (``None`` for ``verify``).

    ``format``: what ``compress`` writes, or what ``decompress``/``recompress``/``verify``
    expect (``None``: detected from the content); ``to``: what ``recompress`` writes.
    ``problem``: why the job cannot run (it is recorded as failed without running).
    """

    op: str
    source: str
    output: str | None
    size: int
    mtime: int | str
    format: str | None = None
    to: str | None = None
    level: int | None = None
    problem: str | None = None

    @property
    def outputs(self) -> tuple[str, ...]:
        return () if self.output is None else (self.output,)


@dataclass(frozen=True)
class Member:
    """A source packed into a shard under the name ``name``."""

    source: str
    name: str
    size: int
    mtime: int | str


@dataclass(frozen=True)
class ShardJob:
    """Many small sources packed into one compressed tar file, ``output``."""

    output: str
    members: tuple[Member, ...]
    format: str = "zstd"
    level: int | None = None
    op: str = field(default="compress", init=False)

    @property
    def size(self) -> int:
        return sum(m.size for m in self.members)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)


def _new_hash() -> Any:
    import xxhash

    return xxhash.xxh3_128()


def _digest(h: Any) -> str:
    return f"{HASH}:{h.hexdigest()}"


class HashingReader(io.RawIOBase):
    """Reads ``fp`` and hashes (and counts) every byte read."""

    def __init__(self, fp: Any) -> None:
        super().__init__()
        self._fp = fp
        self.hash = _new_hash()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._fp.read(len(b))
        n = len(data)
        b[:n] = data
        self.hash.update(data)
        self.count += n
        return n


class HashingSink:
    """Hashes and counts what is written, then passes it on to ``fp`` (if any)."""

    def __init__(self, fp: Any = None) -> None:
        self._fp = fp
        self.hash = _new_hash()
        self.count = 0

    def write(self, data: Any) -> int:
        self.hash.update(data)
        self.count += len(data)
        if self._fp is not None:
            self._fp.write(data)
        return len(data)

    def flush(self) -> None:
        if self._fp is not None:
            self._fp.flush()


class VerifyingSink(HashingSink):
    """Writes compressed bytes to ``fp`` and decodes them as they pass: ``decoded`` hashes
    what they decode to. :meth:`check` ends the stream and compares."""

    def __init__(self, fp: Any, format: str) -> None:
        super().__init__(fp)
        self._decoder = StreamDecoder(format)
        self.decoded = HashingSink()

    def write(self, data: Any) -> int:
        n = super().write(data)
        dec = self._decoder
        out = dec.decompress(data, STEP)
        self.decoded.write(out)
        while not dec.needs_input and not dec.eof:
            self.decoded.write(dec.decompress(b"", STEP))
        return n

    def check(self, data: HashingSink | HashingReader, what: str) -> None:
        """Raise unless everything written decoded to exactly ``data``'s bytes."""
        self._decoder.end()
        if (self.decoded.count, self.decoded.hash.digest()) != (data.count, data.hash.digest()):
            raise ChuteError(
                f"{what}: verification failed: the output decodes to {self.decoded.count} bytes "
                f"that differ from the {data.count} bytes compressed"
            )


class _Compressing:
    """A writer that compresses into ``sink`` (for the tar writer of a shard)."""

    def __init__(self, sink: Any, format: str, level: int | None) -> None:
        from ..api.fileobj import new_compressor

        self._comp = new_compressor(codecs.get(format), level)
        self._sink = sink

    def write(self, data: Any) -> int:
        out = self._comp.compress(data)
        if out:
            self._sink.write(out)
        return len(data)

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        out = self._comp.finish()
        if out:
            self._sink.write(out)


def _entry(job: Job, **fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "op": job.op,
        "source": job.source,
        "size": job.size,
        "mtime": job.mtime,
        "output": job.output,
    }
    entry.update(fields)
    return entry


def execute(job: Job | ShardJob) -> list[dict[str, Any]]:
    """Run ``job``; return its manifest entries (one per source), status ``done`` or
    ``failed``. Raises only for errors worth another attempt (see the module's text)."""
    start = time.monotonic()
    if isinstance(job, ShardJob):
        return _shard(job, start)
    if job.problem is not None:
        return [_entry(job, status="failed", error=_named(job.source, job.problem))]
    try:
        fields = _run(job)
    except ChuteError as exc:
        seconds = round(time.monotonic() - start, 6)
        return [_entry(job, status="failed", error=_named(job.source, str(exc)), seconds=seconds)]
    return [_entry(job, status="done", seconds=round(time.monotonic() - start, 6), **fields)]


def execute_packet(jobs: list[Job | ShardJob]) -> list[list[dict[str, Any]] | BaseException]:
    """:func:`execute` for each of ``jobs``: its entries, or the exception it raised."""
    out: list[list[dict[str, Any]] | BaseException] = []
    for job in jobs:
        try:
            out.append(execute(job))
        except Exception as exc:
            out.append(exc)
    return out


def _named(source: str, message: str) -> str:
    """``SOURCE: message``, unless the message names it already."""
    return message if message.startswith(source + ":") else f"{source}: {message}"


def _run(job: Job) -> dict[str, Any]:
    from ..streams.pump import compress_stream, decompress_stream

    with storage.open_file(job.source, "rb") as raw:
        source = HashingReader(raw)
        if job.op == "verify":
            data = HashingSink()
            decompress_stream(source, data, StreamDecoder(job.format), chunk_size=_chunk(job))  # type: ignore[arg-type]
            return {"checksum": _digest(source.hash), "data_checksum": _digest(data.hash), "data_size": data.count}
        assert job.output is not None
        with storage.open_file(job.output, "wb") as out:
            if job.op == "decompress":
                sink = HashingSink(out)
                decompress_stream(source, sink, StreamDecoder(job.format), chunk_size=_chunk(job))  # type: ignore[arg-type]
                data_hash, data_size, written = sink.hash, sink.count, sink.count
            else:
                target = job.format if job.op == "compress" else job.to
                assert target is not None
                plain: BinaryIO = source  # type: ignore[assignment]
                if job.op == "recompress":
                    from ..api.fileobj import open as chute_open

                    plain = chute_open(io.BufferedReader(source, CHUNK), "rb", format=job.format)  # type: ignore[assignment]
                counted = HashingReader(plain)
                verify = VerifyingSink(out, target)
                comp = _compressor(target, job.level)
                compress_stream(counted, verify, comp, chunk_size=_chunk(job))  # type: ignore[arg-type]
                verify.check(counted, job.source)
                data_hash, data_size, written = counted.hash, counted.count, verify.count
    return {
        "checksum": _digest(source.hash),
        "data_checksum": _digest(data_hash),
        "data_size": data_size,
        "output_size": written,
    }


def _chunk(job: Job) -> int:
    """Bytes per read: the whole of a small file in one (and no 1 MiB buffer for it)."""
    return max(64 << 10, min(CHUNK, job.size + 1))


def _compressor(format: str, level: int | None) -> Any:
    from ..api.fileobj import new_compressor

    return new_compressor(codecs.get(format), level)


def _shard(job: ShardJob, start: float) -> list[dict[str, Any]]:
    """Pack the members into a tar stream, compress it, verify it as it is written."""
    from ..tar.writer import TarWriter

    done: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    with storage.open_file(job.output, "wb") as out:
        verify = VerifyingSink(out, job.format)
        compressing = _Compressing(verify, job.format, job.level)
        tar_bytes = HashingSink(compressing)
        writer = TarWriter(tar_bytes)  # type: ignore[arg-type]
        reader: HashingReader
        for m in job.members:
            base = {"op": "compress", "source": m.source, "size": m.size, "mtime": m.mtime, "output": job.output}
            try:
                with storage.open_file(m.source, "rb") as raw:
                    reader = HashingReader(raw)
                    mtime = m.mtime / 1e9 if isinstance(m.mtime, int) else None
                    writer.add_stream(m.name, reader, m.size, mtime=mtime)  # type: ignore[arg-type]
            except FileNotFoundError as exc:
                failed.append({**base, "status": "failed", "error": f"{m.source}: {exc.strerror}"})
                continue
            except ChuteError as exc:  # it changed size while being packed: the shard is unusable
                raise OSError(str(exc)) from None
            digest = _digest(reader.hash)
            done.append({**base, "member": m.name, "checksum": digest, "data_checksum": digest, "data_size": m.size})
        writer.close()
        compressing.finish()
        verify.check(tar_bytes, job.output)
    seconds = round(time.monotonic() - start, 6)
    for e in done:
        e.update(status="done", output_size=verify.count, seconds=seconds)
    return done + failed
