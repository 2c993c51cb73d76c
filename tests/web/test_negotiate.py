from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chute.web import choose_encoding, parse_accept_encoding


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip, deflate, br", "br"),
        ("gzip, deflate, br, zstd", "zstd"),
        ("GZIP, BR", "br"),
        ("zstd;q=0, br;q=0, gzip", "gzip"),
        ("gzip;q=1.0, zstd;q=0.5", "gzip"),
        ("br;q=0.9, gzip;q=0.9, zstd;q=0.8", "br"),
        ("*", "zstd"),
        ("*;q=0", None),
        ("*, zstd;q=0", "br"),
        ("*;q=0.1, gzip;q=0.5", "gzip"),
        ("gzip;q=0", None),
        ("gzip;q=0.000", None),
        ("gzip;q=abc, br", "br"),
        ("gzip;q=2", None),
        ("gzip ; q=0.5 , br ; q=0.4", "gzip"),
        ("compress, deflate", None),
        (",,, ,gzip", "gzip"),
    ],
)
def test_choose(header: str | None, expected: str | None) -> None:
    assert choose_encoding(header) == expected


def test_server_preference_order() -> None:
    assert choose_encoding("gzip, br, zstd", ("gzip", "br", "zstd")) == "gzip"
    assert choose_encoding("gzip, br, zstd", ("br",)) == "br"
    assert choose_encoding("zstd", ("br", "gzip")) is None


def test_parse_keeps_highest_duplicate() -> None:
    assert parse_accept_encoding("gzip;q=0.2, gzip;q=0.7, *;q=0") == {"gzip": 0.7, "*": 0.0}


CODINGS = st.sampled_from(["gzip", "br", "zstd", "deflate", "identity", "*", "x-gzip", "compress"])
QS = st.one_of(st.none(), st.sampled_from(["0", "0.0", "0.001", "0.5", "1", "1.000", "bad"]))


@given(st.lists(st.tuples(CODINGS, QS), max_size=8), st.permutations(["zstd", "br", "gzip"]))
def test_choice_is_acceptable_and_best(elements: list[tuple[str, str | None]], pref: list[str]) -> None:
    header = ", ".join(c if q is None else f"{c};q={q}" for c, q in elements)
    parsed = parse_accept_encoding(header)
    chosen = choose_encoding(header, pref)

    def q_of(c: str) -> float:
        return parsed.get(c, parsed.get("*", 0.0))

    if chosen is None:
        assert all(q_of(c) == 0 for c in pref)  # nothing acceptable: identity
    else:
        assert q_of(chosen) > 0  # q=0 means never
        assert all(q_of(c) <= q_of(chosen) for c in pref)  # the client's q-value wins
        better = pref[: pref.index(chosen)]
        assert all(q_of(c) < q_of(chosen) for c in better)  # ties go to the server's order
