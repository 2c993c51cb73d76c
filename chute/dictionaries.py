"""zstd dictionaries from Python: gather samples, train, measure what a dictionary gains.

What ``chute train`` does, as functions::

    samples = list(chute.dictionaries.samples_from(["logs/"], lines=True))
    result = chute.dictionaries.train(samples, size=16 << 10, level=3)
    open("logs.dict", "wb").write(result.dictionary.dict_content)
    print(result.ratio_without, result.ratio_with)   # on the held-out samples

A dictionary is then used with ``zstd_dict=`` anywhere chute compresses or decompresses
zstd (:func:`chute.open`, :func:`chute.compress`, :func:`chute.decompress`, the codecs,
:class:`chute.records.RecordCodec`, the log handlers), and with ``zstd -D`` outside chute.
"""

from __future__ import annotations

import os
import time

from .codecs.zstd_dict import as_zstd_dict
from .codecs.zstd_dict import train as _train
from .errors import DictionaryError, LimitExceededError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from typing import Any

__all__ = [
    "DEFAULT_SIZE",
    "MAX_SAMPLE",
    "MAX_TOTAL",
    "MIN_SAMPLES",
    "MIN_TOTAL",
    "TrainResult",
    "samples_from",
    "train",
    "evaluate",
    "load",
]

#: zstd's default dictionary size (``zstd --train --maxdict``): 112640 bytes.
DEFAULT_SIZE = 110 << 10
#: A sample longer than this is cut to it, as ``zstd --train`` does (its SAMPLESIZE_MAX).
MAX_SAMPLE = 128 << 10
#: Samples read in all, at most: they are held in memory to train.
MAX_TOTAL = 1 << 30
#: Fewest training samples and bytes accepted (libzstd's trainer fails below ~10 samples).
MIN_SAMPLES = 10
MIN_TOTAL = 1024
#: One sample in this many is held out of training to measure the dictionary.
HOLDOUT_EVERY = 10


def load(obj: Any, *, raw: bool | None = None) -> Any:
    """A ``ZstdDict`` from a path, bytes or a ``ZstdDict`` (see
    :func:`chute.codecs.zstd_dict.as_zstd_dict`)."""
    return as_zstd_dict(obj, raw=raw)


def _split(data: bytes, sep: bytes) -> Iterator[bytes]:
    for piece in data.split(sep):
        if piece:
            yield piece


def samples_from(
    paths: Iterable[str | os.PathLike[str]],
    *,
    lines: bool = False,
    delimiter: bytes | None = None,
    max_sample: int = MAX_SAMPLE,
    max_total: int = MAX_TOTAL,
) -> Iterator[bytes]:
    """The samples in ``paths``: each file one sample (folders walked in name order), or,
    with ``lines`` or ``delimiter``, each file cut into records (the separator dropped,
    empty records skipped). Samples are cut to ``max_sample`` bytes; more than
    ``max_total`` bytes in all raises :class:`~chute.errors.LimitExceededError`.
    """
    if lines and delimiter is not None:
        raise ValueError("give lines or delimiter, not both")
    sep = b"\n" if lines else delimiter
    if sep == b"":
        raise ValueError("the delimiter must not be empty")
    total = 0
    for path in paths:
        for name in _files(path):
            with open(name, "rb") as f:
                data = f.read(max_total - total + 1)
            total += len(data)
            if total > max_total:
                raise LimitExceededError(f"samples exceed {max_total >> 20} MiB; train on fewer")
            pieces = [data] if sep is None else _split(data, sep)
            for piece in pieces:
                yield piece[:max_sample]


def _files(path: str | os.PathLike[str]) -> Iterator[str]:
    path = os.fspath(path)
    if not os.path.isdir(path):
        yield path
        return
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            yield os.path.join(root, name)


class TrainResult:
    """What :func:`train` gives: the dictionary and how it did on the held-out samples."""

    def __init__(
        self,
        dictionary: Any,
        *,
        trained_on: int,
        held_out: int,
        seconds: float,
        level: int,
        ratios: tuple[float, float],
    ) -> None:
        self.dictionary = dictionary
        self.trained_on = trained_on
        self.held_out = held_out
        self.seconds = seconds
        self.level = level
        self.ratio_without, self.ratio_with = ratios

    @property
    def dict_id(self) -> int:
        return int(self.dictionary.dict_id)


def train(samples: Sequence[bytes], size: int = DEFAULT_SIZE, *, level: int = 3) -> TrainResult:
    """Train on all samples but one in :data:`HOLDOUT_EVERY`, measure on those.

    Refuses (:class:`~chute.errors.DictionaryError`) fewer than :data:`MIN_SAMPLES`
    training samples or :data:`MIN_TOTAL` bytes of them, with the reason.
    """
    held = [s for i, s in enumerate(samples) if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1]
    training = [s for i, s in enumerate(samples) if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1]
    total = sum(map(len, training))
    if len(training) < MIN_SAMPLES or not held:
        raise DictionaryError(
            f"too few samples ({len(samples)}): give at least {MIN_SAMPLES + 1}, one file each, "
            "or one file cut into records with --lines or --delimiter"
        )
    if total < MIN_TOTAL:
        raise DictionaryError(f"samples too small ({total} bytes to train on): give at least {MIN_TOTAL} bytes")
    started = time.perf_counter()
    dictionary = _train(training, size, level=level)
    seconds = time.perf_counter() - started
    return TrainResult(
        dictionary,
        trained_on=len(training),
        held_out=len(held),
        seconds=seconds,
        level=level,
        ratios=evaluate(dictionary, held, level=level),
    )


def evaluate(zstd_dict: Any, samples: Sequence[bytes], *, level: int = 3) -> tuple[float, float]:
    """(ratio without, ratio with ``zstd_dict``): each sample compressed on its own as one
    frame, original bytes over compressed bytes, summed over ``samples``."""
    from .codecs.zstd import core

    z = core()
    options = {z.ZSTD_c_compressionLevel: level}
    plain = z.ZstdCompressor(options=options)
    with_dict = z.ZstdCompressor(options=options, zstd_dict=as_zstd_dict(zstd_dict))
    end = z.ZstdCompressor.FLUSH_FRAME
    original = sum(map(len, samples))
    without = sum(len(plain.compress(s, end)) for s in samples)
    withd = sum(len(with_dict.compress(s, end)) for s in samples)
    return original / max(without, 1), original / max(withd, 1)
