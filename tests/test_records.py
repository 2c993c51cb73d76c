"""chute.records: one zstd frame per record, with a shared dictionary; record streams."""

from __future__ import annotations

import io
import json
import logging
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chute
from chute.errors import ChuteError, DictionaryError, LimitExceededError, TruncatedStreamError
from chute.records import RecordCodec, RecordReader, RecordWriter

needs_zstd = pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd CLI not installed")


def records(n: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return [
        json.dumps({"seq": i, "sensor": f"s-{rng.randrange(40)}", "temp": round(rng.uniform(-5, 35), 2)}).encode()
        for i in range(n)
    ]


RECORDS = records(3000)


@pytest.fixture(scope="module")
def dictionary() -> Any:
    return chute.dictionaries.train(RECORDS, 8 << 10).dictionary


class _Chunked(io.RawIOBase):
    """A file that returns at most ``sizes[i]`` bytes per read, like a pipe or a socket."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes, self.pos, self.i = data, sizes, 0, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        step = self.sizes[self.i % len(self.sizes)]
        self.i += 1
        n = step if n < 0 else min(n, step)
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out


def test_record_is_a_zstd_frame_naming_its_dictionary(dictionary: Any) -> None:
    codec = RecordCodec(dictionary)
    blob = codec.encode(RECORDS[5])
    assert blob[:4] == b"\x28\xb5\x2f\xfd"
    assert chute.decompress(blob, zstd_dict=dictionary) == RECORDS[5]
    assert codec.decode(blob) == RECORDS[5]
    assert len(blob) < len(RecordCodec().encode(RECORDS[5])) * 0.7


def test_wrong_or_missing_dictionary(dictionary: Any) -> None:
    blob = RecordCodec(dictionary).encode(RECORDS[0])
    with pytest.raises(DictionaryError, match=f"needs dictionary 0x{dictionary.dict_id:08x}"):
        RecordCodec().decode(blob)


def test_decode_refuses_more_or_less_than_one_frame(dictionary: Any) -> None:
    codec = RecordCodec(dictionary)
    blob = codec.encode(RECORDS[0])
    with pytest.raises(TruncatedStreamError):
        codec.decode(blob[:-1])
    with pytest.raises(ChuteError, match="after the record"):
        codec.decode(blob + blob)
    with pytest.raises(LimitExceededError):
        RecordCodec(dictionary, max_size=10).decode(blob)


def test_stream_round_trip_and_zstd_cli(dictionary: Any, tmp_path: Path) -> None:
    buf = io.BytesIO()
    w = RecordWriter(buf, RecordCodec(dictionary))
    for rec in [*RECORDS[:500], b""]:
        w.write(rec)
    data = buf.getvalue()
    assert list(RecordReader(io.BytesIO(data), RecordCodec(dictionary))) == [*RECORDS[:500], b""]
    if shutil.which("zstd"):
        d = tmp_path / "d.dict"
        d.write_bytes(dictionary.dict_content)
        out = subprocess.run(["zstd", "-dq", "-D", str(d), "-c"], input=data, capture_output=True, check=True).stdout
        assert out == b"".join(RECORDS[:500])


@needs_zstd
def test_reader_takes_frames_the_zstd_cli_wrote(dictionary: Any, tmp_path: Path) -> None:
    d = tmp_path / "d.dict"
    d.write_bytes(dictionary.dict_content)
    big = b"".join(RECORDS) * 3  # several blocks in one frame
    frames = [
        subprocess.run(["zstd", "-q", *opt, "-D", str(d), "-c"], input=rec, capture_output=True, check=True).stdout
        for rec, opt in ((RECORDS[1], []), (big, ["--no-check"]), (b"", []), (b"a" * 100_000, ["-19"]))
    ]
    skippable = b"\x50\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"abc"
    stream = frames[0] + skippable + b"".join(frames[1:])
    got = list(RecordReader(io.BytesIO(stream), RecordCodec(dictionary)))
    assert got == [RECORDS[1], big, b"", b"a" * 100_000]


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, len(RECORDS) - 1), max_size=30), sizes=st.lists(st.integers(1, 50), min_size=1))
def test_stream_random_chunking(dictionary: Any, picks: list[int], sizes: list[int]) -> None:
    codec = RecordCodec(dictionary)
    recs = [RECORDS[i] for i in picks]
    data = b"".join(codec.encode(r) for r in recs)
    assert list(RecordReader(_Chunked(data, sizes), codec)) == recs  # type: ignore[arg-type]


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7), cut=st.booleans())
def test_stream_damage_raises_only_chute_errors(dictionary: Any, where: float, bit: int, cut: bool) -> None:
    codec = RecordCodec(dictionary, checksum=True)
    data = bytearray(b"".join(codec.encode(r) for r in RECORDS[:20]))
    at = int(len(data) * where)
    if cut:
        del data[at:]
    else:
        data[at] ^= 1 << bit
    try:
        got = list(RecordReader(io.BytesIO(bytes(data)), codec))
    except ChuteError:
        return
    if not cut:  # with checksums, a flip that decodes must change nothing
        assert got == RECORDS[:20]
    else:
        assert got == RECORDS[: len(got)]


def test_reader_bounds_a_hostile_frame() -> None:
    codec = RecordCodec(max_size=1000)
    frame = RecordCodec().encode(bytes(random.Random(1).getrandbits(8) for _ in range(5000)))
    with pytest.raises(LimitExceededError):
        list(RecordReader(io.BytesIO(frame), codec))


@needs_zstd
def test_log_handler_writes_with_a_dictionary(dictionary: Any, tmp_path: Path) -> None:
    from chute.logging import CompressedFileHandler

    d = tmp_path / "d.dict"
    d.write_bytes(dictionary.dict_content)
    path = tmp_path / "app.log.zst"
    handler = CompressedFileHandler(path, mode="w", zstd_dict=d)
    log = logging.getLogger("chute-test-dict")
    log.propagate = False
    log.addHandler(handler)
    try:
        for rec in RECORDS[:50]:
            log.warning(rec.decode())
    finally:
        log.removeHandler(handler)
        handler.close()
    want = b"".join(r + b"\n" for r in RECORDS[:50])
    blob = path.read_bytes()
    assert chute.decompress(blob, zstd_dict=d) == want
    with pytest.raises(DictionaryError):
        chute.decompress(blob)
    out = subprocess.run(["zstd", "-dq", "-D", str(d), "-c", str(path)], capture_output=True, check=True).stdout
    assert out == want
