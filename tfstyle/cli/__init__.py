"""The ``tfstyle`` command: parse, call one library function, report.

Each verb is a module of this package with ``add_parser(subparsers)`` and
``run(args) → exit code``. Building the parser imports no TensorFlow, so
``tfstyle --help``, ``tfstyle weights list`` and every usage error answer at
once; a verb imports the library when it runs. Bad input — a usage error
too — prints one line, ``tfstyle: error: ...``, on stderr and exits with
`EXIT_BAD_INPUT` without writing any output file. TensorFlow's C++ start-up
lines are hidden unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Optional

from tfstyle import __version__
from tfstyle.cli import depth, faces, optimize, portrait, segment, stylize, video, weights
from tfstyle.errors import EXIT_BAD_INPUT, TfstyleError

VERBS = (optimize, stylize, portrait, video, depth, segment, faces, weights)


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), for every verb's parser too."""

    def error(self, message):
        if "expected one argument" in message:
            message += "; write a value that starts with '-' as --option=VALUE"
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tfstyle",
        description="Neural style transfer for TensorFlow/Keras, aware of portraits and depth.",
    )
    parser.add_argument("--version", action="version", version=f"tfstyle {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for verb in VERBS:
        verb.add_parser(sub)
    for verb_parser in sub.choices.values():
        verb_parser.add_argument(
            "--verbose", action="store_true", help="also show TensorFlow's own start-up messages"
        )
    return parser


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and initialise its devices with stderr closed at the file-descriptor
    level: TF 2.21 prints its C++ start-up lines (oneDNN, CUDA probing, cuInit) whatever
    TF_CPP_MIN_LOG_LEVEL says. Python errors raised here still reach the user."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.constant(0.0)  # creates the eager context: the CUDA probe happens now
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from absl import logging

    logging.set_verbosity(logging.INFO)
    if not args.verbose and "tensorflow" not in sys.modules and getattr(args, "action", "") != "list":
        import_tensorflow_quietly()
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
