"""The ``tfstyle`` command: parse, call one library function, report.

Each verb is a module of this package with ``add_parser(subparsers)`` and
``run(args) → exit code``. Building the parser imports no TensorFlow, so
``tfstyle --help``, ``tfstyle weights list`` and every usage error answer at
once; a verb imports the library when it runs. Bad input prints one line,
``tfstyle: error: ...``, on stderr and exits with `EXIT_BAD_INPUT` without
writing any output file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Optional

from tfstyle import __version__
from tfstyle.cli import depth, optimize, portrait, segment, stylize, weights
from tfstyle.errors import EXIT_BAD_INPUT, TfstyleError

VERBS = (optimize, stylize, portrait, depth, segment, weights)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfstyle",
        description="Neural style transfer for TensorFlow/Keras, aware of portraits and depth.",
    )
    parser.add_argument("--version", action="version", version=f"tfstyle {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for verb in VERBS:
        verb.add_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out
    from absl import logging

    logging.set_verbosity(logging.INFO)
    try:
        return args.run(args)
    except TfstyleError as e:
        print(f"tfstyle: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tfstyle: interrupted; no output written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
