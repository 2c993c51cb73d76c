"""zstd dictionaries: the codec and the API against the zstd CLI (``zstd -D``, ``zstd --train``)."""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute.codecs import zstd as zcodec
from chute.codecs import zstd_dict
from chute.errors import DictionaryError

needs_zstd = pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd CLI not installed")


def json_records(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    actions = ["login", "logout", "view", "buy", "search"]
    return [
        json.dumps(
            {
                "id": i,
                "user": f"user{rng.randrange(5000)}",
                "action": rng.choice(actions),
                "ts": 1_700_000_000 + i * 7,
                "ok": rng.random() < 0.9,
                "path": f"/api/v1/items/{rng.randrange(10**6)}",
            }
        ).encode()
        for i in range(n)
    ]


RECORDS = json_records(3000)


@pytest.fixture(scope="module")
def trained() -> object:
    return zstd_dict.train(RECORDS, 16 << 10)


@pytest.fixture
def dict_file(tmp_path: Path, trained: object) -> Path:
    p = tmp_path / "records.dict"
    p.write_bytes(trained.dict_content)  # type: ignore[attr-defined]
    return p


def zstd_cli(*args: str, data: bytes = b"") -> bytes:
    return subprocess.run(["zstd", "-q", *args], input=data, capture_output=True, check=True).stdout


def test_frame_names_the_dictionary(trained: object) -> None:
    frame = chute.compress(RECORDS[0], zstd_dict=trained)
    assert zstd_dict.frame_dictionary_id(frame) == trained.dict_id  # type: ignore[attr-defined]
    assert len(frame) < len(chute.compress(RECORDS[0])) / 2
    assert chute.decompress(frame, zstd_dict=trained) == RECORDS[0]


@pytest.mark.parametrize("as_", ["ZstdDict", "bytes", "path", "str"])
def test_dictionary_forms(trained: object, dict_file: Path, as_: str) -> None:
    given_ = {
        "ZstdDict": trained,
        "bytes": dict_file.read_bytes(),
        "path": dict_file,
        "str": str(dict_file),
    }[as_]
    data = b"\n".join(RECORDS[:50])
    assert chute.decompress(chute.compress(data, zstd_dict=given_), zstd_dict=given_) == data


def test_missing_and_wrong_dictionary_name_the_id(trained: object) -> None:
    frame = chute.compress(RECORDS[0], zstd_dict=trained)
    want = f"0x{trained.dict_id:08x}"  # type: ignore[attr-defined]
    with pytest.raises(DictionaryError, match=f"needs dictionary {want} \\(no dictionary was given\\)"):
        chute.decompress(frame)
    other = zstd_dict.train(json_records(3000, seed=7), 8 << 10)
    with pytest.raises(DictionaryError, match=f"needs dictionary {want} \\(not 0x{other.dict_id:08x}\\)"):
        chute.decompress(frame, zstd_dict=other)


def test_id_check_with_the_header_in_one_byte_pieces(trained: object) -> None:
    frame = chute.compress(b"".join(RECORDS[:100]), zstd_dict=trained)
    dec = zcodec.ZstdDecompressor()
    with pytest.raises(DictionaryError, match="needs dictionary"):
        for i in range(len(frame)):
            dec.decompress(frame[i : i + 1])
    dec = zcodec.ZstdDecompressor(zstd_dict=trained)
    assert b"".join(dec.decompress(frame[i : i + 1]) for i in range(len(frame))) == b"".join(RECORDS[:100])


@given(
    descriptor=st.integers(0, 255),
    rest=st.binary(min_size=0, max_size=20),
)
def test_frame_dictionary_id_reads_rfc8878_fields(descriptor: int, rest: bytes) -> None:
    header = b"\x28\xb5\x2f\xfd" + bytes([descriptor]) + rest
    got = zstd_dict.frame_dictionary_id(header)
    id_size = (0, 1, 2, 4)[descriptor & 3]
    start = 5 if descriptor & 0x20 else 6
    if len(header) < start + id_size:
        assert got is None
    else:
        assert got == int.from_bytes(header[start : start + id_size], "little")


@needs_zstd
@pytest.mark.parametrize("level", [1, 3, 19])
def test_frame_dictionary_id_agrees_with_zstd_cli(dict_file: Path, trained: object, level: int) -> None:
    frame = zstd_cli(f"-{level}", "-D", str(dict_file), "-c", data=RECORDS[1] * 3)
    assert zstd_dict.frame_dictionary_id(frame) == trained.dict_id  # type: ignore[attr-defined]
    assert zstd_cli("--no-dictID", "-D", str(dict_file), "-c", data=RECORDS[1])[:4] == b"\x28\xb5\x2f\xfd"
    assert zstd_dict.frame_dictionary_id(zstd_cli("--no-dictID", "-D", str(dict_file), "-c", data=RECORDS[1])) == 0


@needs_zstd
def test_zstd_cli_reads_what_chute_writes_and_back(dict_file: Path, tmp_path: Path) -> None:
    data = b"\n".join(RECORDS[:500]) + b"\n"
    with chute.open(tmp_path / "a.zst", "wb", zstd_dict=dict_file) as f:
        f.write(data)
    assert zstd_cli("-d", "-D", str(dict_file), "-c", str(tmp_path / "a.zst")) == data
    made_by_zstd = zstd_cli("-D", str(dict_file), "-c", data=data)
    with chute.open(io.BytesIO(made_by_zstd), "rb", zstd_dict=dict_file) as f:
        assert f.read() == data
    with chute.open(io.BytesIO(made_by_zstd), "rt", zstd_dict=dict_file, encoding="utf-8") as t:
        assert t.readline().encode() == RECORDS[0] + b"\n"


@needs_zstd
def test_raw_content_dictionary_both_ways(tmp_path: Path) -> None:
    raw = b"".join(RECORDS[:200])  # no dictionary magic: raw content, for chute as for zstd -D
    p = tmp_path / "raw.bin"
    p.write_bytes(raw)
    record = RECORDS[1000]
    ours = chute.compress(record, zstd_dict=p)
    assert zstd_dict.frame_dictionary_id(ours) == 0
    assert zstd_cli("-d", "-D", str(p), "-c", data=ours) == record
    theirs = zstd_cli("-D", str(p), "-c", data=record)
    assert chute.decompress(theirs, zstd_dict=raw) == record
    assert len(ours) < len(chute.compress(record))


def test_open_keywords_are_a_superset_of_compression_zstd_open() -> None:
    import inspect

    from backports import zstd as bz  # the backport has the same signature as compression.zstd

    P = inspect.Parameter
    ours = list(inspect.signature(chute.open).parameters.values())
    by_name = {p.name: p for p in ours}
    for i, param in enumerate(inspect.signature(bz.open).parameters.values()):
        if param.kind is P.KEYWORD_ONLY:  # accepted by keyword
            assert by_name[param.name].kind in (P.KEYWORD_ONLY, P.POSITIONAL_OR_KEYWORD), param.name
        else:  # accepted at the same position (and by keyword where theirs is)
            assert ours[i].kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD), param.name
            if param.kind is P.POSITIONAL_OR_KEYWORD:
                assert ours[i].name == param.name and ours[i].kind is P.POSITIONAL_OR_KEYWORD


