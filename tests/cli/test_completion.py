"""Shell completions and the manual page, generated from the commands' own option specs:
bash and a real interactive zsh complete words with their scripts, groff renders the page cleanly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chute.cli.completion import commands, script
from chute.cli.manpage import page

CHUTE = [sys.executable, "-m", "chute"]


def complete(words: list[str], cwd: Path) -> list[str]:
    """What the bash script offers for the last of ``words`` (bash run for real)."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (
        f'source /dev/stdin <<<"$SCRIPT"; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; '
        '_chute; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    r = subprocess.run(["bash", "-c", program], cwd=cwd, capture_output=True, text=True, env={"SCRIPT": script("bash")})
    assert r.returncode == 0, r.stderr
    return [x for x in r.stdout.splitlines() if x]


def test_bash_accepts_the_script(tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    out = subprocess.run([*CHUTE, "completion", "bash"], capture_output=True, check=True).stdout
    (tmp_path / "chute.bash").write_bytes(out)
    assert subprocess.run(["bash", "-n", str(tmp_path / "chute.bash")]).returncode == 0


def test_bash_completes_words(tmp_path: Path) -> None:
    (tmp_path / "a.tar").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    assert complete(["chute", "pa"], tmp_path) == ["pack"]
    assert "--keep-old-files" in complete(["chute", "unpack", "a.tar", "--ke"], tmp_path)
    assert complete(["chute", "completion", ""], tmp_path) == ["bash", "zsh", "fish"]
    assert complete(["chute", "unpack", "a.tar", "-C", ""], tmp_path) == ["sub"]  # folders only
    assert "a.tar" in complete(["chute", "ls", "a"], tmp_path)
    assert "--decompress" in complete(["chute", "--dec"], tmp_path)
    assert "--decompress" not in complete(["chute", "pack", "--dec"], tmp_path)


def test_every_option_is_in_every_script() -> None:
    """Generated, not written by hand: an option of any command shows up in each script."""
    scripts = {shell: script(shell) for shell in ("bash", "zsh", "fish")}
    for c in commands():
        for o in c.options:
            for name in o.names:
                assert name in scripts["bash"] and name in scripts["zsh"], name
                short_or_long = f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}"
                assert short_or_long in scripts["fish"] or f"-o {name[1:]}" in scripts["fish"], name


@pytest.mark.parametrize(("shell", "check"), [("zsh", ["zsh", "-n"]), ("fish", ["fish", "--no-execute"])])
def test_other_shells_accept_their_script(tmp_path: Path, shell: str, check: list[str]) -> None:
    if shutil.which(check[0]) is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / f"chute.{shell}"
    path.write_text(script(shell))
    r = subprocess.run([*check, str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_manpage_renders_without_warnings(tmp_path: Path) -> None:
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed (apt install groff-base)")
    out = subprocess.run([*CHUTE, "manpage"], capture_output=True, check=True).stdout
    assert out == page().encode()
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=out, capture_output=True)
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    text = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou"], input=out, capture_output=True, check=True).stdout
    for words in (b"chute unpack", b"--keep-old-files", b"--wildcards", b"EXIT STATUS", b"--files-from"):
        assert words in text, words


def test_man_reads_the_page(tmp_path: Path) -> None:
    if shutil.which("man") is None:
        pytest.skip("man is not installed (apt install man-db)")
    page_file = tmp_path / "chute.1"
    page_file.write_text(page())
    r = subprocess.run(
        ["man", "-l", str(page_file)], capture_output=True, env={"MANPAGER": "cat", "PATH": "/usr/bin:/bin"}
    )
    assert r.returncode == 0 and b"chute pack" in r.stdout.replace(b"\x08", b"")


def test_fish_completes_words(tmp_path: Path) -> None:
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    path = tmp_path / "chute.fish"
    path.write_text(script("fish"))

    def offered(line: str) -> list[str]:
        r = subprocess.run(["fish", "-c", f"source {path}; complete -C '{line}'"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return [x.split("\t")[0] for x in r.stdout.splitlines()]

    assert "--keep-old-files" in offered("chute unpack a.tar --ke")
    assert offered("chute pa") == ["pack"]
    assert sorted(offered("chute completion ")) == ["bash", "fish", "zsh"]
    assert "--decompress" in offered("chute --dec") and "--decompress" not in offered("chute pack --dec")


#: Types LINE and a Tab into an interactive zsh (driven through a pseudo-terminal by
#: zsh's own zpty module) whose completion system loads DIR/_chute, as a user's would
#: after `chute completion zsh > "${fpath[1]}/_chute"`; prints the function compinit
#: registered for chute, then what the terminal shows after the Tab.
ZSH_DRIVER = r"""
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "stty columns 250; PS1='%% '; fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "print -r -- \"\${_comps[chute]}@\"READY"
zpty -r z line '*@READY*' || exit 4
line=${line%%@READY*}
print -r -- "function: ${line##*[$'\n\r']}"
zpty -w -n z "$2"$'\t'
integer quiet=0 waited=0
while (( quiet < 5 && waited < 100 )); do
  if zpty -r -t z line; then
    print -rn -- "$line"; quiet=0
  else
    sleep 0.1; (( quiet++ )); (( waited++ ))
  fi
done
zpty -d z
"""


@pytest.fixture(scope="module")
def zsh_functions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import tool_path

    tool_path("zsh")
    folder = tmp_path_factory.mktemp("zsh-functions")
    (folder / "_chute").write_text(script("zsh"))
    (folder / "driver.zsh").write_text(ZSH_DRIVER)
    return folder


def zsh_tab(folder: Path, line: str) -> tuple[str, str]:
    """(the completion function compinit registered for chute, the screen after
    typing ``line`` and a Tab), escape sequences removed."""
    import re

    r = subprocess.run(
        ["zsh", "-f", str(folder / "driver.zsh"), str(folder), line],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
    )
    assert r.returncode == 0, r.stderr
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\r\a]", "", r.stdout)
    head, _, rest = screen.partition("\n")
    return head.removeprefix("function: "), rest


def test_zsh_registers_the_function(zsh_functions: Path) -> None:
    function, _ = zsh_tab(zsh_functions, "chute -")
    assert function == "_chute"


def test_zsh_completes_subcommands_with_their_descriptions(zsh_functions: Path) -> None:
    _, screen = zsh_tab(zsh_functions, "chute ")
    for command in commands()[1:]:
        assert f"\n{command.name} " in screen, command.name
    assert "unpack       -- Extract a (compressed) tar archive safely." in screen


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("chute --rsy", "chute --rsyncable "),  # one match: inserted
        ("chute --no-", "--no-content-size  -- zstd: do not record it"),  # several: listed
        ("chute completion ", "bash  fish  zsh"),  # fixed choices of an argument
        ("chute unpack --policy ", "data     default  trust"),  # a subcommand's option values
        ("chute unpack --to-s", "chute unpack --to-stdout "),
    ],
)
def test_zsh_completes_options(zsh_functions: Path, line: str, shown: str) -> None:
    _, screen = zsh_tab(zsh_functions, line)
    assert shown in screen, screen
