"""``python -m chute``: the same as the ``chute`` command."""

import sys

from .cli import main

sys.exit(main())
