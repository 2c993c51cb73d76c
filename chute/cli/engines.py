"""``chute --version``: chute's version and the engine libraries it runs on, each as its
binding reports it (libzstd, ISA-L, libdeflate, lz4, brotli, liblzma, libbz2), and which
library writes lz4.

Only ``--version`` loads this module, and it imports the bindings only when the text is
printed (:class:`VersionText` is formatted lazily by the parser's version action).
"""

from __future__ import annotations

from .._version import __version__

__all__ = ["VersionText", "engine_versions"]


def _mapped(fragment: str) -> str | None:
    """The path of a shared library this process has mapped whose name holds ``fragment``."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rsplit(None, 1)[-1]
                if fragment in path.rsplit("/", 1)[-1] and path.startswith("/"):
                    return path
    except OSError:
        pass
    return None


def _c_string(fragment: str, function: str) -> str | None:
    """``function()`` (returning ``const char *``) of the mapped library named by ``fragment``."""
    path = _mapped(fragment)
    if path is None:
        return None
    try:
        import ctypes

        fn = getattr(ctypes.CDLL(path), function)
        fn.restype = ctypes.c_char_p
        value = fn()
        return value.decode() if value else None
    except (OSError, AttributeError):
        return None


def _zstd() -> str:
    from ..codecs.zstd import core

    return f"libzstd {core().zstd_version}"


def _isal() -> str:
    import isal

    return f"ISA-L {isal.ISAL_VERSION} (python-isal {isal.__version__})"


def _deflate() -> str:
    import deflate

    return f"libdeflate (bundled by deflate {deflate.__version__}, which reports no libdeflate version)"


def _lz4() -> str:
    import lz4

    from ..codecs import _liblz4
    from ..errors import ChuteError

    try:
        system = _liblz4.version()
    except ChuteError:  # a $CHUTE_LZ4_ENGINE that compressing would refuse
        system = None
    writer = f"the system liblz4 {system}" if system else "python-lz4"
    return f"lz4 {lz4.library_version_string()} (python-lz4 {lz4.__version__}; lz4 written through {writer})"


def _brotli() -> str:
    import brotli

    return f"brotli {brotli.version}"


def _lzma() -> str:
    import _lzma  # noqa: F401 - maps liblzma into the process

    return f"liblzma {_c_string('liblzma', 'lzma_version_string') or '(version unknown)'}"


def _bz2() -> str:
    import _bz2  # noqa: F401 - maps libbz2 into the process

    version = _c_string("libbz2", "BZ2_bzlibVersion")
    return f"libbz2 {version.split(',')[0] if version else '(version unknown)'}"


def engine_versions() -> list[str]:
    """One line per engine: its library and version, or that it is not installed."""
    lines = []
    for name, probe in (
        ("libzstd", _zstd),
        ("ISA-L", _isal),
        ("libdeflate", _deflate),
        ("lz4", _lz4),
        ("brotli", _brotli),
        ("liblzma", _lzma),
        ("libbz2", _bz2),
    ):
        try:
            lines.append(probe())
        except ImportError:
            lines.append(f"{name}: not installed")
    return lines


class VersionText:
    """The ``--version`` text, built when it is printed."""

    def __str__(self) -> str:
        return "\n".join([f"chute {__version__}", *("  " + line for line in engine_versions())])
