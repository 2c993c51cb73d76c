"""chute.codecs.zstd.core(): the binding's C module, loaded without its package's enums."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chute.codecs import zstd as Z


def run(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing imported yet); its stdout."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_core_is_what_the_package_exports() -> None:
    z, pkg = Z.core(), Z.backend()
    assert z.ZstdCompressor is pkg.ZstdCompressor
    assert z.ZstdDecompressor is pkg.ZstdDecompressor
    assert z.ZstdError is pkg.ZstdError
    assert z.ZSTD_c_compressionLevel == pkg.CompressionParameter.compression_level
    assert z.ZSTD_d_windowLogMax == pkg.DecompressionParameter.window_log_max


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="3.14 has the C module as _zstd")
def test_core_loads_no_enum_and_a_later_package_import_shares_it() -> None:
    out = run(
        "import sys\n"
        "from chute.codecs.zstd import core\n"
        "z = core()\n"
        "print('enum' in sys.modules, 'backports.zstd' in sys.modules)\n"
        "from backports import zstd\n"
        "print(zstd.ZstdError is z.ZstdError, zstd.ZstdDecompressor is z.ZstdDecompressor)\n"
        "blob = zstd.compress(b'abc' * 1000)\n"
        "print(z.ZstdDecompressor().decompress(blob) == b'abc' * 1000)\n"
    )
    assert out.split() == ["False", "False", "True", "True", "True"]


def test_core_takes_the_package_module_already_imported() -> None:
    out = run("from backports import zstd\nfrom chute.codecs.zstd import core\nprint(core() is zstd._zstd)\n")
    assert out == "True"


@pytest.mark.parametrize("failure", ["lambda name: None", "lambda name: 1 / 0"])
def test_an_unknown_layout_falls_back_to_the_package_import(failure: str) -> None:
    out = run(
        "import sys\n"
        "from chute.codecs import zstd as Z\n"
        f"Z._load_extension = {failure}\n"
        "z = Z.core()\n"
        "from backports import zstd\n"
        "print(z is zstd._zstd, 'enum' in sys.modules)\n"
        "from chute import compress, decompress\n"
        "print(decompress(compress(b'xyz' * 999, format='zstd')) == b'xyz' * 999)\n"
    )
    assert out.split() == ["True", "True", "True"]


def test_errors_of_the_core_module_become_chute_errors() -> None:
    from chute.errors import ChecksumError, CorruptStreamError, LimitExceededError

    z = Z.core()
    good = z.ZstdCompressor(options={z.ZSTD_c_checksumFlag: 1}).compress(b"data " * 500, z.ZstdCompressor.FLUSH_FRAME)
    bad_sum = good[:-1] + bytes([good[-1] ^ 1])
    with pytest.raises(ChecksumError):
        Z.ZstdDecompressor().decompress(bad_sum)
    with pytest.raises(CorruptStreamError):
        Z.ZstdDecompressor().decompress(good[:4] + b"\xff" * 20)
    wide = Z.ZstdCompressor(3, window_log=24).compress_whole(bytes(range(256)) * 4096 * 20)
    with pytest.raises(LimitExceededError):
        Z.ZstdDecompressor(memory_limit=1 << 20).decompress(wide)


def test_threads_asking_first_get_one_module() -> None:
    out = run(
        "import threading\n"
        "from chute.codecs import zstd as Z\n"
        "got = []\n"
        "ts = [threading.Thread(target=lambda: got.append(Z.core())) for _ in range(8)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "print(len(got), len({id(m) for m in got}))\n"
    )
    assert out == "8 1"
