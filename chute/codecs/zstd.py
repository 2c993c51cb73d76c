"""Zstandard (RFC 8878), through the standard library's ``compression.zstd`` (Python 3.14+)
or its backport ``backports.zstd`` on older interpreters: one API, one code path.

Frames carry a content checksum by default, like the zstd CLI. Decompression refuses
frames whose window exceeds ``memory_limit`` (default 128 MiB, the zstd CLI's default),
so a hostile frame cannot make us allocate gigabytes. Skippable frames are decoded as
empty members and so skipped.
"""

from __future__ import annotations

import _thread

from ..errors import CorruptStreamError, LimitExceededError
from ._base import Buffer, FlushMode, WrappedDecompressor, size_text

TYPE_CHECKING = False  # not typing's: importing typing costs a command's start-up
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

DEFAULT_MEMORY_LIMIT = 128 << 20
_FRAME_MAGIC = b"\x28\xb5\x2f\xfd"


def backend() -> ModuleType:
    """The ``compression.zstd`` module or its backport (for what only the package has, such
    as ``get_frame_info``; compressors and decompressors come from :func:`core`)."""
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef,unused-ignore]
    return zstd  # type: ignore[no-any-return]


_core: Any = None
_core_lock = _thread.allocate_lock()  # decoding workers may be the first to ask


def core() -> Any:
    """The binding's C module: ``ZstdCompressor``, ``ZstdDecompressor``, ``ZstdError`` and
    the ``ZSTD_*`` parameter numbers; the same objects the package exports.

    The packages (``compression.zstd``, ``backports.zstd``) wrap the parameters in enums,
    and importing ``enum`` and what it pulls in costs 8-10 ms of every command's start-up
    (a third of chute's own); the C module alone loads in about 1 ms. ``backports.zstd``'s
    is loaded from its file without running the package's ``__init__``, and registered
    under its name, so a later import of the package uses this very module. Any layout
    this does not recognise falls back to the package's own import.
    """
    global _core
    if _core is None:
        with _core_lock:
            if _core is None:
                try:
                    import _zstd  # type: ignore[import-not-found,unused-ignore]  # Python 3.14+

                    _core = _zstd
                except ImportError:
                    _core = _backport_core()
    return _core


def _backport_core() -> Any:
    import sys

    name = "backports.zstd._zstd"
    module = sys.modules.get(name)
    if module is None:
        try:
            module = _load_extension(name)
        except Exception:  # an unknown layout: the package's own import decides
            module = None
    if module is None:
        import backports.zstd._zstd as module  # type: ignore[import-not-found,no-redef,unused-ignore]
    return module


def _load_extension(name: str) -> Any:
    """Load ``backports/zstd/_zstd`` from the folder the import system would pick (the
    first holding ``backports/zstd/__init__.py``), through the same path hooks; None if
    what it finds there is not an extension module (PyPy's is Python over cffi)."""
    import os
    import sys

    import backports  # type: ignore[import-not-found,unused-ignore]  # namespace package: runs nothing

    for folder in backports.__path__:
        package = os.path.join(folder, "zstd")
        if not os.path.isfile(os.path.join(package, "__init__.py")):
            continue
        spec = None
        for hook in sys.path_hooks:  # importlib.machinery would cost ~1 ms more
            try:
                spec = hook(package).find_spec(name)
            except ImportError:
                continue
            break
        loader = getattr(spec, "loader", None)
        if type(loader).__name__ != "ExtensionFileLoader":
            return None
        module = loader.create_module(spec)  # type: ignore[union-attr]
        loader.exec_module(module)  # type: ignore[union-attr]
        if not hasattr(module, "ZstdDecompressor"):
            return None
        sys.modules[name] = module
        return module
    return None


#: libzstd's ZSTD_c_rsyncable (ZSTD_c_experimentalParam1), which the binding does not name.
ZSTD_C_RSYNCABLE = 500


def window_log_for(memory_limit: int) -> int:
    """The largest window log whose window fits in ``memory_limit`` bytes (at least 10)."""
    if memory_limit <= 0:
        raise ValueError("memory_limit must be positive")
    return max(10, min(31, memory_limit.bit_length() - 1))


