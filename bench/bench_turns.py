"""Any commands, in turns: median wall and CPU time of each, as ratios to the first.

    python bench/bench_turns.py ROUNDS 'NATIVE COMMAND' 'CHUTE COMMAND' [MORE...]

Each round runs every command once, in the order given, each a fresh process through the
shell with its output to /dev/null (:func:`_util.measure`); a slow spell of a shared
machine then falls on all of them. Prints, per command, the median wall time and the
median CPU time (user + system) of the rounds and their ratios to the first command's.
For one-off comparisons the other scripts do not cover (``chute -l`` against ``xz -l``,
one row of bench_core against an older copy of chute...).
"""

from __future__ import annotations

import statistics
import sys

from _util import measure


def main() -> None:
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    rounds, cmds = int(sys.argv[1]), sys.argv[2:]
    runs: list[list[tuple[float, float]]] = [[] for _ in cmds]
    for _ in range(rounds):
        for i, cmd in enumerate(cmds):
            r = measure(cmd)
            runs[i].append((r.seconds, r.cpu))
    walls = [statistics.median(w for w, _ in r) for r in runs]
    cpus = [statistics.median(c for _, c in r) for r in runs]
    print(f"{rounds} rounds in turns, medians")
    print("| command | wall s | wall ratio | CPU s | CPU ratio |")
    print("|---|---|---|---|---|")
    for cmd, wall, cpu in zip(cmds, walls, cpus, strict=True):
        print(f"| `{cmd}` | {wall:.3f} | {wall / walls[0]:.2f}x | {cpu:.3f} | {cpu / cpus[0]:.2f}x |")


if __name__ == "__main__":
    main()
