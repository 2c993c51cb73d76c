"""The two types every codec's signatures name: :data:`Buffer` and :class:`FlushMode`.

Apart from :mod:`chute.codecs._base` so that :mod:`chute.codecs._protocols` can name them
without importing ``_base``, which names the protocols (no cycle, even for type checkers).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs start-up (see chute/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import ClassVar

__all__ = ["Buffer", "FlushMode"]

Buffer = bytes | bytearray | memoryview


class _FlushModes(type):
    """Lets :class:`FlushMode` be used like the enum it was: ``list(FlushMode)``,
    ``FlushMode("sync")``, ``FlushMode["SYNC"]``."""

    _members: dict[str, FlushMode]

    def __iter__(cls) -> Iterator[FlushMode]:
        return iter(cls._members.values())

    def __len__(cls) -> int:
        return len(cls._members)

    def __getitem__(cls, name: str) -> FlushMode:
        return cls._members[name]

    def __call__(cls, value: object) -> FlushMode:
        if isinstance(value, FlushMode):
            return value
        for member in cls._members.values():
            if member.value == value:
                return member
        raise ValueError(f"{value!r} is not a valid FlushMode")


class FlushMode(metaclass=_FlushModes):
    """What :meth:`Compressor.flush` guarantees.

    ``SYNC``: everything compressed so far can be decoded by a reader of the growing
    stream; the compressor keeps its history where the format allows it.
    ``FULL``: like ``SYNC``, and no later output refers to earlier data (a reader may
    start decoding from here where the format allows it).

    Two constants compared by identity (``mode is FlushMode.FULL``), with a ``name`` and a
    ``value`` like enum members. (Not an ``enum.Enum``: importing enum costs a pipe tool's
    start-up several milliseconds.)
    """

    __slots__ = ("name", "value")
    name: str
    value: str
    SYNC: ClassVar[FlushMode]
    FULL: ClassVar[FlushMode]

    if TYPE_CHECKING:  # what _FlushModes.__call__ does, for type checkers

        def __new__(cls, value: object) -> FlushMode: ...

    def __repr__(self) -> str:
        return f"<FlushMode.{self.name}: {self.value!r}>"

    def __str__(self) -> str:
        return f"FlushMode.{self.name}"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return FlushMode, (self.value,)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot change FlushMode.{self.name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot change FlushMode.{self.name}")


def _flush_mode(name: str, value: str) -> FlushMode:
    member = object.__new__(FlushMode)
    object.__setattr__(member, "name", name)
    object.__setattr__(member, "value", value)
    return member


FlushMode._members = {"SYNC": _flush_mode("SYNC", "sync"), "FULL": _flush_mode("FULL", "full")}
FlushMode.SYNC = FlushMode._members["SYNC"]
FlushMode.FULL = FlushMode._members["FULL"]