class ZstdCompressor:
    def __init__(
        self,
        level: int = 3,
        *,
        threads: int = 0,
        checksum: bool = True,
        window_log: int | None = None,
        long_distance: bool = False,
        job_size: int | None = None,
        zstd_dict: Any = None,
        options: dict[int, int] | None = None,
        content_size: bool = True,
        rsyncable: bool = False,
    ) -> None:
        """``zstd_dict``: a dictionary (see :func:`chute.codecs.zstd_dict.as_zstd_dict`);
        ``options``: ``compression.zstd.CompressionParameter`` -> value, applied over the
        ones the other arguments set."""
        parameters = options
        z = core()
        options = {z.ZSTD_c_compressionLevel: level, z.ZSTD_c_checksumFlag: int(checksum)}
        if not content_size:
            options[z.ZSTD_c_contentSizeFlag] = 0
        if rsyncable:  # zstd --rsyncable: jobs end where the content says; needs workers
            if not threads:
                raise ValueError("rsyncable needs threads >= 1 (libzstd's workers cut the jobs)")
            options[ZSTD_C_RSYNCABLE] = 1
        if threads:
            options[z.ZSTD_c_nbWorkers] = threads
            if threads == 1 and job_size is None:
                # One worker overlapping the caller's I/O (zstd -T1). zstd's default job
                # (4x the window, 8 MiB at level 3) costs ~20 MiB more peak RSS for a
                # ratio difference under 0.5%; 4 MiB jobs keep a one-thread run < 64 MiB.
                job_size = 4 << 20
            if job_size is not None:
                options[z.ZSTD_c_jobSize] = job_size
        if window_log is not None:
            options[z.ZSTD_c_windowLog] = window_log
        if long_distance:
            options[z.ZSTD_c_enableLongDistanceMatching] = 1
        options.update(_user_options(parameters))
        if zstd_dict is not None:
            from .zstd_dict import as_zstd_dict

            self._obj = z.ZstdCompressor(options=options, zstd_dict=as_zstd_dict(zstd_dict))
        else:
            self._obj = z.ZstdCompressor(options=options)
        self._cls = z.ZstdCompressor

    def compress(self, data: Buffer) -> bytes:
        return self._obj.compress(data)  # type: ignore[no-any-return]

    def flush(self, mode: FlushMode = FlushMode.SYNC) -> bytes:
        # FULL ends the frame: the next frame starts with no history, a decoder may start there.
        how = self._cls.FLUSH_FRAME if mode is FlushMode.FULL else self._cls.FLUSH_BLOCK
        return self._obj.flush(how)  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        return self._obj.flush(self._cls.FLUSH_FRAME)  # type: ignore[no-any-return]

    def compress_whole(self, data: Buffer) -> bytes:
        """Compress ``data`` as the whole stream in one call (then finished). zstd then
        knows the size: it records it in the frame header and sizes its tables to the
        input, which at levels 20-22 saves hundreds of MiB on small inputs."""
        return self._obj.compress(data, self._cls.FLUSH_FRAME)  # type: ignore[no-any-return]


def _user_options(options: dict[int, int] | None) -> dict[int, int]:
    """``options`` as plain ints (``compression.zstd``'s parameter enums are ints)."""
    return {int(k): int(v) for k, v in options.items()} if options else {}


class ZstdDecompressor(WrappedDecompressor):
    """One zstd frame. With ``zstd_dict``, decoded with that dictionary; either way, the
    frame's Dictionary_ID is read before decoding, and a frame that names a dictionary not
    given (or another one than given) raises :class:`~chute.errors.DictionaryError`
    ("needs dictionary 0x1a2b3c4d"). ``options``: ``DecompressionParameter`` -> value."""

    # two zstd blocks per call: smaller steps cost measurable CPU at zstd's speed
    STEP = 256 << 10

    def __init__(
        self,
        *,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        zstd_dict: Any = None,
        options: dict[int, int] | None = None,
    ) -> None:
        z = core()
        parameters = {z.ZSTD_d_windowLogMax: window_log_for(memory_limit), **_user_options(options)}
        self._dict_id: int | None = None
        self._head = b""  # the frame's first bytes until its Dictionary_ID is known
        if zstd_dict is not None:
            from .zstd_dict import as_zstd_dict, dictionary_id

            zd = as_zstd_dict(zstd_dict)
            self._dict_id = dictionary_id(zd)
            self._obj = z.ZstdDecompressor(zstd_dict=zd, options=parameters)
        else:
            self._obj = z.ZstdDecompressor(options=parameters)
        self._checked = False
        self._errors = (z.ZstdError,)
        self._limit = memory_limit

    def _check_dictionary(self, data: Buffer) -> None:
        """Read the frame header as it arrives; raise if it names another dictionary."""
        from .zstd_dict import frame_dictionary_id

        self._head += bytes(memoryview(data)[:18])  # a frame header is at most 18 bytes
        needed = frame_dictionary_id(self._head)
        if needed is None and len(self._head) < 18 and _FRAME_MAGIC.startswith(self._head[:4]):
            return  # the header is not complete yet
        self._checked = True
        self._head = b""
        if needed and needed != self._dict_id:
            from ..errors import DictionaryError

            if self._dict_id is None:
                given = "no dictionary was given"
            else:
                given = f"not 0x{self._dict_id:08x}" if self._dict_id else "not the raw-content one given"
            raise DictionaryError(f"needs dictionary 0x{needed:08x} ({given})")

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        if not self._checked and len(data):
            self._check_dictionary(data)
        return super().decompress(data, max_length)

    def _translate(self, exc: BaseException) -> Exception:
        msg = str(exc)
        if "dictionary" in msg.lower():
            from ..errors import DictionaryError

            return DictionaryError(f"zstd frame needs another dictionary ({msg})")
        if "memory" in msg.lower() or "window" in msg.lower():
            return LimitExceededError(
                f"zstd frame needs a window larger than the memory limit ({size_text(self._limit)}): {msg}",
                "memory_limit",
            )
        if "checksum" in msg.lower():
            from ..errors import ChecksumError

            return ChecksumError(f"zstd content checksum mismatch ({msg})")
        if self._dict_id == 0:
            msg += "; the raw-content dictionary given may not be the one it was made with"
        return CorruptStreamError(f"invalid zstd data ({msg})")


def new_compressor(level: int = 3, **options: Any) -> ZstdCompressor:
    return ZstdCompressor(level, **options)


def new_decompressor(**options: Any) -> ZstdDecompressor:
    return ZstdDecompressor(**options)
