"""The batch manifest: one JSON object per line, one line per source each time it finishes.

A line holds ``op``, ``source``, ``size``, ``mtime`` (see :func:`chute.batch.storage.stat`),
``output`` (the file written, or the shard that holds the source; ``null`` for verify),
``member`` (the name inside the shard), ``output_size``, ``checksum`` (XXH3-128 of the
source's bytes), ``data_checksum`` and ``data_size`` (of the uncompressed data),
``status`` (``done`` or ``failed``), ``attempts`` (runs of this source so far, over every
resumed run), ``error`` and ``seconds``. The last line about a source is what counts.

Lines are appended and flushed as each source finishes, and synced to disk at most once a
second and at the end, so a killed run loses at most a line being written: a torn last
line is cut off when the manifest is opened again. A source is done, and skipped by the
next run, when its last line says ``done`` for the same operation and output, its size and
mtime are unchanged, and the output exists with the size recorded.
"""

from __future__ import annotations

import json
import os
import time

from . import storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

__all__ = ["Manifest", "read_entries", "iter_entries"]

#: Seconds between syncs of the manifest to disk.
SYNC_EVERY = 1.0


def read_entries(path: str) -> list[dict[str, Any]]:
    """Every complete line of the manifest at ``path`` (none when it does not exist)."""
    return list(iter_entries(path))


def iter_entries(path: str) -> Iterator[dict[str, Any]]:
    """The complete lines of the manifest at ``path``, one at a time (a torn last line,
    without its newline, is left out)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return
    with f:
        for number, line in enumerate(f, 1):
            if not line.endswith(b"\n"):
                return
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not isinstance(entry, dict) or not isinstance(entry.get("source"), str):
                from ..errors import ChuteError

                raise ChuteError(f"{path}: line {number} is not a manifest entry")
            yield entry


def _brief(e: dict[str, Any]) -> tuple[Any, ...]:
    """What a run needs of an entry to know whether its source is done (the whole entry,
    for millions of sources, would cost several times the memory)."""
    return (
        e.get("op"),
        e.get("status"),
        e.get("output"),
        e.get("size"),
        e.get("mtime"),
        e.get("output_size"),
        e.get("member") is not None,
        int(e.get("attempts") or 0),
    )


class Manifest:
    """The manifest at ``path``: what earlier runs did, and where this run appends."""

    def __init__(self, path: str) -> None:
        self.path = path
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self._cut_torn_line()
        self._last: dict[str, tuple[Any, ...]] = {}
        for entry in iter_entries(path):
            self._last[entry["source"]] = _brief(entry)
        self._file = open(path, "ab")  # noqa: SIM115 - closed by close()
        self._synced = time.monotonic()
        self._sizes: dict[str, int | None] = {}

    def _cut_torn_line(self) -> None:
        try:
            with open(self.path, "r+b") as f:
                data = f.read()
                if data and not data.endswith(b"\n"):
                    f.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass

    def attempts(self, source: str) -> int:
        """How many times earlier runs tried ``source``."""
        e = self._last.get(source)
        return 0 if e is None else int(e[7])

    def is_done(
        self, op: str, source: str, size: int, mtime: int | str, output: str | None, *, shard: bool = False
    ) -> bool:
        """Whether an earlier run did this already and its output is still there;
        ``shard``: into whichever shard holds it."""
        e = self._last.get(source)
        if e is None:
            return False
        e_op, status, e_output, e_size, e_mtime, e_output_size, in_shard, _ = e
        if status != "done" or e_op != op:
            return False
        if shard:
            if not in_shard or e_output is None:
                return False
            output = e_output
        elif e_output != output or in_shard:
            return False
        if e_size != size or e_mtime != mtime:
            return False
        if output is None:
            return True
        if output not in self._sizes:
            self._sizes[output] = storage.output_size(output)
        return bool(self._sizes[output] == e_output_size)

    def shards(self) -> set[str]:
        """The shards that hold a source done, as recorded."""
        return {e[2] for e in self._last.values() if e[6] and e[1] == "done"}

    def append(self, entry: dict[str, Any]) -> None:
        """Add ``entry`` as the last word on its source."""
        self._last[entry["source"]] = _brief(entry)
        self._file.write(json.dumps(entry, separators=(",", ":")).encode() + b"\n")
        self._file.flush()
        if time.monotonic() - self._synced >= SYNC_EVERY:
            self.sync()

    def sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._synced = time.monotonic()

    def close(self) -> None:
        if not self._file.closed:
            try:
                self.sync()
            finally:
                self._file.close()

    def __len__(self) -> int:
        """How many sources the manifest knows."""
        return len(self._last)

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
