"""``chute bench --records``: small records compressed one by one, without and with a
trained zstd dictionary (:mod:`chute.dictionaries`, :class:`chute.records.RecordCodec`).

The input is cut into records at a delimiter (a newline by default); a sampled input gives
the records of its slices, less the first and last of each slice (cut in the middle). As
``chute train`` does, one record in ten is held out: the dictionary is trained on the
others (at most 100 times the dictionary's size, zstd's advice), once for each level
measured, as ``chute train --level`` does, and every figure is
measured on the held-out records, each encoded as one frame and decoded alone, and checked
to round-trip. Speeds are records (and input bytes) per second in this process; memory is
not measured here (a record codec holds its dictionary and one record).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from ..dictionaries import DEFAULT_SIZE, HOLDOUT_EVERY, train
from ..errors import ChuteError
from ..records import RecordCodec
from .inputs import Plan

__all__ = ["RecordLevel", "RecordsReport", "DEFAULT_RECORD_LEVELS", "measure_records", "records_table"]

DEFAULT_RECORD_LEVELS = (1, 3, 9, 19)
#: Held-out records measured, at most.
MAX_HELD = 20_000


@dataclass
class RecordLevel:
    """One level, without (``plain``) and with (``dict``) the dictionary."""

    level: int
    ratio_plain: float
    ratio_dict: float
    enc_plain: float  # records per second
    enc_dict: float
    dec_plain: float
    dec_dict: float


@dataclass
class RecordsReport:
    """The records measured and what each level did."""

    held_out: int
    trained_on: int
    mean_size: float
    dict_size: int
    train_seconds: float  # per dictionary
    levels: list[RecordLevel]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _records(plan: Plan, delimiter: bytes) -> list[bytes]:
    out: list[bytes] = []
    for s in plan.streams:
        with open(s.path, "rb") as f:
            pieces = f.read().split(delimiter)
        if plan.sampled:
            pieces = pieces[1:-1]
        out.extend(p for p in pieces if p)
    return out


def _timed(fn: Any, items: list[bytes]) -> tuple[list[bytes], float]:
    start = time.perf_counter()
    out = [fn(x) for x in items]
    return out, time.perf_counter() - start


def measure_records(
    plan: Plan, levels: list[int], *, delimiter: bytes = b"\n", dict_size: int = DEFAULT_SIZE
) -> RecordsReport:
    """Train a dictionary on ``plan``'s records and measure each of ``levels`` (see the
    module's text). Raises :class:`ChuteError` when there are too few records to train."""
    if not levels:
        raise ValueError("give at least one level")
    records = _records(plan, delimiter)
    held = records[HOLDOUT_EVERY - 1 :: HOLDOUT_EVERY][:MAX_HELD]
    budget, training = 100 * dict_size, []
    for i, r in enumerate(records):
        if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1:
            training.append(r)
            budget -= len(r)
            if budget <= 0:
                break
    # train() holds one in ten out again: give it the training records and a tenth more
    # of held-out ones, in its own order, so that it trains on every training record
    merged: list[bytes] = []
    spare = iter(held)
    for i, r in enumerate(training):
        merged.append(r)
        if i % (HOLDOUT_EVERY - 1) == HOLDOUT_EVERY - 2:
            merged.append(next(spare, r))
    size = sum(map(len, held))
    out: list[RecordLevel] = []
    seconds = 0.0
    for level in levels:
        try:
            trained = train(merged, dict_size, level=level)  # for the level it is used at, as chute train --level
        except ChuteError as exc:
            raise ChuteError(f"--records: {exc}") from None
        seconds += trained.seconds
        plain, with_dict = RecordCodec(None, level=level), RecordCodec(trained.dictionary, level=level)
        row: list[float] = []
        for codec in (plain, with_dict):
            frames, enc = _timed(codec.encode, held)
            back, dec = _timed(codec.decode, frames)
            if back != held:
                raise ChuteError(f"--records: level {level} does not round-trip")
            row += [size / max(1, sum(map(len, frames))), len(held) / max(enc, 1e-9), len(held) / max(dec, 1e-9)]
        out.append(RecordLevel(level, row[0], row[3], row[1], row[4], row[2], row[5]))
    return RecordsReport(
        held_out=len(held),
        trained_on=trained.trained_on,
        mean_size=size / max(1, len(held)),
        dict_size=len(trained.dictionary.dict_content),
        train_seconds=seconds / max(1, len(levels)),
        levels=out,
    )


def records_table(rep: RecordsReport, target: str = "FILE", cut: str = "--lines") -> str:
    """The report as text, and the commands that make and use the dictionary."""
    lines = [
        f"records: {rep.held_out:,} held out (mean {rep.mean_size:,.0f} bytes), each compressed alone; "
        f"dictionaries of {rep.dict_size:,} bytes, one per level, trained on {rep.trained_on:,} records"
        f" in {rep.train_seconds:.2f} s each",
        "",
        "level  ratio alone  with dict  enc rec/s alone  with dict  dec rec/s alone  with dict",
    ]
    for r in rep.levels:
        lines.append(
            f"{r.level:>5}  {r.ratio_plain:>11.3f}  {r.ratio_dict:>9.3f}  {r.enc_plain:>15,.0f}  {r.enc_dict:>9,.0f}"
            f"  {r.dec_plain:>15,.0f}  {r.dec_dict:>9,.0f}"
        )
    best = max(rep.levels, key=lambda r: r.ratio_dict)
    lines += [
        "",
        f"make the dictionary: chute train {cut} --level {best.level} {target} -o records.dict",
        f"use it: chute.records.RecordCodec('records.dict', level={best.level})  # ratio {best.ratio_dict:.3f}",
    ]
    return "\n".join(lines) + "\n"
