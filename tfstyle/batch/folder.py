"""Stylizing every image of a folder tree: one failure never stops the rest.

    report = stylize_folder(lambda image: stylizer.stylize(image, encoded=wave),
                            "photos/", "stylized/", max_size=1024)

Outputs mirror the input tree as PNG. Names stay unique and deterministic:
``a.jpg`` and ``a.png`` become ``a.jpg.png`` and ``a.png.png`` when both exist,
otherwise ``a.png``. An output folder inside the input folder is skipped.
"""

from __future__ import annotations

import collections
import concurrent.futures
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


def output_stem(relative: str) -> str:
    """The part of an input's path (relative to the input folder) that names its output."""
    return os.path.splitext(relative)[0]


def output_name(relative: str, output_dir: str, shared_stem: bool) -> str:
    """The PNG output of one input: ``a.jpg`` → ``a.png``, or ``a.jpg.png`` when another input
    shares the stem (``a.png``). The one naming rule of folder mode and `bulk`."""
    return os.path.join(output_dir, (relative if shared_stem else output_stem(relative)) + ".png")


def output_paths(inputs: list[str], input_dir: str, output_dir: str) -> dict[str, str]:
    """Input path → PNG output path mirroring the tree, unique for files sharing a stem."""
    stems = collections.Counter(output_stem(os.path.relpath(p, input_dir)) for p in inputs)
    paths = {}
    for path in inputs:
        rel = os.path.relpath(path, input_dir)
        paths[path] = output_name(rel, output_dir, stems[output_stem(rel)] > 1)
    return paths


def folder_inputs(input_dir: str, output_dir: str) -> list[str]:
    """The images under `input_dir` (an `output_dir` inside it left out); refuses none."""
    inputs = image_lib.list_images(input_dir, skip=output_dir)
    if not inputs:
        raise TfstyleError(f"{input_dir}: no images ({', '.join(image_lib.IMAGE_EXTENSIONS)}) in this folder")
    return inputs


def stylize_folder(
    stylize: Callable[[np.ndarray], np.ndarray],
    input_dir: str,
    output_dir: str,
    *,
    max_size: int,
    max_pixels: int = image_lib.DEFAULT_MAX_PIXELS,
    progress: bool = True,
    on_error: Optional[Callable[[str, str], None]] = None,
    inputs: Optional[list[str]] = None,
) -> FolderReport:
    """Run `stylize` ([H, W, 3] → [H, W, 3], both in [0, 1]) on every image under `input_dir`.

    Each image is loaded (refused with a reason if unreadable or too small at
    `max_size`), fitted to `max_size` (never enlarged), stylized and saved
    atomically. Progress: a bar on a terminal, one plain line per image otherwise. `on_error`
    is called with (path, reason) per failed image (default: one stderr line).
    `inputs`: the `folder_inputs` already listed (default: list them now).
    """
    if inputs is None:
        inputs = folder_inputs(input_dir, output_dir)
    report = on_error or (lambda path, reason: print(f"tfstyle: error: {reason}", file=sys.stderr))
    bar = None
    if progress and sys.stdout.isatty():
        import keras

        bar = keras.utils.Progbar(len(inputs), unit_name="image")
    started = time.perf_counter()
    written: list[str] = []
    failed: list[tuple[str, str]] = []
    items = list(output_paths(inputs, input_dir, output_dir).items())

    def load(path):
        try:
            return image_lib.load_fitted(path, max_size, max_pixels=max_pixels), None
        except TfstyleError as e:
            return None, str(e)

    def save(out_path, result):
        os.makedirs(os.path.dirname(out_path), exist_ok=True)
        image_lib.save_image(out_path, result)

    def finish(i, path, out_path, error, saving):
        if saving is not None:
            try:
                saving.result()
            except TfstyleError as e:
                error = str(e)
        if error is None:
            written.append(out_path)
        else:
            failed.append((path, error))
            report(path, error)
        if bar is not None:
            bar.update(i + 1)
        elif progress:  # a pipe or a log file: one plain line per image, no control characters
            print(f"[{i + 1}/{len(inputs)}] {path} -> {out_path if error is None else 'failed'}", flush=True)

    # One I/O thread decodes the next image and writes the previous result while the
    # network runs on this one (TensorFlow and the codecs release the GIL).
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as io:
        loading = io.submit(load, items[0][0]) if items else None
        previous = None
        for i, (path, out_path) in enumerate(items):
            assert loading is not None
            image, error = loading.result()
            if i + 1 < len(items):
                loading = io.submit(load, items[i + 1][0])
            result = None
            if error is None:
                try:
                    result = stylize(image)
                except TfstyleError as e:
                    error = str(e)
            if previous is not None:
                finish(*previous)
            saving = io.submit(save, out_path, result) if result is not None else None
            previous = (i, path, out_path, error, saving)
        if previous is not None:
            finish(*previous)
    return FolderReport(written, failed, time.perf_counter() - started)
