"""Guard the public names: people import them, so they must not vanish or leak."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chute

EXPECTED = {
    "__version__",
    "open",
    "compress",
    "decompress",
    "copy",
    "detect",
    "formats",
    "FlushMode",
    "Stats",
    "StreamDecoder",
    "ChuteReader",
    "ChuteWriter",
    "errors",
    "ChuteError",
    "FormatError",
    "UnknownFormatError",
    "CorruptStreamError",
    "ChecksumError",
    "TrailingDataError",
    "TruncatedStreamError",
    "LimitExceededError",
    "IndexFileError",
    "ArchiveError",
    "UnsafeArchiveError",
    "DictionaryError",
    "RecordCodec",
    "records",
    "dictionaries",
}


def test_all_is_exactly_the_public_contract() -> None:
    assert set(chute.__all__) == EXPECTED


def test_every_public_name_resolves() -> None:
    for name in chute.__all__:
        assert getattr(chute, name) is not None, name


def test_exceptions_subclass_the_builtins_callers_catch() -> None:
    assert issubclass(chute.TruncatedStreamError, EOFError)
    assert issubclass(chute.CorruptStreamError, ValueError)
    assert issubclass(chute.ChecksumError, chute.CorruptStreamError)
    assert issubclass(chute.TrailingDataError, chute.CorruptStreamError)
    assert issubclass(chute.UnsafeArchiveError, chute.ArchiveError)
    for name in EXPECTED:
        obj = getattr(chute, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, chute.ChuteError)


def test_import_loads_no_backend() -> None:
    code = (
        "import sys, chute; chute.__version__; "
        "heavy = [m for m in ('zlib_ng', 'isal', 'deflate', 'lz4', 'brotli', 'backports.zstd', 'lzma', "
        "'bz2', 'argparse', 'tempfile', 'dataclasses') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_command_stays_light() -> None:
    """``chute --version`` (and every command's argument parsing) loads no typing (its
    protocols load on first use) and no shutil (argparse's stock formatter imports it). It
    does load the backends: it prints their versions."""
    code = (
        "import sys; sys.argv = ['chute', '--version']\n"
        "from chute.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('typing', 'shutil') "
        "if m in sys.modules]\n"
        "print(heavy, file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.startswith("chute ")
    assert proc.stderr.strip() == "[]"


def test_protocols_load_on_first_use() -> None:
    from chute import codecs

    assert isinstance(codecs.get("zstd").new_compressor(3), codecs.Compressor)
    assert isinstance(codecs.get("lz4").new_decompressor(), codecs.Decompressor)
    with pytest.raises(AttributeError):
        codecs.NoSuchThing  # noqa: B018


def test_flush_mode_behaves_like_the_enum_it_was() -> None:
    """FlushMode is a plain class (enum costs start-up), with the enum API people use."""
    import copy
    import pickle

    from chute import FlushMode

    assert list(FlushMode) == [FlushMode.SYNC, FlushMode.FULL] and len(FlushMode) == 2
    assert FlushMode.SYNC is not FlushMode.FULL and FlushMode.SYNC != FlushMode.FULL
    assert isinstance(FlushMode.FULL, FlushMode)
    assert (FlushMode.SYNC.name, FlushMode.SYNC.value) == ("SYNC", "sync")
    assert repr(FlushMode.FULL) == "<FlushMode.FULL: 'full'>" and str(FlushMode.FULL) == "FlushMode.FULL"
    assert FlushMode("full") is FlushMode.FULL and FlushMode["SYNC"] is FlushMode.SYNC
    assert FlushMode(FlushMode.SYNC) is FlushMode.SYNC
    for mode in FlushMode:
        assert copy.deepcopy(mode) is mode and pickle.loads(pickle.dumps(mode)) is mode
    assert {FlushMode.SYNC: 1}[FlushMode("sync")] == 1
    with pytest.raises(ValueError, match="not a valid FlushMode"):
        FlushMode("partial")
    with pytest.raises(KeyError):
        FlushMode["PARTIAL"]
    with pytest.raises(AttributeError):
        FlushMode.SYNC.value = "x"
