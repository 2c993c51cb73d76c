"""``python -m chute``: the same as the ``chute`` command."""

from .cli import run

run()
