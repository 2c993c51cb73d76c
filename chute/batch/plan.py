"""From the command line's SRC arguments to the list of jobs of a batch.

A SRC is a file, a folder (every file below it, recursively), a glob (``logs/*.gz``,
``**`` too), a URL or URL glob (through fsspec), or ``@LIST``: a file naming one SRC per
line. Each source gets a relative name: its path below the folder or the glob's fixed
start, or its base name when named directly. The output is ``DEST/relative name`` with the
format's suffix added (compress), removed (decompress) or swapped (recompress).
Jobs come largest first, so the longest ones start early and the end of the run is not
one big file on one worker.
"""

from __future__ import annotations

import glob as _glob
import os

from .. import codecs
from ..errors import ChuteError
from . import storage
from .work import Job, Member, ShardJob

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["Source", "expand", "plan", "output_name", "join"]

_MAGIC = ("*", "?", "[")


class Source:
    """One input: ``path`` (as given or found), ``name`` (its relative name), size, mtime."""

    __slots__ = ("mtime", "name", "path", "size")

    def __init__(self, path: str, name: str, size: int, mtime: int | str) -> None:
        self.path = path
        self.name = name
        self.size = size
        self.mtime = mtime

    def __repr__(self) -> str:
        return f"Source({self.path!r}, {self.name!r}, {self.size})"


def _fixed_start(pattern: str) -> str:
    """The folder part of ``pattern`` before its first wildcard."""
    cut = min((pattern.index(c) for c in _MAGIC if c in pattern), default=len(pattern))
    return pattern[:cut].rpartition("/")[0]


def _rel(path: str, base: str) -> str:
    return path[len(base) :].lstrip("/") if base and path.startswith(base) else path.lstrip("/")


def _expand_one(arg: str) -> list[Source]:
    if arg.startswith("@"):
        with open(arg[1:], encoding="utf-8") as f:
            return [s for line in f if line.strip() for s in _expand_one(line.rstrip("\r\n"))]
    if storage.is_url(arg):
        return _expand_url(arg)
    if any(c in arg for c in _MAGIC):
        base = _fixed_start(arg)
        found = sorted(p for p in _glob.glob(arg, recursive=True) if os.path.isfile(p))
        if not found:
            raise ChuteError(f"{arg}: no file matches")
        return [_local(p, _rel(p, base)) for p in found]
    if os.path.isdir(arg):
        out = []
        for folder, dirs, names in os.walk(arg):
            dirs.sort()
            for n in sorted(names):
                p = os.path.join(folder, n)
                if os.path.isfile(p):
                    out.append(_local(p, os.path.relpath(p, arg).replace(os.sep, "/")))
        return out
    if not os.path.isfile(arg):
        raise ChuteError(f"{arg}: no such file or directory" if not os.path.exists(arg) else f"{arg}: not a file")
    return [_local(arg, os.path.basename(arg))]


def _local(path: str, name: str) -> Source:
    st = os.stat(path)
    return Source(path, name, st.st_size, st.st_mtime_ns)


def _expand_url(url: str) -> list[Source]:
    fs, inner = storage.filesystem(url)
    protocol = url.split("://", 1)[0]

    def full(p: str) -> str:
        return p if "://" in p else f"{protocol}://{p.lstrip('/') if protocol != 'file' else p}"

    if any(c in inner for c in _MAGIC):
        base = _fixed_start(inner)
        paths = sorted(fs.glob(inner, detail=False))
    elif fs.isdir(inner):
        base = inner.rstrip("/")
        paths = sorted(fs.find(inner))
    else:
        base = inner.rpartition("/")[0]
        paths = [inner]
    out = []
    for p in paths:
        info = fs.info(p)
        if info.get("type") != "file":
            continue
        out.append(Source(full(p), _rel(p, base), int(info["size"]), str(fs.ukey(p))))
    if not out:
        raise ChuteError(f"{url}: no file matches")
    return out


def expand(args: Iterable[str]) -> list[Source]:
    """Every source named by ``args`` (see the module's text), each once."""
    seen: set[str] = set()
    out = []
    for arg in args:
        for s in _expand_one(arg):
            if s.path not in seen:
                seen.add(s.path)
                out.append(s)
    return out


