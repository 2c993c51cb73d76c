"""``chute precompress DIR...``: write .zst/.br/.gz siblings of web assets, only where smaller.

The siblings are served by :mod:`chute.web.static` (like nginx's gzip_static). A sibling gets
its original's mode and times, so "up to date" means: sibling mtime >= original mtime. Files of
already-compressed types (images, video, audio, archives, fonts), existing siblings and files
below ``--min-size`` are skipped. Each sibling is written atomically (temp file + rename); one
that would not be smaller than its original is not written, and a stale one is removed. A
sibling that is a device, FIFO or socket is left alone, with a warning.
"""

from __future__ import annotations

import os
import sys

from ._args import ArgumentTypeError, Spec
from ._common import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._args import Namespace

SUFFIXES = {"zstd": ".zst", "br": ".br", "gzip": ".gz"}
CODECS = {"zstd": "zstd", "br": "brotli", "gzip": "gzip"}
#: Best levels by default: the work is done once, the bytes are served many times.
LEVELS = {"zstd": 19, "br": 11, "gzip": 9}
#: Suffixes never compressed again (the siblings themselves and other compressed files).
SKIP_SUFFIXES = (".zst", ".br", ".gz", ".xz", ".bz2", ".lz4", ".zip", ".7z", ".rar", ".tgz", ".woff", ".woff2")
CHUNK = 1 << 20


class _NotSmaller(Exception):
    pass


def _formats(text: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    for n in names:
        if n not in SUFFIXES:
            raise ArgumentTypeError(f"unknown format {n!r} (use zstd, br, gzip)")
    return names


def build_parser(prog: str) -> Spec:
    p = Spec(prog, "Write .zst/.br/.gz siblings of the files under DIRs, only where they are smaller.")
    p.add_argument("dirs", nargs="+", metavar="DIR", help="folders (walked recursively) or single files")
    p.add_argument("--formats", type=_formats, default=["zstd", "br", "gzip"], help="default: zstd,br,gzip")
    p.add_argument("--min-size", type=int, default=256, metavar="BYTES", help="skip smaller files (default 256)")
    p.add_argument("-f", "--force", action="store_true", help="rewrite siblings even when up to date")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    p.add_argument("-v", "--verbose", action="store_true", help="print every file written or skipped")
    return p


def _walk(paths: list[str]) -> list[str]:
    files: list[str] = []
    for top in paths:
        if os.path.isfile(top):
            files.append(top)
            continue
        if not os.path.isdir(top):
            raise CliError(top, "no such file or directory")
        for folder, dirs, names in os.walk(top):
            dirs.sort()
            files.extend(os.path.join(folder, n) for n in sorted(names))
    return files


def wanted(path: str, min_size: int) -> bool:
    """True for a regular file worth compressing (not a sibling, not an already-compressed type)."""
    import mimetypes

    from ..web._policy import DEFAULT_SKIP_TYPES, compressible

    name = os.path.basename(path)
    if name.startswith(".") or name.lower().endswith(SKIP_SUFFIXES) or os.path.islink(path):
        return False
    ctype, encoding = mimetypes.guess_type(path)
    if encoding is not None or not compressible(ctype, DEFAULT_SKIP_TYPES):
        return False
    return os.path.isfile(path) and os.path.getsize(path) >= min_size


def write_sibling(path: str, fmt: str, level: int | None = None) -> int | None:
    """Write ``path + suffix`` atomically; return its size, or None when it would not be
    smaller or the sibling is a device, FIFO or socket (left alone: nothing to serve)."""
    from .. import codecs
    from ..streams.atomic import AtomicFile, copy_metadata, writes_in_place

    target = path + SUFFIXES[fmt]
    if writes_in_place(target):
        return None
    size = os.path.getsize(path)
    codec = codecs.get(CODECS[fmt])
    lvl = LEVELS[fmt] if level is None else level
    comp = codec.new_compressor(lvl, window_log=23) if fmt == "zstd" else codec.new_compressor(lvl)
    atomic = AtomicFile(target, overwrite=True)
    written = 0
    try:
        with atomic as out, open(path, "rb") as src:
            while chunk := src.read(CHUNK):
                data = comp.compress(chunk)
                written += len(data)
                if written >= size:
                    raise _NotSmaller
                out.write(data)
            data = comp.finish()
            written += len(data)
            if written >= size:
                raise _NotSmaller
            out.write(data)
            out.flush()
            if not atomic.in_place:  # a FIFO made there since the check above keeps its own
                assert atomic.tmp is not None
                copy_metadata(path, atomic.tmp)
    except _NotSmaller:
        if not atomic.in_place and os.path.lexists(target):
            os.unlink(target)
        return None
    return written


def run(args: Namespace) -> int:
    from ..streams.atomic import writes_in_place

    written = skipped = 0
    for path in _walk(args.dirs):
        if not wanted(path, args.min_size):
            continue
        mtime = os.stat(path).st_mtime_ns
        for fmt in args.formats:
            target = path + SUFFIXES[fmt]
            try:
                fresh = os.stat(target).st_mtime_ns >= mtime
            except OSError:
                fresh = False
            if fresh and not args.force:
                skipped += 1
                continue
            if writes_in_place(target):
                skipped += 1
                if not args.quiet:
                    print(f"chute: {target}: not a regular file -- left alone", file=sys.stderr)
                continue
            size = write_sibling(path, fmt)
            if size is None:
                skipped += 1
                if args.verbose:
                    print(f"{target}: not smaller, skipped", file=sys.stderr)
            else:
                written += 1
                if args.verbose:
                    print(f"{target}: {size} bytes", file=sys.stderr)
    if not args.quiet:
        print(f"chute precompress: {written} written, {skipped} up to date or not smaller", file=sys.stderr)
    return 0
