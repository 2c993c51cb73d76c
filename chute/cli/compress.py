"""The main command: compress, decompress (-d), test (-t) and list (-l) files and pipes.

It mirrors gzip and zstd: ``chute FILE`` writes ``FILE.zst`` and keeps ``FILE``;
``chute -d FILE.zst`` restores ``FILE``; no FILE or ``-`` filters standard input to
standard output. Output files appear whole or not at all, keep the source's mode and
times, and the source is removed (``--rm``) only after success.
"""

from __future__ import annotations

import os
import stat
import sys

from ..errors import IndexFileWarning, TrailingDataError, UnverifiedDataWarning
from ._args import Spec
from ._common import (
    CliError,
    CliWarning,
    add_format_args,
    add_progress_args,
    add_storage_args,
    display_name,
    error_text,
    is_url,
    open_output,
    parse_size,
    refuse_terminal,
    resolve_level,
    resolve_threads,
    split_level_flags,
    stdin_binary,
    storage_options,
)
from .engines import VersionText
from .formatopts import add_format_option_args

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any, BinaryIO

    from ._args import Namespace

DESCRIPTION = """\
Streaming compression in constant memory. Compress each FILE to FILE.zst (or the
format chosen with -F), keeping FILE; with -d, decompress (the format is detected from
the bytes). With no FILE, or FILE '-', read standard input and write standard output.

subcommands (chute SUBCOMMAND --help for details):
  cat FILE...              decompress to standard output (like zstdcat / zcat)
  pack PATH... -o ARCHIVE  create a compressed tar archive on the fly
  unpack ARCHIVE -C DIR    extract an archive safely (ARCHIVE may be '-')
  ls ARCHIVE               list the members of an archive
  precompress DIR          write .zst/.br/.gz siblings of static web files
  train SAMPLES -o D.dict  train a zstd dictionary (use it with -D D.dict)
  completion SHELL         print a bash, zsh or fish completion script
  manpage                  print the manual page (chute manpage | man -l -)
"""

#: Without -T, regular files at least this big are compressed on every core.
AUTO_THREADS_MIN = 16 << 20

#: Suffixes that stand for ``.tar.<format>``: decompressing ``x.tgz`` gives ``x.tar``.
TAR_SHORT_SUFFIXES = frozenset({".tgz", ".tzst", ".tbz2", ".tbz", ".txz"})

EPILOG = """\
exit status: 0 ok, 1 error, 2 warning (something was skipped).
environment: CHUTE_THREADS (default for -T), CHUTE_LEVEL (default level), NO_COLOR.
"""


def build_parser() -> Spec:
    p = Spec("chute", DESCRIPTION, EPILOG, raw_description=True)
    p.add_argument("files", nargs="*", metavar="FILE", help="files to process ('-' is standard input)")
    op = p.add_argument_group("operation").add_mutually_exclusive_group()
    op.add_argument("-z", "--compress", dest="op", action="store_const", const="compress", help="compress (default)")
    op.add_argument(
        "-d", "--decompress", "--uncompress", dest="op", action="store_const", const="decompress", help="decompress"
    )
    op.add_argument("-t", "--test", dest="op", action="store_const", const="test", help="test integrity")
    op.add_argument(
        "-l", "--list", dest="op", action="store_const", const="list", help="list compressed size, size and ratio"
    )
    out = p.add_argument_group("output")
    out.add_argument("-c", "--stdout", action="store_true", help="write to standard output")
    out.add_argument("-o", "--output", metavar="OUT", help="output path ('-' is standard output)")
    out.add_argument("-k", "--keep", action="store_true", help="keep the source files (default)")
    out.add_argument("--rm", action="store_true", help="remove each source after it succeeded")
    out.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="overwrite outputs; write compressed data to a terminal; pass through unknown data with -dc",
    )
    out.add_argument("-S", "--suffix", metavar="SUF", help="suffix for compressed files (default: the format's)")
    add_format_args(p)
    add_format_option_args(p)
    adv = p.add_argument_group("streaming and limits")
    adv.add_argument(
        "-M",
        "--memory",
        type=parse_size,
        metavar="SIZE",
        help="largest zstd/xz window accepted when decompressing (default 128M)",
    )
    adv.add_argument(
        "--trailing",
        choices=("error", "ignore"),
        metavar="POLICY",
        help="data after the end of a compressed stream: 'error' (exit 1) or 'ignore' (a warning, "
        "exit 2); default: what the format's own tool does (gzip, bz2: ignore; others: error)",
    )
    adv.add_argument(
        "-D",
        "--dict",
        dest="dictionary",
        metavar="DICT",
        help="zstd dictionary to compress or decompress with (chute train, zstd --train, or any file as raw content)",
    )
    adv.add_argument(
        "--flush-interval",
        type=float,
        metavar="MS",
        help="flush at most MS milliseconds after data arrives (real-time pipes)",
    )
    adv.add_argument(
        "--seekable", action="store_true", help="write a seekable file (zstd seek table, gzip BGZF-style blocks)"
    )
    adv.add_argument(
        "--chunk-size",
        type=parse_size,
        default=None,
        metavar="SIZE",
        help="read size (default 128K; 4M, one block, to compress lz4)",
    )
    add_storage_args(adv)
    ui = p.add_argument_group("messages")
    ui.add_argument("-q", "--quiet", action="store_true", help="no warnings, no progress")
    ui.add_argument("-v", "--verbose", action="store_true", help="a summary line per file on stderr")
    add_progress_args(ui)
    p.add_argument(
        "-V",
        "--version",
        action="version",
        version=VersionText(),
        help="print the version and the engine libraries' versions, and exit",
    )
    return p


