"""Choosing members as GNU tar does: names on the command line, ``--exclude``, old files.

Member names given on the command line match the way GNU tar matches them when extracting
or listing: literally by default (``--no-wildcards``), anchored at the start of the name,
and a name selects the member of that name and, when it is a folder, everything under it
(``src/d`` and ``src/d/`` both select ``src/d/`` and ``src/d/x``). With ``wildcards``, a
name is a shell glob whose ``*`` and ``?`` also match ``/`` (``*.md`` selects ``a/b.md``),
still selecting what lies under a matching folder. Exclusion patterns are always globs and
are not anchored: ``--exclude=e`` drops any member with a path component ``e`` and
everything under it, ``--exclude='d/*.txt'`` drops ``src/d/b.txt``.

:class:`SelectingExtractor` applies a :class:`Selection` where members are iterated (the
members it leaves out are skipped unread), adds the old-file policies (``keep``: an
existing file is an error; ``skip``: left alone silently; ``replace``, the default: replaced
as a whole, as GNU tar does) and reports each name as it is processed.
"""

from __future__ import annotations

import errno
import os

from . import header as h
from .extract import Extractor
from .header import Member

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, BinaryIO

    from .extract import ExtractStats

__all__ = ["Selection", "SelectingExtractor", "glob_matcher", "extract_selected", "copy_selected", "OLD_FILES"]

#: The policies for a file that already exists where a member goes.
OLD_FILES = ("replace", "keep", "skip")


def glob_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """True for a name that a glob in ``patterns`` matches GNU tar's exclusion way:
    unanchored (from any ``/`` on) and selecting what lies under a match, ``*`` matching ``/``."""
    import re  # here: re costs start-up, and only --exclude or --wildcards need it

    pats = [p.rstrip("/") or p for p in patterns]
    if not pats:
        return lambda name: False
    # (^|.*/)PATTERN(/.*)?$ : any suffix starting at a component, any leading-folder prefix
    body = "|".join(f"(?:{_glob(p)})" for p in pats)
    rx = re.compile(f"(?s:(?:.*/)?(?:{body})(?:/.*)?)\\Z")
    match = rx.match

    def excluded(name: str) -> bool:
        return match(name.rstrip("/")) is not None

    return excluded


def _glob(pattern: str) -> str:
    """The regular expression of a shell glob, without anchors (``*`` matches ``/``)."""
    from fnmatch import translate

    rx = translate(pattern)
    if not (rx.startswith("(?s:") and rx.endswith(")\\Z")):  # pragma: no cover - fnmatch's form changed
        raise RuntimeError(f"unexpected fnmatch.translate output {rx!r}")
    return rx[4:-3]


class Selection:
    """Which members to take: those ``names`` select (all when there are none), less
    those an ``exclude`` pattern matches. :meth:`unmatched` gives the names no member
    matched, for the ``NAME: not found in archive`` error."""

    def __init__(self, names: Sequence[str] = (), *, wildcards: bool = False, exclude: Sequence[str] = ()) -> None:
        self.names = [n.rstrip("/") or n for n in names]
        self.wildcards = wildcards
        self._matched = [False] * len(self.names)
        self._excluded = glob_matcher(exclude) if exclude else None
        self._globs: list[Callable[[str], bool]] | None = None
        if wildcards and self.names:
            import re

            self._globs = [re.compile(f"(?s:{_glob(n)})(?:/.*)?\\Z").match for n in self.names]  # type: ignore[misc]

    def wants(self, name: str) -> bool:
        """Whether the member ``name`` (as stored) is selected; remembers which names matched."""
        n = name.rstrip("/") or name
        hit = not self.names
        for i, want in enumerate(self.names):
            if self._globs is not None:
                ok = self._globs[i](n) is not None
            else:
                ok = n == want or n.startswith(want + "/") or want == "/"
            if ok:
                self._matched[i] = True  # found, even if excluded (as GNU tar counts it)
                hit = True
        return hit and (self._excluded is None or not self._excluded(n))

    def unmatched(self) -> list[str]:
        """The names (as given) that selected no member so far."""
        return [n for n, seen in zip(self.names, self._matched, strict=True) if not seen]


