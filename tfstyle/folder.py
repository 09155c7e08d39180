"""Stylizing every image of a folder tree: one failure never stops the rest.

    report = stylize_folder(lambda image: stylizer.stylize(image, style_features=wave),
                            "photos/", "stylized/", max_size=1024)

Outputs mirror the input tree as PNG. Names stay unique and deterministic:
``a.jpg`` and ``a.png`` become ``a.jpg.png`` and ``a.png.png`` when both exist,
otherwise ``a.png``. An output folder inside the input folder is skipped.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from typing import Optional

import numpy as np

from tfstyle import image as image_lib
from tfstyle.errors import TfstyleError


@dataclasses.dataclass
class FolderReport:
    written: list[str]
    failed: list[tuple[str, str]]  # (input path, one-line reason)
    seconds: float


def output_paths(inputs: list[str], input_dir: str, output_dir: str) -> dict[str, str]:
    """Input path → PNG output path mirroring the tree, unique for files sharing a stem."""
    stems = collections.Counter(os.path.splitext(os.path.relpath(p, input_dir))[0] for p in inputs)
    paths = {}
    for path in inputs:
        rel = os.path.relpath(path, input_dir)
        stem = os.path.splitext(rel)[0]
        paths[path] = os.path.join(output_dir, (rel if stems[stem] > 1 else stem) + ".png")
    return paths


def stylize_folder(
    stylize: Callable[[np.ndarray], np.ndarray],
    input_dir: str,
    output_dir: str,
    *,
    max_size: int,
    max_pixels: int = image_lib.DEFAULT_MAX_PIXELS,
    progress: bool = True,
    on_error: Optional[Callable[[str, str], None]] = None,
) -> FolderReport:
    """Run `stylize` ([H, W, 3] → [H, W, 3], both in [0, 1]) on every image under `input_dir`.

    Each image is loaded (refused with a reason if unreadable), fitted to
    `max_size` (never enlarged), stylized and saved atomically. `on_error`
    is called with (path, reason) per failed image (default: one stderr line).
    """
    inputs = image_lib.list_images(input_dir, skip=output_dir)
    if not inputs:
        raise TfstyleError(f"{input_dir}: no images ({', '.join(image_lib.IMAGE_EXTENSIONS)}) in this folder")
    report = on_error or (lambda path, reason: print(f"tfstyle: error: {reason}", file=sys.stderr))
    bar = None
    if progress:
        import keras

        # Keras' bar redraws with control characters; a pipe gets a line per image.
        bar = keras.utils.Progbar(len(inputs), unit_name="image", verbose=1 if sys.stdout.isatty() else 2)
    started = time.perf_counter()
    written, failed = [], []
    for i, (path, out_path) in enumerate(output_paths(inputs, input_dir, output_dir).items()):
        try:
            content = image_lib.load_image(path, max_pixels=max_pixels)
            result = stylize(image_lib.fit(content, max_size, upscale=False))
            os.makedirs(os.path.dirname(out_path), exist_ok=True)
            image_lib.save_image(out_path, result)
            written.append(out_path)
        except TfstyleError as e:
            failed.append((path, str(e)))
            report(path, str(e))
        if bar is not None:
            bar.update(i + 1)
    return FolderReport(written, failed, time.perf_counter() - started)