def run_main(argv: list[str], *, offers_long: bool = False) -> int:
    """Run the main command on ``argv``. ``offers_long``: the user typed this command
    (not ``chute cat``, which has no ``--long``), so a zstd window error may advise it."""
    from .formatopts import attach_values

    args = build_parser().parse_args(attach_values(split_level_flags(argv)))
    runner = Runner(args)
    runner.offers_long = offers_long
    return runner.run()


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Runner:
    def __init__(self, args: Namespace) -> None:
        self.args = args
        self.op: str = args.op or "compress"
        self.files: list[str] = args.files or ["-"]

        self.status = 0
        self.options = storage_options(args)
        if any(is_url(f) for f in self.files):
            self.files = self._expand_urls(self.files)
        self.threads = resolve_threads(args)
        if args.keep and args.rm:
            raise CliError("--rm", "--keep and --rm exclude each other")
        if args.output is not None and len(self.files) > 1 and args.output != "-":
            raise CliError("-o", "only one input file can go to one output path")
        if args.output is not None and self.op in ("test", "list"):
            raise CliError("-o", f"-o makes no sense with --{self.op}")
        if args.stdout and args.output not in (None, "-"):
            raise CliError("-o", "-c writes to standard output; it cannot go with -o FILE")
        self.to_stdout = args.stdout or args.output == "-"
        if self.op == "compress":
            from ..api.fileobj import resolve_format

            try:
                self.codec = resolve_format(args.format, None)
            except ValueError as exc:
                raise CliError("-F", str(exc)) from None
            from .. import codecs
            from .formatopts import compress_options, fast_level

            if self.codec.name not in codecs.names():
                raise CliError("-F", f"chute decodes {self.codec.name} but does not write it (use xz)")
            fast = fast_level(args, self.codec)
            self.level = fast if fast is not None else resolve_level(args, self.codec)
            self.format_options = compress_options(args, self.codec, self.level)
            self.suffix = args.suffix or self.codec.suffixes[0]
        if args.recursive:
            from .formatopts import expand_recursive

            self.files = expand_recursive(self.files, self.suffix if self.op == "compress" else None)
        elif args.format is not None:
            from .. import codecs

            try:
                self.codec = codecs.get(args.format)
            except ValueError as exc:
                raise CliError("-F", str(exc)) from None
        self.zstd_dict = self._load_dictionary(args)
        if args.flush_interval is not None and args.flush_interval <= 0:
            raise CliError("--flush-interval", "must be a positive number of milliseconds")
        self.show_progress = (
            args.progress if args.progress is not None else (not args.quiet and _is_tty(sys.stderr))
        ) and not args.quiet
        self.list_rows: list[tuple[int, int, str, str]] = []
        self.list_notes: list[str] = []
        self.list_frames: list[tuple[str, list[tuple[int, int, int]]]] = []

    def _expand_urls(self, files: list[str]) -> list[str]:
        """Each URL glob (``s3://b/logs/*.gz``) replaced by the objects it matches, sorted;
        one that matches nothing is an error naming it."""
        from ..streams.remote import expand

        out: list[str] = []
        for name in files:
            if not is_url(name):
                out.append(name)
                continue
            try:
                out.extend(expand(name, self.options))
            except OSError as exc:
                raise CliError(name, _reason(exc)) from None
        return out

    def _load_dictionary(self, args: Namespace) -> Any:
        """The ``-D`` dictionary, read once for every file (None without ``-D``)."""
        path = getattr(args, "dictionary", None)
        if path is None:
            return None
        codec = getattr(self, "codec", None)
        if codec is not None and codec.name != "zstd":
            raise CliError("-D", f"dictionaries are for zstd, not {codec.name}")
        if self.op == "compress" and args.seekable:
            raise CliError("-D", "--seekable files are not written with a dictionary")
        from ..codecs.zstd_dict import as_zstd_dict
        from ..errors import ChuteError

        try:
            return as_zstd_dict(path)
        except ChuteError as exc:
            raise CliError(path, str(exc).removeprefix(f"{path}: ")) from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise CliError(path, reason[0].lower() + reason[1:]) from None

    # -- per file -------------------------------------------------------------
    def run(self) -> int:
        from ..errors import ChuteError

        for name in self.files:
            try:
                self.one(name)
            except CliWarning as exc:
                if not self.args.quiet:
                    sys.stderr.write(f"chute: {display_name(exc.name)}: {exc.message}\n")
                self.status = max(self.status, 2)
            except CliError as exc:
                sys.stderr.write(f"chute: {display_name(exc.name)}: {exc.message}\n")
                self.status = 1
            except ChuteError as exc:
                sys.stderr.write(f"chute: {display_name(name)}: {error_text(exc, self._limit_options(exc))}\n")
                self.status = 1
            except (BrokenPipeError, KeyboardInterrupt):
                raise
            except OSError as exc:
                if exc.errno == 32:
                    raise
                target = exc.filename if isinstance(exc.filename, str) else name
                reason = exc.strerror or str(exc)
                sys.stderr.write(f"chute: {display_name(target)}: {reason[0].lower() + reason[1:]}\n")
                self.status = 1
        if self.op == "list":
            self.print_list()
        return self.status if self.status != 2 or not self.args.quiet else 2

    offers_long = False

    def _limit_options(self, exc: BaseException) -> dict[str, str]:
        """How to raise a limit: a zstd window also with --long (what ``zstd -d`` asks for)."""
        from ._common import LIMIT_OPTIONS

        if self.offers_long and str(exc).startswith("zstd frame needs a window"):
            return {"memory_limit": "--long=WLOG or --memory"}
        return LIMIT_OPTIONS

    def one(self, name: str) -> None:
        if name == "-" and self.op != "compress" and not self.args.force and _is_tty(sys.stdin):
            raise CliError("stdin", "refusing to read compressed data from a terminal (use -f to force)")
        self._nth = getattr(self, "_nth", 0) + 1  # which file, for the progress line
        if is_url(name):
            from ..streams.remote import info

            try:
                _, is_dir = info(name, self.options)
            except FileNotFoundError:
                raise CliError(name, "no such file or object") from None
            if is_dir:
                raise CliWarning(name, "is a directory -- ignored")
        elif name != "-":
            try:
                st = os.stat(name)
            except FileNotFoundError:
                raise CliError(name, "no such file or directory") from None
            if stat.S_ISDIR(st.st_mode):
                raise CliWarning(name, "is a directory -- ignored")
        if self.op == "compress":
            self.compress(name)
        elif self.op == "decompress":
            self.decompress(name)
        else:
            self.check(name)

    def _open_input(self, name: str) -> tuple[BinaryIO, bool, int | None]:
        # Unbuffered: the pump then waits on pipes in a way a signal can interrupt, and
        # nothing hides in a read buffer.
        if name == "-":
            # stdin redirected from a file (`chute < big.log`) is sized like a named file:
            # what is left of it from the current offset (threads, progress total)
            raw = stdin_binary().raw  # type: ignore[attr-defined]
            return raw, False, _regular_size(raw, from_offset=True)
        if is_url(name):
            from ..streams.remote import open_input

            remote: Any = open_input(name, self.options)
            return remote, True, remote.size
        f = open(name, "rb", buffering=0)  # noqa: SIM115 - closed by the caller
        return f, True, _regular_size(f, from_offset=False)

    def _input(self, name: str) -> _Input:
        """A context manager: (source, its size if known, progress display or None); both
        closed after."""
        src, owns, size = self._open_input(name)
        try:
            progress = self._progress(name if name != "-" else "stdin", size)
        except BaseException:
            if owns:
                src.close()
            raise
        return _Input(src, owns, size, progress)

    def _output_path(self, name: str, derived: str | None) -> str | None:
        """None means standard output."""
        if self.to_stdout or (name == "-" and self.args.output is None):
            return None
        if self.args.output is not None:
            return str(self.args.output)
        return derived

    def _progress(self, label: str, total: int | None) -> Any:
        if not self.show_progress:
            return None
        from .progress import ProgressLine

        return ProgressLine(label, total, files=self._place())

    def _place(self) -> tuple[int, int, int, int | None] | None:
        """Where the current file stands among several, for the progress line."""
        count = len(self.files)
        if count < 2:
            return None
        sizes: list[int | None] | None = getattr(self, "_sizes", None)
        if sizes is None:
            sizes = self._sizes = [_size_or_none(f) for f in self.files]
        nth = getattr(self, "_nth", 1)
        grand = None if None in sizes else sum(sizes)  # type: ignore[arg-type]
        return nth, count, sum(x or 0 for x in sizes[: nth - 1]), grand

    def _summary(self, name: str, out: str | None, stats: Any) -> None:
        if not self.args.verbose or self.args.quiet:
            return
        from .progress import human

        # read => written, then the compressed size as a share of the uncompressed one,
        # whichever way the data went (decompressing 31.6 MiB into 111.9 MiB: 28.2%)
        packed, plain = (
            (stats.bytes_out, stats.bytes_in) if self.op == "compress" else (stats.bytes_in, stats.bytes_out)
        )
        pct = 100 * packed / plain if plain else 0.0
        rate = (plain / stats.seconds) if stats.seconds > 0 else 0.0  # of uncompressed data, as zstd and xz
        dest = out or "stdout"
        shown = display_name(name) if name != "-" else "stdin"
        sys.stderr.write(
            f"chute: {shown}: {human(stats.bytes_in)} => {human(stats.bytes_out)} "
            f"({pct:.1f}% compressed/uncompressed) in {stats.seconds:.2f}s, {human(rate)}/s -> {dest}\n"
        )

    def _finish_source(self, name: str, out_path: str | None) -> None:
        if self.args.rm and name != "-" and out_path is not None:
            if is_url(name):
                from ..streams.remote import remove

                remove(name, self.options)
            else:
                os.unlink(name)

    # -- operations -----------------------------------------------------------
    def compress(self, name: str) -> None:
        derived = None
        if self.args.exclude_compressed and name != "-":
            from .. import codecs

            if codecs.from_suffix(name) is not None:
                if self.args.verbose and not self.args.quiet:
                    sys.stderr.write(f"chute: {name}: already compressed -- skipped (--exclude-compressed)\n")
                return
        if name != "-":
            if name.endswith(self.suffix) and not self.to_stdout and self.args.output is None:
                raise CliWarning(name, f"already has the {self.suffix} suffix -- unchanged")
            derived = name + self.suffix
        out_path = self._output_path(name, derived)
        if out_path is None:
            refuse_terminal(sys.stdout, self.args.force)
        self._same_file_guard(name, out_path)
        options: dict[str, Any] = dict(self.format_options)
        if self.args.seekable:
            options["seekable"] = True
        if self.zstd_dict is not None:
            options["zstd_dict"] = self.zstd_dict
        like = name if name != "-" and not is_url(name) else None
        adapt = options.pop("adapt", None)
        with (
            self._input(name) as (src, size, progress),
            open_output(out_path, force=self.args.force, like=like, options=self.options) as dst,
        ):
            if adapt is not None:
                stats = self._compress_adaptive(src, dst, size, progress, options, adapt, name)
            elif self.args.flush_interval is not None:
                from ..api.fileobj import new_compressor
                from ..streams.pump import compress_stream

                comp = new_compressor(self.codec, self.level, threads=self._threads_for(size), **options)
                comp = self._named(comp, name, src)
                stats = compress_stream(
                    src,
                    dst,
                    comp,
                    chunk_size=self.read_size,
                    progress=progress,
                    flush_interval=self.args.flush_interval / 1000,
                )
            else:
                stats = self._compress_fixed(src, dst, size, progress, options, name)
        self._finish_source(name, out_path)
        self._summary(name, out_path, stats)

    def _named(self, comp: Any, name: str, src: BinaryIO) -> Any:
        """``comp`` writing the source's name and time in its first header with ``-N``."""
        if not self.args.name:
            return comp
        from ..codecs.gzip import NamedHeader
        from .gzipname import source_header

        return NamedHeader(comp, *source_header(name, src))

    def _compress_adaptive(
        self,
        src: BinaryIO,
        dst: BinaryIO,
        size: int | None,
        progress: Any,
        options: dict[str, Any],
        levels: tuple[int, int],
        name: str,
    ) -> Any:
        """``--adapt``: frames whose level follows the speed of the output
        (:mod:`chute.parallel.adapt`); with -v, the levels used."""
        from ..parallel.adapt import AdaptiveCompressor
        from ..parallel.pool import resolve_threads
        from ..streams.pump import Stats, compress_stream

        comp = AdaptiveCompressor(
            self.level,
            threads=resolve_threads(self._threads_for(size)),
            min_level=levels[0],
            max_level=levels[1],
            **options,
        )
        stats = compress_stream(
            src, dst, comp, chunk_size=self.read_size, progress=progress, stats=Stats(format=self.codec.name)
        )
        if self.args.verbose and not self.args.quiet:
            used = comp.levels
            shown = display_name(name) if name != "-" else "stdin"
            sys.stderr.write(
                f"chute: {shown}: --adapt: {len(used)} frame(s), levels {min(used)} to {max(used)}, "
                f"last {used[-1]}: {' '.join(map(str, used))}\n"
            )
        return stats

    def _compress_fixed(
        self, src: BinaryIO, dst: BinaryIO, size: int | None, progress: Any, options: dict[str, Any], name: str
    ) -> Any:
        """Compress with a layout chosen from the input alone: the same bytes at any -T
        and on any number of cores (see :func:`chute.api.fileobj.fixed_layout_compressor`)."""
        from ..api.fileobj import fixed_layout_compressor
        from ..streams.pump import Stats, compress_stream

        threads = self._threads_for(size)
        comp = fixed_layout_compressor(self.codec, self.level, threads=threads, size=size, **options)
        comp = self._named(comp, name, src)
        read_size = self.args.chunk_size or getattr(comp, "block_size", 0) or self.codec.extra.get("read_size", 0)
        return compress_stream(
            src,
            dst,
            comp,
            chunk_size=read_size or self.read_size,
            progress=progress,
            stats=Stats(format=self.codec.name),
        )

    @property
    def read_size(self) -> int:
        """--chunk-size, else the pump's default (the compress path lets chute.copy pick
        per format instead: it passes --chunk-size as given, None included)."""
        from ..streams.pump import DEFAULT_CHUNK

        return int(self.args.chunk_size or DEFAULT_CHUNK)

    def _threads_for(self, size: int | None) -> int | None:
        """-T or $CHUTE_THREADS if given; else every core for a file big enough to
        profit (AUTO_THREADS_MIN), else zstd one worker (like ``zstd``'s default:
        compression overlapping I/O) and other formats the caller's thread. Formats that
        cannot be split (brotli, zlib, deflate) always use one thread."""
        if self.threads is not None:
            return self.threads
        if size is not None and size >= AUTO_THREADS_MIN and self.args.flush_interval is None:
            return 0
        return 1 if self.codec.name == "zstd" else None

    def _decode_threads(self, size: int | None) -> int | None:
        """-T or $CHUTE_THREADS if given; else every core for a file big enough to profit
        (its frames are decoded in parallel when it has several, see
        :func:`chute.parallel.jobs.parallel_decompress`), else the caller's thread."""
        if self.threads is not None:
            return self.threads
        return 0 if size is not None and size >= AUTO_THREADS_MIN else None

    def _format_for(self, name: str) -> str | None:
        """-F if given; else, for formats with no magic number (brotli, deflate), the suffix."""
        if getattr(self, "codec", None) is not None:
            return str(self.codec.name)
        if name != "-":
            from .. import codecs

            by_suffix = codecs.from_suffix(name)
            if by_suffix is not None and not by_suffix.magic and "detect" not in by_suffix.extra:
                return by_suffix.name
        return None

    def _decoder_options(self) -> dict[str, Any]:
        from .formatopts import decode_memory

        opts: dict[str, Any] = {}
        memory = decode_memory(self.args)
        if memory is not None:
            opts["memory_limit"] = memory
        if self.zstd_dict is not None:
            opts["zstd_dict"] = self.zstd_dict
        return opts

    def _strip_suffix(self, name: str) -> str:
        from .. import codecs

        low = name.lower()
        if self.args.suffix and low.endswith(self.args.suffix.lower()):
            return name[: -len(self.args.suffix)]
        codec = codecs.from_suffix(name)
        if codec is None:
            raise CliWarning(name, "unknown suffix -- ignored (use -c or -o to name the output)")
        suf = max((s for s in codec.suffixes if low.endswith(s)), key=len)
        return name[: -len(suf)] + (".tar" if suf in TAR_SHORT_SUFFIXES else "")

    def decompress(self, name: str) -> None:
        import warnings

        from ..api.functions import copy
        from ..parallel import gzengine

        gzengine.hold_stderr = True  # this process is chute's own: the engine's lines may be held

        derived = None
        header = None
        if name != "-" and not self.to_stdout and self.args.output is None:
            if self.args.name:
                from .gzipname import restored_path, stored_header

                header = stored_header(name)
                derived = restored_path(name, header)
            if derived is None:
                derived = self._strip_suffix(name)
        out_path = self._output_path(name, derived)
        self._same_file_guard(name, out_path)
        like = name if name != "-" and not is_url(name) else None
        ignored: TrailingDataError | None = None
        with (
            warnings.catch_warnings(record=True) as caught,
            self._input(name) as (src, size, progress),
            open_output(out_path, force=self.args.force, like=like, options=self.options) as dst,
        ):
            warnings.simplefilter("always", UnverifiedDataWarning)
            warnings.simplefilter("always", IndexFileWarning)  # a refused sidecar index: decoded without it
            if out_path is None and self.args.force:
                stats = self._decompress_or_passthrough(src, dst, progress, self._format_for(name))
            else:
                try:
                    stats = copy(
                        src,
                        dst,
                        decompress=True,
                        format=self._format_for(name),
                        threads=self._decode_threads(size),
                        chunk_size=self.args.chunk_size,
                        progress=progress,
                        **self._decoder_options(),
                    )
                except TrailingDataError as exc:
                    # every decoded byte was written before the error: keep the output
                    ignored = self._tolerated(exc)
        notes = _unverified(caught)
        if ignored is not None:
            notes.append(f"{ignored} ignored")
        if header is not None and out_path is not None:
            from .gzipname import restore_time

            restore_time(out_path, header)
        if notes:  # the output is kept, the source too: exit status 2
            self._warn(name, notes)
            return
        self._finish_source(name, out_path)
        self._summary(name, out_path, stats)

    def _warn(self, name: str, notes: list[str]) -> None:
        if not self.args.quiet:
            for note in notes:
                sys.stderr.write(f"chute: {display_name(name)}: {note}\n")
        self.status = max(self.status, 2)

    def _tolerated(self, exc: TrailingDataError) -> TrailingDataError:
        """``exc`` if the trailing-data policy (``--trailing``, else the format's tool's
        habit) ignores it; raise it otherwise."""
        policy = self.args.trailing
        if policy is None:
            from .. import codecs

            policy = codecs.get(exc.format).extra.get("trailing", "error") if exc.format else "error"
        if policy != "ignore":
            raise exc
        return exc

    def _decompress_or_passthrough(self, src: BinaryIO, dst: BinaryIO, progress: Any, fmt: str | None) -> Any:
        """``-dcf``: like ``zcat -f``, copy data in no known format through unchanged."""
        from .. import codecs
        from ..codecs._stream import StreamDecoder
        from ..streams._writeall import write_all
        from ..streams.pump import Stats, decompress_stream

        head = b""
        while len(head) < codecs.MAX_MAGIC:
            more = src.read(codecs.MAX_MAGIC - len(head))
            if not more:
                # the end, read once: a terminal's end of file (^D) is not there to read again
                import io

                src = io.BytesIO()
                break
            head += more
        if fmt is None and codecs.detect(head) is None:
            stats = Stats()
            stats.bytes_in = stats.bytes_out = len(head)
            write_all(dst, head)
            while chunk := src.read(self.read_size):
                write_all(dst, chunk)
                stats.bytes_in += len(chunk)
                stats.bytes_out += len(chunk)
            return stats
        # data after the last stream passes through too (zcat -f, gzip's test mixed-gz+plain)
        dec = StreamDecoder(fmt, trailing="ignore", **self._decoder_options())
        out = dec.decompress(head)
        write_all(dst, out)
        stats = decompress_stream(src, dst, dec, chunk_size=self.read_size, progress=progress)
        stats.bytes_in += len(head)
        stats.bytes_out += len(out)
        if dec.unused_data:
            dst.write(dec.unused_data)
            stats.bytes_out += len(dec.unused_data)
            while chunk := src.read(self.read_size):
                dst.write(chunk)
                stats.bytes_in += len(chunk)
                stats.bytes_out += len(chunk)
        return stats

    def check(self, name: str) -> None:
        if self.op == "list" and name != "-" and self._list_stored(name):
            return  # from metadata: no decoder to load (start-up is most of a -l)
        import warnings

        from ..codecs._stream import StreamDecoder
        from ..streams.pump import decompress_stream

        dec = StreamDecoder(self._format_for(name), **self._decoder_options())
        with warnings.catch_warnings(record=True) as caught, self._input(name) as (src, size, progress):
            warnings.simplefilter("always", UnverifiedDataWarning)
            warnings.simplefilter("always", IndexFileWarning)
            try:
                if self._test_on_engine(name, src, size, progress):
                    dec = StreamDecoder("gzip")  # what the checks below ask of it (not -v)
                else:
                    stats = decompress_stream(src, None, dec, chunk_size=self.read_size, progress=progress)
            except TrailingDataError as exc:
                raise CliWarning(name, f"{self._tolerated(exc)} ignored") from None
        if self.op == "test" and dec.format == "gzip" and name != "-" and not is_url(name):  # a gzip log cut
            from ..logging.endmark import check_end_marker

            check_end_marker(name)
        notes = _unverified(caught)
        if notes:
            self._warn(name, notes)
            return
        if self.op == "test":
            if self.args.verbose and not self.args.quiet:
                sys.stderr.write(f"chute: {display_name(name)}: OK ({dec.format}, {dec.members} member(s))\n")
        else:
            self.list_rows.append((stats.bytes_in, stats.bytes_out, dec.format or "?", name))
            self.list_notes.append("decoded: the format records no size")

    def _test_on_engine(self, name: str, src: BinaryIO, size: int | None, progress: Any) -> bool:
        """``-t`` of a big single-member gzip file on the gzip engine's threads (see
        :mod:`chute.parallel.gzengine`); False if it does not go there: another format, a
        progress line, ``-v`` (which counts members, as only one thread can)."""
        if self.op != "test" or progress is not None or self.args.verbose:
            return False
        fmt = self._format_for(name)
        if fmt not in (None, "gzip"):
            return False
        from ..parallel import gzengine
        from ..parallel.pool import resolve_threads as pool_threads

        threads = pool_threads(self._decode_threads(size))
        index = gzengine.sidecar(src, threads)
        if index is None and not gzengine.usable(src, threads):
            return False
        gzengine.hold_stderr = True  # this process is chute's own: the engine's lines may be held
        gzengine.decode(src, None, threads=threads, format=fmt, chunk_size=self.read_size, index=index)
        return True

    def _list_stored(self, name: str) -> bool:
        """``-l`` from what the file records (see :mod:`chute.api.listing`); False when
        it records no size somewhere, so the caller decodes instead."""
        from .. import codecs
        from ..api.listing import stored_sizes

        if is_url(name):
            src, _, length = self._open_input(name)
        else:
            src = open(name, "rb")  # noqa: SIM115 - closed below
            length = os.fstat(src.fileno()).st_size
        with src as f:
            fmt = self._format_for(name) or codecs.detect(f.read(codecs.MAX_MAGIC))
            if fmt is None or length is None:
                return False
            fmt = getattr(fmt, "name", fmt)
            sizes = stored_sizes(f, str(fmt))
        if sizes is None:
            return False
        self.list_rows.append((length, sizes.size, sizes.format, name))
        self.list_notes.append(f"from the {sizes.source}" + (", modulo 4 GiB" if sizes.modulo else ""))
        if self.args.verbose:
            self.list_frames.append((name, [(f.start, f.end, f.size) for f in sizes.frames]))
        return True

    def print_list(self) -> None:
        if not self.list_rows:
            return
        w = sys.stdout.write
        w(f"{'compressed':>14} {'uncompressed':>14} {'ratio':>7}  {'format':<7} name\n")
        tin = tout = 0
        for (cin, cout, fmt, name), note in zip(self.list_rows, self.list_notes, strict=True):
            tin += cin
            tout += cout
            w(f"{cin:>14} {cout:>14} {self._ratio(cin, cout):>7}  {fmt:<7} {display_name(name)}")
            w(f"  ({note})\n" if self.args.verbose or "modulo" in note else "\n")
        if len(self.list_rows) > 1:
            w(f"{tin:>14} {tout:>14} {self._ratio(tin, tout):>7}  {'':<7} (totals)\n")
        for name, frames in self.list_frames:  # -lv: one line per frame, member or stream
            w(f"\n{name}: {len(frames)} frame(s)\n")
            w(f"{'frame':>7} {'offset':>14} {'compressed':>14} {'uncompressed':>14}\n")
            for k, (start, end, size) in enumerate(frames, 1):
                w(f"{k:>7} {start:>14} {end - start:>14} {size:>14}\n")

    @staticmethod
    def _ratio(cin: int, cout: int) -> str:
        return f"{100 * (1 - cin / cout):.1f}%" if cout else "-"

    def _same_file_guard(self, name: str, out_path: str | None) -> None:
        if name == "-" or out_path is None:
            return
        if is_url(name) or is_url(out_path):
            if name == out_path:
                raise CliError(name, "input and output are the same file")
            return
        try:
            if os.path.samefile(name, out_path):
                raise CliError(name, "input and output are the same file")
        except FileNotFoundError:
            pass