def output_name(op: str, name: str, format: str | None, to: str | None) -> tuple[str | None, str | None]:
    """``(relative output name, problem)`` for the source called ``name``."""
    if op == "verify":
        return None, None
    if op == "compress":
        assert format is not None
        return name + codecs.get(format).suffixes[0], None
    known = codecs.from_suffix(name)
    stem = name
    if known is not None:
        suffix = max((s for s in known.suffixes if name.lower().endswith(s)), key=len)
        stem = name[: -len(suffix)]
        if suffix in (".tgz", ".tbz2", ".tbz", ".txz", ".tzst"):
            stem += ".tar"
    if op == "decompress":
        if known is None or not stem or stem.endswith("/"):
            return None, "unknown suffix: cannot name the decompressed output"
        return stem, None
    assert to is not None
    return stem + codecs.get(to).suffixes[0], None


def join(dest: str, name: str) -> str:
    """The output ``name`` under the prefix ``dest``."""
    return dest.rstrip("/") + "/" + name if dest else name


def plan(
    op: str,
    sources: Iterable[Source],
    dest: str | None,
    *,
    format: str | None = None,
    to: str | None = None,
    level: int | None = None,
    shard_size: int | None = None,
    skip: Callable[..., bool] | None = None,
    first_shard: int = 0,
) -> list[Job | ShardJob]:
    """The jobs for ``sources``, largest first; those ``skip(op, source, size, mtime,
    output)`` says are done are left out (for shards, ``skip(..., None, shard=True)``:
    done in any shard). ``shard_size``: pack the sources (compress only)
    into tar shards ``DEST/shard-NNNNN.tar.SUFFIX`` of about that many bytes, numbered
    from ``first_shard``; a source is skipped when its shard is done."""
    if op not in ("compress", "decompress", "recompress", "verify"):
        raise ValueError(f"unknown operation {op!r}")
    if op == "compress":
        format = codecs.get(format or "zstd").name
    if op == "recompress":
        if to is None:
            raise ValueError("recompress needs a target format (to=)")
        to = codecs.get(to).name
    if op != "verify" and dest is None:
        raise ValueError(f"{op} needs a destination")
    ordered = sorted(sources, key=lambda s: (-s.size, s.name))
    if shard_size is not None:
        if op != "compress":
            raise ValueError("shards are for compress only")
        assert format is not None and dest is not None
        return _shards(ordered, dest, format, level, shard_size, skip, first_shard)
    jobs: list[Job | ShardJob] = []
    taken: dict[str, str] = {}
    for s in ordered:
        rel, problem = output_name(op, s.name, format, to)
        output = None if rel is None or dest is None else join(dest, rel)
        if output is not None:
            other = taken.setdefault(output, s.path)
            if other != s.path:
                problem = f"same output as {other}: {output}"
                output = None
        if skip is not None and problem is None and skip(op, s.path, s.size, s.mtime, output):
            continue
        jobs.append(Job(op, s.path, output, s.size, s.mtime, format, to, level, problem))
    return jobs


def _shards(
    ordered: list[Source],
    dest: str,
    format: str,
    level: int | None,
    shard_size: int,
    skip: Callable[..., bool] | None,
    first: int,
) -> list[Job | ShardJob]:
    suffix = codecs.get(format).suffixes[0]
    todo = [s for s in ordered if skip is None or not skip("compress", s.path, s.size, s.mtime, None, shard=True)]
    # smallest first within the run of shards, so that each shard holds neighbours in size;
    # the shard jobs themselves are then ordered largest first like any job
    todo.sort(key=lambda s: (s.size, s.name))
    groups: list[list[Source]] = []
    total = 0
    for s in todo:
        if not groups or (total + s.size > shard_size and groups[-1]):
            groups.append([])
            total = 0
        groups[-1].append(s)
        total += s.size
    jobs = [
        ShardJob(
            join(dest, f"shard-{first + i:05d}.tar{suffix}"),
            tuple(Member(s.path, s.name, s.size, s.mtime) for s in group),
            format,
            level,
        )
        for i, group in enumerate(groups)
    ]
    jobs.sort(key=lambda j: -j.size)
    return list(jobs)
