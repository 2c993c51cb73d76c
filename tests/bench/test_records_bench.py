"""``--records``: held-out records, each one zstd frame, without and with a dictionary."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from chute.bench.inputs import plan
from chute.bench.records import measure_records
from chute.codecs.zstd import core
from chute.errors import ChuteError


def events(n: int, seed: int = 5) -> bytes:
    rnd = random.Random(seed)
    rows = (
        {"id": i, "user": rnd.choice(["ann", "bob", "cy", "dee"]), "action": rnd.choice(["view", "buy", "login"]),
         "path": f"/shop/item/{rnd.randint(1, 300)}", "ms": rnd.randint(1, 900)}
        for i in range(n)
    )  # fmt: skip
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def test_records_with_a_dictionary_against_zstd_alone(tmp_path: Path) -> None:
    data = events(5000)
    (tmp_path / "ev.jsonl").write_bytes(data)
    p = plan([str(tmp_path / "ev.jsonl")])
    try:
        rep = measure_records(p, [3], dict_size=16 << 10)
    finally:
        p.cleanup()
    records = data.split(b"\n")[:-1]
    held = records[9::10]
    assert rep.held_out == len(held) and rep.trained_on == len(records) - len(held)
    (row,) = rep.levels
    # without a dictionary: each record one zstd frame at level 3, as libzstd makes it
    z = core()
    comp = z.ZstdCompressor(options={z.ZSTD_c_compressionLevel: 3})
    alone = sum(len(comp.compress(r, z.ZstdCompressor.FLUSH_FRAME)) for r in held)
    assert row.ratio_plain == pytest.approx(sum(map(len, held)) / alone)
    assert row.ratio_dict > 1.5 * row.ratio_plain
    assert row.enc_dict > 0 and row.dec_dict > 0


def test_too_few_records_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "few").write_bytes(b"a\nb\nc\n")
    p = plan([str(tmp_path / "few")])
    try:
        with pytest.raises(ChuteError, match="--records: too few samples"):
            measure_records(p, [3])
    finally:
        p.cleanup()