class _Input:
    """What :meth:`Runner._input` gives (a class: contextlib costs start-up)."""

    def __init__(self, src: BinaryIO, owns: bool, size: int | None, progress: Any) -> None:
        self.src = src
        self.owns = owns
        self.size = size
        self.progress = progress

    def __enter__(self) -> tuple[BinaryIO, int | None, Any]:
        return self.src, self.size, self.progress

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.progress is not None:
                self.progress.close()
        finally:
            if self.owns:
                self.src.close()


def _reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


def _unverified(caught: list[Any] | None) -> list[str]:
    """The messages of the :class:`UnverifiedDataWarning` and :class:`IndexFileWarning`
    recorded, once each."""
    notes: list[str] = []
    for record in caught or ():
        kinds = (UnverifiedDataWarning, IndexFileWarning)
        if issubclass(record.category, kinds) and str(record.message) not in notes:
            notes.append(str(record.message))
    return notes


def _regular_size(f: Any, *, from_offset: bool) -> int | None:
    """Bytes of a regular file (from its current offset if asked); None for anything else."""
    try:
        fd = f.fileno()
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        return max(0, st.st_size - os.lseek(fd, 0, os.SEEK_CUR)) if from_offset else st.st_size
    except (OSError, ValueError):
        return None


def _size_or_none(name: str) -> int | None:
    """The size of the regular file ``name``; None for standard input or anything else."""
    if name == "-":
        return None
    try:
        st = os.stat(name)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None
