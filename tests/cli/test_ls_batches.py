"""``chute ls`` checks a whole batch of names for quoting at once: names that need quotes,
wherever they fall among plain ones, are quoted as GNU tar quotes them, the others not."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from chute.quoting import quote_bytes

CHUTE = [sys.executable, "-m", "chute"]
ODD = [b"back\\slash", b"new\nline", b"tab\there", b"\xff\xfe-not-utf8", b"bell\a", b"del\x7f"]


def _archive(path: Path, names: list[bytes], compress: bool) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8") as tf:
        for raw in names:
            ti = tarfile.TarInfo(raw.decode("utf-8", "surrogateescape"))
            ti.size = 3
            tf.addfile(ti, io.BytesIO(b"abc"))
    data = buf.getvalue()
    if compress:
        import chute

        data = chute.compress(data, format="zstd")
    path.write_bytes(data)


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(st.sampled_from([b"plain", b"d/plain-2", *ODD]), min_size=1, max_size=40), st.booleans())
def test_listing_quotes_each_name_as_alone(names: list[bytes], compress: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        arc = Path(tmp, "a.tar.zst" if compress else "a.tar")
        _archive(arc, [b"%s-%d" % (n, i) for i, n in enumerate(names)], compress)
        out = subprocess.run([*CHUTE, "ls", str(arc)], capture_output=True, check=True).stdout
        literal = subprocess.run([*CHUTE, "ls", "--null", str(arc)], capture_output=True, check=True).stdout
    expected = [b"%s-%d" % (n, i) for i, n in enumerate(names)]
    assert out == b"".join(quote_bytes(n) + b"\n" for n in expected)
    assert literal == b"".join(n + b"\0" for n in expected)


@pytest.mark.skipif(subprocess.run(["which", "tar"], capture_output=True).returncode, reason="GNU tar not installed")
def test_many_names_as_gnu_tar_lists_them(tmp_path: Path) -> None:
    """3,000 names over several batches, odd ones among them: the lines of ``tar -tf``."""
    names = [(ODD[i % len(ODD)] if i % 97 == 0 else b"f") + b"-%d" % i for i in range(3000)]
    arc = tmp_path / "a.tar.zst"
    _archive(arc, names, compress=True)
    ours = subprocess.run([*CHUTE, "ls", str(arc)], capture_output=True, check=True).stdout
    plain = tmp_path / "a.tar"
    plain.write_bytes(subprocess.run(["zstd", "-dcq", str(arc)], capture_output=True, check=True).stdout)
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    theirs = subprocess.run(["tar", "-tf", str(plain)], capture_output=True, check=True, env=env).stdout
    assert ours == theirs
