"""Extraction policy: small filters over one member, composable and testable alone.

A filter takes a :class:`Member` and a :class:`Limits` and returns the member (possibly
changed) or raises :class:`~chute.errors.UnsafeArchiveError` naming it. The checks that
need the target tree (symlinks already on disk, hardlink targets) live in
:mod:`chute.tar.extract`, which never follows a symlink while writing.

Three policies, by name (:data:`POLICIES`): ``"default"`` restores symlinks as they are
(they are data: nothing is ever written through one) and refuses what could write
outside the target or make a special file; ``"data"`` also refuses symlinks and hard links
that are absolute or point outside the target, like the ``data`` filter of Python's
``tarfile``; ``"trust"`` checks nothing.
"""

from __future__ import annotations

import posixpath

from ..errors import LimitExceededError, UnsafeArchiveError
from . import header as h
from .header import Member, _Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc and typing stay off the command path (start-up)
    from collections.abc import Callable, Sequence
    from typing import Any

    Filter = Callable[[Member, "Limits"], Member]

__all__ = [
    "Limits",
    "Filter",
    "POLICIES",
    "strip_absolute",
    "refuse_absolute",
    "refuse_dotdot",
    "refuse_special",
    "check_link_target",
    "strip_modes",
    "check_name_length",
    "DEFAULT_FILTERS",
    "DATA_FILTERS",
    "policy_filters",
    "apply_filters",
    "normalize_name",
]


def __getattr__(name: str) -> Any:
    # ``Filter`` (the type of a filter) is built on first use: collections.abc would load
    # collections on every run, and the alias only serves annotations
    if name == "Filter":
        from collections.abc import Callable

        return Callable[[Member, Limits], Member]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Limits(_Record):
    """Caps on what an archive may make chute write (``None``: no cap)."""

    __slots__ = ("max_members", "max_total_size", "max_name_length")  # noqa: RUF023 - in field order (repr)

    def __init__(
        self,
        max_members: int | None = 1_000_000,
        max_total_size: int | None = 64 << 30,
        max_name_length: int | None = 4096,
    ) -> None:
        self.max_members = max_members
        self.max_total_size = max_total_size
        self.max_name_length = max_name_length


def normalize_name(name: str) -> str:
    """Collapse ``//`` and ``./`` parts; keep ``..`` and a leading ``/`` for the filters to see."""
    lead = "/" if name.startswith("/") else ""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return lead + "/".join(parts)


def strip_absolute(m: Member, limits: Limits) -> Member:
    """Make an absolute name relative (``/etc/x`` -> ``etc/x``), as GNU tar and bsdtar do;
    a hard link's target too (it names another member)."""
    if m.name.startswith("/"):
        m.name = m.name.lstrip("/")
    if m.type == h.HARDLINK and m.linkname.startswith("/"):
        m.linkname = m.linkname.lstrip("/")
    return m


def refuse_absolute(m: Member, limits: Limits) -> Member:
    if m.name.startswith("/") or (len(m.name) > 1 and m.name[1] == ":" and m.name[0].isalpha()):
        raise UnsafeArchiveError(f"{m.name}: absolute path refused")
    return m


def refuse_dotdot(m: Member, limits: Limits) -> Member:
    """Refuse ``..`` as a part of the name (``/`` or ``\\`` separated), or of a hard link's
    target, and NUL in either."""
    if ".." in m.name.split("/") or ("\\" in m.name and ".." in m.name.split("\\")):
        raise UnsafeArchiveError(f"{m.name}: path with '..' refused")
    if "\0" in m.name:
        raise UnsafeArchiveError(f"{m.name!r}: NUL in a member name refused")
    if m.type == h.HARDLINK and (".." in m.linkname.split("/") or "\0" in m.linkname):
        raise UnsafeArchiveError(f"{m.name}: hardlink target {m.linkname!r} refused")
    return m


def refuse_special(m: Member, limits: Limits) -> Member:
    if m.type in (h.CHARDEV, h.BLOCKDEV):
        raise UnsafeArchiveError(f"{m.name}: device file refused")
    if m.type == h.FIFO:
        raise UnsafeArchiveError(f"{m.name}: FIFO refused")
    if m.type not in (h.REGULAR, h.DIRECTORY, h.SYMLINK, h.HARDLINK):
        raise UnsafeArchiveError(f"{m.name}: member type {m.type!r} refused")
    return m


def check_link_target(m: Member, limits: Limits) -> Member:
    """Lexical check: a link's target must be relative and stay inside the target.

    For symlinks the target is resolved against the member's folder; for hardlinks
    against the archive root (as tar does). ``..`` parts are checked again against
    the real tree at extraction time, because a symlink can make ``a/..`` mean
    something else than ``.``.
    """
    if m.type not in (h.SYMLINK, h.HARDLINK):
        return m
    target = m.linkname
    if not target:
        raise UnsafeArchiveError(f"{m.name}: empty link target refused")
    if target.startswith("/") or "\0" in target:
        raise UnsafeArchiveError(f"{m.name}: link to absolute path {target!r} refused")
    base = posixpath.dirname(m.name) if m.type == h.SYMLINK else ""
    depth = 0
    for part in posixpath.join(base, target).split("/"):
        if part in ("", "."):
            continue
        depth += -1 if part == ".." else 1
        if depth < 0:
            raise UnsafeArchiveError(f"{m.name}: link target {target!r} points outside the target folder")
    if m.type == h.HARDLINK and (depth == 0 or ".." in target.split("/")):
        raise UnsafeArchiveError(f"{m.name}: hardlink target {target!r} refused")
    return m


def strip_modes(m: Member, limits: Limits) -> Member:
    """No setuid, setgid, sticky; no write for group and others."""
    m.mode &= 0o755
    return m


def check_name_length(m: Member, limits: Limits) -> Member:
    cap = limits.max_name_length
    if cap is not None:
        for what, text in (("name", m.name), ("link target", m.linkname)):
            # at most 4 UTF-8 bytes a character: short names need no encoding
            if len(text) * 4 > cap and len(text.encode("utf-8", "surrogateescape")) > cap:
                raise LimitExceededError(f"{text[:60]}...: {what} longer than {cap} bytes refused")
    return m


POLICIES = ("default", "data", "trust")

#: The default policy: names made relative, ``..`` refused, special files refused, modes
#: stripped; symlinks kept as they are (the extractor never writes through one).
DEFAULT_FILTERS: Sequence[Filter] = (
    check_name_length,
    strip_absolute,
    refuse_dotdot,
    refuse_special,
    strip_modes,
)

#: The ``data`` policy: the default, and links must be relative and stay inside the target.
DATA_FILTERS: Sequence[Filter] = (
    check_name_length,
    check_link_target,  # before strip_absolute: an absolute hard link target is refused
    strip_absolute,
    refuse_dotdot,
    refuse_special,
    strip_modes,
)


def policy_filters(policy: str) -> Sequence[Filter]:
    """The filters of the policy named ``policy`` (one of :data:`POLICIES`)."""
    if policy == "default":
        return DEFAULT_FILTERS
    if policy == "data":
        return DATA_FILTERS
    if policy == "trust":
        return ()
    raise ValueError(f"unknown extraction policy {policy!r} (use one of {', '.join(POLICIES)})")


def apply_filters(m: Member, limits: Limits, filters: Sequence[Filter] = DEFAULT_FILTERS) -> Member:
    for f in filters:
        m = f(m, limits)
    return m