def test_options_reach_the_compressor() -> None:
    from backports.zstd import CompressionParameter, DecompressionParameter

    data = b"".join(RECORDS[:200])
    frame = chute.compress(data, options={CompressionParameter.checksum_flag: 0})
    with_sum = chute.compress(data, options={CompressionParameter.checksum_flag: 1})
    assert len(with_sum) == len(frame) + 4
    out = chute.decompress(frame, options={DecompressionParameter.window_log_max: 20})
    assert out == data


def test_zstd_dict_refused_for_other_formats(trained: object) -> None:
    with pytest.raises(ValueError, match="zstd_dict and options are for zstd"):
        chute.compress(b"x", "gzip", zstd_dict=trained)


def test_not_a_trained_dictionary_when_one_is_required() -> None:
    with pytest.raises(DictionaryError, match="not a trained zstd dictionary"):
        zstd_dict.as_zstd_dict(b"just bytes", raw=False)


def test_train_refuses_what_zstd_cannot_learn_from() -> None:
    with pytest.raises(DictionaryError, match="could not train"):
        zstd_dict.train([b"a", b"b", b"c"], 4096)


@needs_zstd
def test_trained_like_zstd_train(tmp_path: Path) -> None:
    """chute's dictionary and zstd --train's, same samples and size: ratios within a few
    percent of each other on records neither saw."""
    samples = json_records(4000, seed=3)
    unseen = json_records(500, seed=4)
    folder = tmp_path / "samples"
    folder.mkdir()
    for i, s in enumerate(samples):
        (folder / f"{i:05d}.json").write_bytes(s)
    theirs = tmp_path / "zstd.dict"
    subprocess.run(["zstd", "-q", "--train", "-r", str(folder), "--maxdict=16384", "-o", str(theirs)], check=True)
    ours = zstd_dict.train(samples, 16384)
    from chute.dictionaries import evaluate

    _, ratio_theirs = evaluate(theirs.read_bytes(), unseen)
    _, ratio_ours = evaluate(ours, unseen)
    assert abs(ratio_ours / ratio_theirs - 1) < 0.05, (ratio_ours, ratio_theirs)


def test_train_for_a_level_keeps_the_content() -> None:
    samples = json_records(3000, seed=5)
    at3 = zstd_dict.train(samples, 16384)
    at19 = zstd_dict.train(samples, 16384, level=19)
    assert at19.dict_content[:4] == zstd_dict.DICT_MAGIC
    from chute.dictionaries import evaluate

    unseen = json_records(300, seed=6)
    _, r3 = evaluate(at3, unseen, level=19)
    _, r19 = evaluate(at19, unseen, level=19)
    assert r19 > r3 * 0.97, (r3, r19)  # no worse at the level it was tuned for


@settings(max_examples=examples(50), deadline=None)
@given(cut=st.integers(1, 64), seed=st.integers(0, 1 << 16))
def test_random_chunking_with_a_dictionary(trained: object, cut: int, seed: int) -> None:
    rng = random.Random(seed)
    data = b"\n".join(rng.sample(RECORDS, 40))
    frame = chute.compress(data, zstd_dict=trained)
    dec = chute.StreamDecoder(zstd_dict=trained)
    out = b"".join(dec.decompress(frame[i : i + cut]) for i in range(0, len(frame), cut))
    dec.end()
    assert out == data