class SelectingExtractor(Extractor):
    """An :class:`~chute.tar.extract.Extractor` that extracts only what ``selection`` wants,
    applies the ``old_files`` policy (one of :data:`OLD_FILES`) to files that exist where a
    member goes, and calls ``verbose(name)`` for each member it extracts. Under ``keep``, a
    member whose file exists raises ``FileExistsError``, or when ``existing`` is given is
    passed to ``existing(name)`` and skipped. Other keywords go to
    :class:`~chute.tar.extract.Extractor`."""

    def __init__(
        self,
        target: str | os.PathLike[str],
        selection: Selection | None = None,
        *,
        old_files: str = "replace",
        verbose: Callable[[str], None] | None = None,
        existing: Callable[[str], None] | None = None,
        **kw: Any,
    ) -> None:
        if old_files not in OLD_FILES:
            raise ValueError(f"old_files must be one of {', '.join(OLD_FILES)}, not {old_files!r}")
        super().__init__(target, **kw)
        self.selection = selection
        self.old_files = old_files
        self.verbose = verbose
        self.existing = existing
        # the extractor's short path applies the selection and -v itself
        self._wants = selection.wants if selection is not None else None
        self._announce = verbose

    def _short_path_ok(self) -> bool:
        # old files need a look at the target first: the general path, member by member
        return self.old_files == "replace" and type(self).extract_member is SelectingExtractor.extract_member

    def extract_member(self, m: Member, data: Any) -> None:
        if self.selection is not None and not self.selection.wants(m.name):
            return  # the reader skips its data
        if self.old_files != "replace" and m.type != h.DIRECTORY and self._exists(m):
            if self.old_files == "skip":
                return
            if self.existing is None:
                raise FileExistsError(errno.EEXIST, "file exists (--keep-old-files)", m.name)
            self.existing(m.name)  # reported, and the extraction goes on, as with tar -k
            return
        if self.verbose is not None:
            self.verbose(m.name)
        super().extract_member(m, data)

    def _exists(self, m: Member) -> bool:
        parts = self._parts(m.name, m)
        if parts is None:
            return False
        try:
            os.lstat(os.path.join(self.target, *parts))
        except OSError:
            return False
        return True


def extract_selected(
    fp: BinaryIO,
    target: str | os.PathLike[str],
    selection: Selection | None = None,
    *,
    old_files: str = "replace",
    verbose: Callable[[str], None] | None = None,
    existing: Callable[[str], None] | None = None,
    **kw: Any,
) -> ExtractStats:
    """:func:`chute.tar.extract.extract` through a :class:`SelectingExtractor`."""
    with SelectingExtractor(target, selection, old_files=old_files, verbose=verbose, existing=existing, **kw) as ex:
        ex.extract_all(fp)
    return ex.stats


def copy_selected(
    fp: BinaryIO,
    out: BinaryIO,
    selection: Selection | None = None,
    verbose: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> int:
    """Write the data of the selected regular members of the tar stream ``fp`` to ``out``,
    one after the other, as ``tar -xO`` does (other members give nothing); returns the
    number of members written. ``warn`` gets the reader's warnings (see
    :class:`~chute.tar.reader.TarReader`'s ``on_warning``)."""
    from ..streams._writeall import write_all
    from .reader import TarReader

    count = 0
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    for m, data in TarReader(fp, on_warning=warn):
        if selection is not None and not selection.wants(m.name):
            continue
        if verbose is not None:
            verbose(m.name)
        if m.type != h.REGULAR:
            continue
        while n := data.readinto(buf):
            write_all(out, view[:n])
        count += 1
    return count
