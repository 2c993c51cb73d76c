"""``chute batch OP SRC... --dest PREFIX``: many files, on local processes or Dask.

OP is ``compress``, ``decompress``, ``recompress`` (``--to FORMAT``) or ``verify``. The
work is :mod:`chute.batch`'s: sources expanded (files, folders, globs, URLs, ``@LIST``),
largest first, one atomic output each (or tar shards with ``--shard-size``), verified as
written; ``--manifest`` records each file as it finishes and lets a killed run continue.
Each file that fails prints ``chute: NAME: reason`` and the run goes on; the exit status
is 1 when any failed. A summary line ends the run.
"""

from __future__ import annotations

import sys

from ._args import Spec
from ._common import CliError, _nonneg_int, add_progress_args, parse_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from concurrent.futures import Executor
    from typing import Any

    from ..batch.manifest import Manifest
    from ._args import Namespace

OPERATIONS = ("compress", "decompress", "recompress", "verify")


def _positive_int(text: str) -> int:
    value = _nonneg_int(text)
    if value == 0:
        from ._args import ArgumentTypeError

        raise ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


def build_parser(prog: str) -> Spec:
    p = Spec(prog, "Compress, decompress, recompress or verify many files, resumably, on processes or Dask.")
    p.add_argument("op", choices=OPERATIONS, metavar="OP", help="compress, decompress, recompress or verify")
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SRC",
        help="files, folders (recursive), globs, URLs, or @LIST (a file of SRCs, one a line)",
    )
    p.add_argument("--dest", metavar="PREFIX", help="folder (or URL) the outputs go under; not for verify")
    p.add_argument(
        "-F",
        "--format",
        metavar="NAME",
        help="compress: the format to write (default zstd); otherwise: the sources' format (default: detected)",
    )
    p.add_argument("--to", metavar="NAME", help="recompress: the format to write")
    p.add_argument("--level", type=int, metavar="N", help="compression level (-1 .. -19 too)")
    p.add_argument(
        "--manifest", metavar="FILE", help="JSON-lines record of each file; a rerun skips what it says is done"
    )
    p.add_argument(
        "--executor",
        default="local",
        metavar="WHERE",
        help="local (processes, the default) or dask://HOST:PORT (a Dask scheduler)",
    )
    p.add_argument("--scheduler-file", metavar="FILE", help="a Dask scheduler file (as dask-scheduler writes)")
    p.add_argument("--workers", type=_positive_int, metavar="N", help="local processes (default: every usable core)")
    p.add_argument("--retries", type=_nonneg_int, default=2, metavar="N", help="tries after a failure (default 2)")
    p.add_argument(
        "--shard-size",
        type=parse_size,
        metavar="SIZE",
        help="compress: pack the files into tar shards of about SIZE (DEST/shard-00000.tar.zst ...)",
    )
    add_progress_args(p)
    return p


