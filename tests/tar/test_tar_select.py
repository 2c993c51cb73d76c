"""Member selection (chute.tar.select) against a direct statement of GNU tar's rules, on
random names and patterns."""

from __future__ import annotations

from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from chute.tar.select import Selection, glob_matcher

parts = st.text(alphabet="ab.*?[]", min_size=1, max_size=3).filter(lambda p: p not in (".", ".."))
names = st.lists(st.text(alphabet="ab.c", min_size=1, max_size=3), min_size=1, max_size=4).map("/".join)
patterns = st.lists(parts, min_size=1, max_size=3).map("/".join)


def prefixes(name: str) -> list[str]:
    """``a``, ``a/b``, ``a/b/c`` for ``a/b/c``: the name and the folders above it."""
    comps = name.split("/")
    return ["/".join(comps[: i + 1]) for i in range(len(comps))]


def gnu_excluded(name: str, pattern: str) -> bool:
    """GNU tar's --exclude: not anchored (any end of the name that starts a component),
    a match on a folder leaves out what it holds, '*' matches '/'."""
    comps = name.split("/")
    ends = ["/".join(comps[i:]) for i in range(len(comps))]
    return any(fnmatchcase(p, pattern) for end in ends for p in prefixes(end))


@given(name=names, pats=st.lists(patterns, min_size=1, max_size=3), slash=st.booleans())
def test_exclude_matches_gnu_rules(name: str, pats: list[str], slash: bool) -> None:
    stored = name + "/" if slash else name  # a folder's stored name ends with '/'
    assert glob_matcher(pats)(stored) == any(gnu_excluded(name, p) for p in pats)


@given(name=names, wanted=st.lists(names, min_size=1, max_size=3))
def test_literal_names_select_themselves_and_what_they_hold(name: str, wanted: list[str]) -> None:
    sel = Selection(wanted)
    expected = any(w in prefixes(name) for w in wanted)
    assert sel.wants(name) == expected
    assert set(sel.unmatched()) == {w for w in wanted if w not in prefixes(name)}


@given(name=names, pats=st.lists(patterns, min_size=1, max_size=3))
def test_wildcards_are_anchored_and_select_what_a_folder_holds(name: str, pats: list[str]) -> None:
    expected = any(fnmatchcase(p, pat) for pat in pats for p in prefixes(name))
    assert Selection(pats, wildcards=True).wants(name) == expected


@given(name=names, wanted=st.lists(names, max_size=2), pats=st.lists(patterns, min_size=1, max_size=2))
def test_exclude_wins_over_names(name: str, wanted: list[str], pats: list[str]) -> None:
    sel = Selection(wanted, exclude=pats)
    if any(gnu_excluded(name, p) for p in pats):
        assert not sel.wants(name)
    else:
        assert sel.wants(name) == (not wanted or any(w in prefixes(name) for w in wanted))
    # a NAME that matched an excluded member was found all the same (no error for it)
    assert set(sel.unmatched()) == {w for w in wanted if w not in prefixes(name)}
