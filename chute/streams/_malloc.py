"""Keep glibc's heap from shrinking and regrowing on every chunk of a long stream.

A decode step returns a fresh ``bytes`` of up to a few MiB, which is freed once written.
With glibc's defaults the freed top of the heap is handed back to the kernel at once
(``brk`` down), and the next step faults the same pages in again: 50,000 page faults
and about a third of the CPU time of an lz4 decompression of 200 MB. Raising the trim
and mmap thresholds keeps those pages in the process. Peak memory is unchanged (the
pages are reused, not added to); freed memory is returned later, or at exit.

Threads make it worse: each worker allocates from its own arena, whose trimmed pages
are faulted in again under the process's memory-map lock, so two workers wait on each
other's page faults.

Fragmentation is the other side: a long decode of many members (1 MiB gzip members,
each output a fresh buffer of a different size) leaves free holes in the heap that glibc
cannot trim from its top, and the resident set grows by ~2 MiB per GB of output with
almost nothing in use. :func:`trim` (``malloc_trim``, which also releases free pages in
the middle of the heap) keeps it flat; the pump calls it every :data:`TRIM_EVERY` bytes.

The setting is process-wide. The ``chute`` command enables it for every long stream
(:data:`wanted` = True: the pump applies it once a stream proves longer than one chunk,
so small inputs do not pay for importing ctypes). In the library, only parallel work
(``threads`` > 1) applies it, unless the application set :data:`wanted` to False.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing stays off the command path (start-up)
    from typing import Any

__all__ = ["tune", "trim", "wanted", "TRIM_THRESHOLD", "MMAP_THRESHOLD", "TRIM_EVERY"]

#: Free memory at the top of the heap glibc keeps instead of trimming.
TRIM_THRESHOLD = 64 << 20
#: Allocations from this size up get their own mapping (and are unmapped when freed).
MMAP_THRESHOLD = 32 << 20
#: How much output a long stream produces between two calls of :func:`trim`.
TRIM_EVERY = 256 << 20
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: True: tune for any long stream (set by the command line, whose process is chute's own);
#: None (library default): tune only for parallel work; False: never.
wanted: bool | None = None
_applied: bool | None = None
_trim: Any = None  # glibc's malloc_trim once looked up; False where there is none


def tune() -> bool:
    """Apply the thresholds once (glibc only, and unless :data:`wanted` is False); return
    whether they are in effect."""
    global _applied
    if wanted is False:
        return bool(_applied)
    if _applied is None:
        _applied = _apply()
    return _applied


def _glibc(name: str) -> Any:
    """glibc's function ``name`` through ctypes, or None (not Linux, musl, no ctypes)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return getattr(ctypes.CDLL(None), name)
    except (ImportError, OSError, AttributeError):
        return None


def _apply() -> bool:
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok)


def trim() -> None:
    """Give the kernel back the free pages of the heap, wherever they lie (glibc only;
    nothing when :data:`wanted` is False). Costs well under a millisecond; the pages
    that the next chunks reuse are faulted in again."""
    global _trim
    if wanted is False:
        return
    if _trim is None:
        _trim = _glibc("malloc_trim") or False
    if _trim:
        _trim(0)