def _check(args: Namespace) -> tuple[str | None, str | None]:
    from .. import codecs

    def known(option: str, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            return codecs.get(name).name
        except ValueError:
            raise CliError(option, f"unknown format {name!r} (choose from {', '.join(codecs.names())})") from None

    fmt, to = known("-F", args.format), known("--to", args.to)
    if args.op == "verify":
        if args.dest is not None:
            raise CliError("--dest", "verify writes nothing")
    elif args.dest is None:
        raise CliError("--dest", f"{args.op} needs --dest PREFIX")
    if args.op == "recompress" and to is None:
        raise CliError("--to", "recompress needs --to FORMAT")
    if args.op != "recompress" and to is not None:
        raise CliError("--to", "only recompress takes --to")
    if args.shard_size is not None and args.op != "compress":
        raise CliError("--shard-size", "shards are for compress only")
    if args.level is not None:
        codec = codecs.get(fmt or "zstd") if args.op == "compress" else codecs.get(to) if to else None
        if codec is None:
            raise CliError("--level", f"{args.op} writes no compressed output")
        try:
            codec.check_level(args.level)
        except ValueError as exc:
            raise CliError("--level", str(exc)) from None
    if args.scheduler_file is not None and args.executor != "local":
        raise CliError("--scheduler-file", "give either --executor dask://... or --scheduler-file")
    if args.executor != "local" and not args.executor.startswith("dask://"):
        raise CliError("--executor", f"{args.executor!r}: use local or dask://HOST:PORT")
    return fmt, to


def _dask_executor(args: Namespace) -> tuple[Executor, Any]:
    try:
        import distributed
    except ImportError:
        raise CliError("--executor", "Dask is not installed (pip install 'chute[dask]')") from None
    client_class: Any = distributed.Client
    try:
        if args.scheduler_file is None:
            _reachable(args.executor.removeprefix("dask://"))
        if args.scheduler_file is not None:
            client = client_class(scheduler_file=args.scheduler_file, timeout=30)
        else:
            client = client_class("tcp://" + args.executor.removeprefix("dask://"), timeout=30)
    except (OSError, TimeoutError) as exc:
        where = args.scheduler_file or args.executor
        raise CliError(where, f"cannot reach the Dask scheduler: {exc}") from None
    executor: Executor = client.get_executor(pure=False)
    return executor, client


def _reachable(address: str) -> None:
    """Fail at once when nothing listens at ``HOST:PORT`` (the client would retry for its
    whole timeout)."""
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise CliError("--executor", f"dask://{address}: use dask://HOST:PORT")
    socket.create_connection((host.strip("[]"), int(port)), timeout=30).close()


def _remove_unrecorded_shards(dest: str, manifest: Manifest) -> int:
    """Shards a killed run wrote but did not record: their files are done again in new
    shards, so these would hold duplicates. Local destinations only."""
    import os

    from ..batch import storage

    if storage.is_url(dest) or not os.path.isdir(dest):
        return 0
    keep = {os.path.abspath(p) for p in manifest.shards()}
    removed = 0
    for name in os.listdir(dest):
        path = os.path.join(dest, name)
        if name.startswith("shard-") and ".tar" in name and os.path.abspath(path) not in keep:
            os.unlink(path)
            removed += 1
    return removed


def _not_outputs(args: Namespace, sources: list[Any], fmt: str | None, to: str | None) -> list[Any]:
    """``sources`` without the manifest, the shards under ``--dest``, and any source that
    is the output of another source: a rerun of ``chute batch compress . --dest out`` must
    not take its own outputs as new sources, whether they lie in a folder of their own or
    beside their sources (``--dest .``)."""
    import os

    from ..batch.plan import join, output_name

    def key(path: str) -> str:
        return path if "://" in path else os.path.abspath(path)

    made: dict[str, str] = {}
    if args.dest is not None and args.shard_size is None:
        for src in sources:
            rel, _ = output_name(args.op, src.name, fmt or "zstd", to)
            if rel is not None:
                made[key(join(args.dest, rel))] = key(src.path)
    manifest = key(args.manifest) if args.manifest else None
    shards = key(args.dest) if args.dest is not None and args.shard_size is not None else None
    out = []
    for src in sources:
        path = key(src.path)
        if path == manifest or made.get(path, path) != path:
            continue
        if shards is not None and os.path.dirname(path) == shards and os.path.basename(path).startswith("shard-"):
            continue
        out.append(src)
    return out


def _next_shard(manifest: Manifest | None) -> int:
    import os

    if manifest is None:
        return 0
    numbers = [-1]
    for path in manifest.shards():
        stem = os.path.basename(path).removeprefix("shard-").partition(".")[0]
        if stem.isdigit():
            numbers.append(int(stem))
    return max(numbers) + 1


def run(args: Namespace) -> int:
    from .. import batch
    from ..errors import ChuteError

    fmt, to = _check(args)
    try:
        sources = batch.expand(args.sources)
    except (ChuteError, OSError) as exc:
        if isinstance(exc, OSError) and exc.filename:
            raise CliError(str(exc.filename), exc.strerror or str(exc)) from None
        raise CliError("", str(exc)) from None
    sources = _not_outputs(args, sources, fmt, to)
    manifest = batch.Manifest(args.manifest) if args.manifest else None
    executor: Executor | None = None
    client = None
    try:
        if args.shard_size is not None and manifest is not None:
            _remove_unrecorded_shards(args.dest, manifest)
        jobs = batch.plan(
            args.op,
            sources,
            args.dest,
            format=fmt,
            to=to,
            level=args.level,
            shard_size=args.shard_size,
            skip=manifest.is_done if manifest is not None else None,
            first_shard=_next_shard(manifest),
        )
        skipped = len(sources) - sum(len(j.members) if isinstance(j, batch.ShardJob) else 1 for j in jobs)
        if args.executor != "local" or args.scheduler_file is not None:
            executor, client = _dask_executor(args)
        progress = _progress(args, jobs)
        try:
            summary = batch.run(
                jobs,
                executor=executor,
                workers=args.workers,
                manifest=manifest,
                retries=args.retries,
                on_entry=progress,
            )
        finally:
            if progress is not None:
                progress.close()
        summary.skipped += skipped
        batch.remove_stale_temp_files(o for j in jobs for o in j.outputs)
    finally:
        if manifest is not None:
            manifest.close()
        if client is not None:
            client.close()
    for error in summary.errors:
        sys.stderr.write(f"chute: {error}\n")
    sys.stderr.write(f"chute batch: {summary.line(args.op)}\n")
    return 1 if summary.failed else 0


class _Progress:
    """The progress line: bytes of the sources done, files done of all."""

    def __init__(self, total_bytes: int, total_files: int) -> None:
        from .progress import ProgressLine

        self.line = ProgressLine("batch", total_bytes or None)
        self.total_files = total_files
        self.count = 0

    def __call__(self, entry: dict[str, Any], summary: Any) -> None:
        self.count += 1
        self.line.files = (self.count, self.total_files, 0, None)
        self.line.update(summary.bytes_in, summary.bytes_out, ended=self.count == self.total_files)

    def close(self) -> None:
        self.line.close()


def _progress(args: Namespace, jobs: list[Any]) -> _Progress | None:
    from ..batch import ShardJob
    from ._tarargs import show_progress

    if not show_progress(args):
        return None
    files = sum(len(j.members) if isinstance(j, ShardJob) else 1 for j in jobs)
    return _Progress(sum(j.size for j in jobs), files)
