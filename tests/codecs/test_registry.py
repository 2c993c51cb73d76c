"""The registry: names, aliases, suffixes, magic numbers and detection."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import chute
from chute import codecs
from chute.codecs import MAX_MAGIC, could_be_magic, detect, from_suffix, get, names

SAMPLE = b"registry sample " * 64
MAGIC = {
    "gzip": b"\x1f\x8b",
    "zstd": b"\x28\xb5\x2f\xfd",
    "lz4": b"\x04\x22\x4d\x18",
    "bz2": b"BZh",
    "xz": b"\xfd7zXZ\x00",
}


def compressed(name: str, data: bytes = SAMPLE) -> bytes:
    return chute.compress(data, name)


def test_names() -> None:
    assert names() == chute.formats()
    assert set(names()) == {"gzip", "zlib", "deflate", "zstd", "lz4", "bz2", "xz", "brotli"}
    assert len(names()) == len(set(names()))
    assert all(get(n).name == n for n in names())
    assert [c.name for c in codecs.all_codecs()] == names()


@pytest.mark.parametrize("name", ["gzip", "zstd", "lz4", "bz2", "xz", "zlib"])
def test_detect_from_first_bytes(name: str) -> None:
    blob = compressed(name)
    assert detect(blob) == name
    assert detect(blob[:MAX_MAGIC]) == name
    assert chute.detect(blob) == name
    if name in MAGIC:
        assert blob.startswith(MAGIC[name])
        assert detect(MAGIC[name]) == name  # the magic alone is enough
        for n in range(len(MAGIC[name])):
            assert detect(MAGIC[name][:n]) is None
            assert could_be_magic(MAGIC[name][:n])


@pytest.mark.parametrize("level", [1, 6, 9])
def test_detect_zlib_headers_of_every_level(level: int) -> None:
    assert detect(chute.compress(b"x", "zlib", level)) == "zlib"


def test_detect_zlib_needs_a_valid_header_checksum() -> None:
    assert detect(b"\x78\x9c") == "zlib"
    assert detect(b"\x78\x01") == "zlib"
    assert detect(b"\x78\xda") == "zlib"
    assert detect(b"xy") is None  # text starting with "x"
    assert detect(b"x") is None


@pytest.mark.parametrize("name", ["brotli", "deflate"])
def test_formats_without_magic_are_never_detected(name: str) -> None:
    assert get(name).magic == ()
    assert detect(compressed(name)) is None


def test_skippable_frames_detect_as_zstd() -> None:
    for nibble in range(16):
        assert detect(bytes([0x50 + nibble, 0x2A, 0x4D, 0x18, 0, 0, 0, 0])) == "zstd"


def test_could_be_magic() -> None:
    assert could_be_magic(b"")
    assert could_be_magic(b"\x1f")
    assert could_be_magic(b"\x28\xb5\x2f")
    assert could_be_magic(b"\xfd7zXZ")
    assert could_be_magic(b"B") and could_be_magic(b"BZ")
    assert not could_be_magic(b"PK\x03\x04")  # zip
    assert not could_be_magic(b"\x1f\x8b")  # complete: nothing left to wait for
    assert not could_be_magic(b"hello")


@settings(max_examples=examples(200), deadline=None)
@given(prefix=st.binary(max_size=MAX_MAGIC))
def test_detect_and_could_be_magic_agree(prefix: bytes) -> None:
    found = detect(prefix)
    if found is not None:
        assert found in names()
    if len(prefix) >= MAX_MAGIC:
        assert not could_be_magic(prefix) or found is not None
    for extra in (b"", b"\0" * MAX_MAGIC):
        # detection looks at the first MAX_MAGIC bytes only, so bytes after them change nothing
        if len(prefix) == MAX_MAGIC:
            assert detect(prefix + extra) == found


def test_magic_numbers_fit_and_do_not_collide() -> None:
    seen: dict[bytes, str] = {}
    for codec in codecs.all_codecs():
        for m in codec.magic:
            assert 0 < len(m) <= MAX_MAGIC
            if m in seen:  # only the shared zstd/lz4 skippable frames
                assert {seen[m], codec.name} == {"zstd", "lz4"} and m[1:] == b"\x2a\x4d\x18"
            seen[m] = codec.name


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("a.gz", "gzip"),
        ("a.tgz", "gzip"),
        ("a.tar.gz", "gzip"),
        ("a.zst", "zstd"),
        ("a.tzst", "zstd"),
        ("a.tar.zst", "zstd"),
        ("a.zstd", "zstd"),
        ("a.lz4", "lz4"),
        ("a.xz", "xz"),
        ("a.txz", "xz"),
        ("a.bz2", "bz2"),
        ("a.tbz2", "bz2"),
        ("a.tbz", "bz2"),
        ("a.br", "brotli"),
        ("a.zz", "zlib"),
        ("a.zlib", "zlib"),
        ("a.deflate", "deflate"),
        ("DIR/LOG.GZ", "gzip"),
        ("/x/y.log.Zst", "zstd"),
    ],
)
def test_from_suffix(path: str, name: str) -> None:
    codec = from_suffix(path)
    assert codec is not None and codec.name == name
    found = from_suffix(Path(path))
    assert found is not None and found.name == name


@pytest.mark.parametrize("path", ["a", "a.txt", "a.gz.txt", "gz", "a.tar", "a.zip", "", "a.gzip"])
def test_from_suffix_unknown(path: str) -> None:
    assert from_suffix(path) is None


def test_suffixes_are_unique_and_dotted() -> None:
    seen: set[str] = set()
    for codec in codecs.all_codecs():
        assert codec.suffixes, codec
        for suffix in codec.suffixes:
            assert suffix.startswith(".") and suffix == suffix.lower()
            assert suffix not in seen
            seen.add(suffix)


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("gz", "gzip"),
        ("GZIP", "gzip"),
        ("zst", "zstd"),
        ("zstandard", "zstd"),
        ("Zstd", "zstd"),
        ("bzip2", "bz2"),
        ("bz", "bz2"),
        ("lzma-alone", "lzma"),  # .lzma, as `lzma` and `xz --format=lzma` write it: not xz
        ("br", "brotli"),
        ("zz", "zlib"),
        ("raw", "deflate"),
        ("LZ4", "lz4"),
    ],
)
def test_aliases(alias: str, name: str) -> None:
    assert get(alias).name == name


def test_aliases_do_not_collide() -> None:
    seen: set[str] = set()
    for codec in codecs.all_codecs():
        for key in (codec.name, *codec.aliases):
            assert key == key.lower() and key not in seen
            seen.add(key)


@pytest.mark.parametrize("bad", ["", "zip", "gzip2", "7z", "snappy", " gzip"])
def test_unknown_names(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown format") as info:
        get(bad)
    assert "zstd" in str(info.value)  # the message lists the choices


def test_non_string_name_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        get(None)  # type: ignore[arg-type]


def test_unknown_format_everywhere() -> None:
    with pytest.raises(ValueError):
        chute.compress(b"x", "zip")
    with pytest.raises(ValueError):
        chute.decompress(compressed("gzip"), "zip")


def test_codec_repr_and_levels() -> None:
    for codec in codecs.all_codecs():
        assert codec.name in repr(codec)
        lo, hi = codec.levels
        assert lo <= codec.fast <= codec.best <= hi
        assert lo <= codec.default_level <= hi


CODEC_MODULES = [f"chute.codecs.{n}" for n in ("zstd", "gzip", "lz4", "xz", "bz2", "brotli", "zlib", "deflate")]


def test_codec_modules_are_imported_when_first_used() -> None:
    """Detection, suffixes and names load no codec module (each imports its backend's
    modules: all eight cost a run ~4 ms); a factory loads its own module only."""
    import subprocess
    import sys

    code = f"""
import sys
from chute import codecs
assert codecs.detect(bytes.fromhex("28b52ffd")) == "zstd" and codecs.detect(b"x\\x9c") == "zlib"
assert codecs.from_suffix("a.tar.gz").name == "gzip" and codecs.get("xz").levels == (0, 9)
assert not [m for m in {CODEC_MODULES!r} if m in sys.modules], "loaded before use"
codecs.get("gzip").new_decompressor()
print(sorted(m for m in {CODEC_MODULES!r} if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["['chute.codecs.gzip']"]


def test_factories_are_the_modules_own() -> None:
    import importlib

    for codec in codecs.all_codecs():
        mod = importlib.import_module(f"chute.codecs.{codec.name}")
        comp = codec.new_compressor(codec.fast)
        assert type(comp) is type(mod.new_compressor(codec.fast))
        maker = getattr(mod, "new_decompressor", None) or getattr(mod, f"{codec.name.capitalize()}Decompressor")
        assert type(codec.new_decompressor()) is type(maker())
    from chute.codecs import lz4

    assert codecs.get("lz4").extra["read_size"] == lz4.MAX_BLOCK
