"""Helpers for the tar tests: a sample tree and a comparable snapshot of a tree."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

LONG_DIR = "d" * 120 + "/" + "e" * 110
LONG_FILE = "f" * 150 + ".txt"


def make_tree(root: Path, *, long_names: bool = True) -> Path:
    """Files with modes and mtimes, long and unicode names, symlinks, hardlinks, an empty dir."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_bytes(b"hello\n" * 1000)
    (root / "empty.bin").write_bytes(b"")
    (root / "sub" / "rand.bin").write_bytes(os.urandom(300_000))
    (root / "sub" / "deeper" / "x.py").write_text("print('x')\n")
    (root / "sub" / "deeper" / "x.py").chmod(0o755)
    (root / "secret").write_bytes(b"s")
    (root / "secret").chmod(0o600)
    (root / "héllo wörld ✓.txt").write_text("unicode\n", encoding="utf-8")
    (root / "日本語").mkdir()
    (root / "日本語" / "ファイル").write_bytes(b"jp")
    (root / "link-to-a").symlink_to("a.txt")
    (root / "sub" / "link-up").symlink_to("../a.txt")
    (root / "sub" / "dirlink").symlink_to("deeper")
    os.link(root / "a.txt", root / "hard-a")
    if long_names:
        (root / LONG_DIR).mkdir(parents=True)
        (root / LONG_DIR / LONG_FILE).write_bytes(b"long")
        (root / ("L" * 200)).symlink_to(LONG_DIR + "/" + LONG_FILE)
    for i, p in enumerate(sorted(root.rglob("*"), key=lambda p: -len(p.parts))):
        t = 1_600_000_000 + i * 1000
        os.utime(p, (t, t), follow_symlinks=False)
    os.utime(root, (1_600_000_000, 1_600_000_000))
    return root


def snapshot(root: Path, *, dir_mtimes: bool = True) -> dict[str, Any]:
    """path -> (kind, mode, content hash or link target, mtime seconds), plus hardlink groups."""
    out: dict[str, Any] = {}
    inodes: dict[int, list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", mode, int(st.st_mtime) if dir_mtimes else 0)
            else:
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("f", mode, digest, int(st.st_mtime))
                inodes.setdefault(st.st_ino, []).append(rel)
    out["<hardlinks>"] = sorted(sorted(v) for v in inodes.values() if len(v) > 1)
    return out
