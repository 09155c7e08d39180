"""Running the absl programs (`training/`, `export/`) with the command's error contract.

A `TfstyleError` raised anywhere in ``main`` prints one line, ``PROGRAM: error:
...``, on stderr and exits with `EXIT_BAD_INPUT`; no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from tfstyle.errors import EXIT_BAD_INPUT, TfstyleError


def run(main: Callable, program: str) -> None:
    """`absl.app.run(main)`, turning a `TfstyleError` into one stderr line and exit status 2."""
    from absl import app

    def guarded(argv):
        try:
            return main(argv)
        except TfstyleError as e:
            print(f"{program}: error: {e}", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)

    app.run(guarded)
