"""What the paper scripts share: the --smoke switch, the output folder and the strip of pictures.

``--smoke`` runs a script end to end on seeded random weights and tiny sizes (CI does, so the
scripts cannot rot). Its pictures go to a temporary folder and are never a result: the line
it prints says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")
STYLES = os.path.join(ROOT, "examples", "styles")
sys.path.insert(0, ROOT)


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--output", default=None, help="folder for the figure and its numbers (default: papers-out/)"
    )
    p.add_argument(
        "--smoke",
        action="store_true",
        help="seeded random weights, tiny sizes, a temporary folder: tests only",
    )
    return p


def output_folder(args, name: str) -> str:
    if args.smoke:
        folder = tempfile.mkdtemp(prefix=f"tfstyle-{name}-smoke-")
    else:
        folder = args.output or os.path.join("papers-out", name)
    os.makedirs(folder, exist_ok=True)
    return folder


def done(args, path: str, what: str) -> None:
    if args.smoke:
        print(f"smoke run: random weights and tiny sizes, so {path} is not a result ({what})")
    else:
        print(f"wrote {path}: {what}")


def strip(images, height: int = 256, gap: int = 6) -> np.ndarray:
    """Pictures side by side at one height, white gaps."""
    from tfstyle.image import resize

    tiles = [
        resize(np.asarray(i, np.float32), (height, max(1, round(i.shape[1] * height / i.shape[0]))))
        for i in images
    ]
    spacer = np.ones((height, gap, 3), np.float32)
    return np.concatenate(
        [x for t in tiles for x in (t if t.ndim == 3 else np.repeat(t[..., None], 3, -1), spacer)][:-1],
        axis=1,
    )


def cli(*argv) -> None:
    """Run a `tfstyle` command (the same code users run); stop on a refusal."""
    from tfstyle.cli import main

    code = main([str(a) for a in argv])
    if code:
        raise SystemExit(code)
