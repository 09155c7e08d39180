"""`tfstyle stylize` and `tfstyle weights import-sanet` end to end (random weights)."""

import shutil

import keras
import numpy as np
import pytest
from helpers import PAINTING, PORTRAIT

from tfstyle.cli import main
from tfstyle.image import load_image
from tfstyle.models.sanet import SANetStylizer
from tfstyle.models.sanet_weights import save_weights_dir


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sanet-weights")
    keras.utils.set_random_seed(7)  # its own weights, whatever ran before on this worker
    save_weights_dir(SANetStylizer(dtype="float32"), str(directory))
    return directory


def stylize(tmp_path, weights_dir, *extra, output="out.png", content=PORTRAIT):
    out = tmp_path / output
    argv = [
        "stylize",
        "--content",
        str(content),
        "--output",
        str(out),
        "--weights",
        str(weights_dir),
        "--max-size",
        "64",
        "--precision",
        "float32",
        "--quiet",
        *extra,
    ]
    return main(argv), out


def test_stylize_one_image(tmp_path, weights_dir):
    code, out = stylize(tmp_path, weights_dir, "--style", str(PAINTING))
    assert code == 0 and load_image(out).shape == (64, 55, 3)


def test_cached_style_features_give_the_same_image(tmp_path, weights_dir):
    npz = tmp_path / "wave.npz"
    code, first = stylize(
        tmp_path, weights_dir, "--style", str(PAINTING), "--save-style-features", str(npz), output="a.png"
    )
    assert code == 0 and npz.exists()
    code, second = stylize(tmp_path, weights_dir, "--style-features", str(npz), output="b.png")
    assert code == 0
    np.testing.assert_array_equal(load_image(first), load_image(second))


def test_mixing_masks_and_controls(tmp_path, weights_dir):
    from PIL import Image

    Image.new("L", (10, 10), 255).save(tmp_path / "all.png")
    Image.new("L", (10, 10), 0).save(tmp_path / "none.png")
    code, out = stylize(
        tmp_path,
        weights_dir,
        "--style",
        str(PAINTING),
        "--style",
        str(PORTRAIT),
        "--mask",
        str(tmp_path / "all.png"),
        "--mask",
        str(tmp_path / "none.png"),
        "--alpha",
        "0.6",
        "--level-weights",
        "1,0.5",
        "--preserve-color",
        "luminance",
    )
    assert code == 0 and out.exists()


def test_folder_of_contents_skips_bad_files_and_exits_2(tmp_path, weights_dir, capsys):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(PORTRAIT, folder / "a.jpg")
    shutil.copy(PAINTING, folder / "sub" / "b.jpg")
    (folder / "broken.png").write_bytes(b"not a png")
    code, out = stylize(tmp_path, weights_dir, "--style", str(PAINTING), output="results", content=folder)
    assert code == 2
    assert (out / "a.png").exists() and (out / "sub" / "b.png").exists()
    assert not (out / "broken.png").exists()
    err = capsys.readouterr().err
    assert "broken.png" in err and "1 of 3 images failed" in err


@pytest.mark.parametrize(
    "extra,fragment",
    [
        ([], "pass one of --style, --style-features or --builtin-style"),
        (["--style", str(PAINTING), "--level-weights", "1,2,3"], "two numbers"),
        (["--style", str(PAINTING), "--alpha", "2"], "alpha must be in [0, 1]"),
        (["--style-features", "/nonexistent.npz"], "no such style-features file"),
        (["--style", "/nonexistent.jpg"], "no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, weights_dir, capsys, extra, fragment):
    code, out = stylize(tmp_path, weights_dir, *extra)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and fragment in err[0], err
    assert not out.exists()


def test_missing_weights_folder_says_how_to_get_them(tmp_path, capsys, offline):
    code = main(
        [
            "stylize",
            "--content",
            str(PORTRAIT),
            "--style",
            str(PAINTING),
            "--output",
            str(tmp_path / "out.png"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "tfstyle-sanet" in err[0] and "import-sanet" in err[0]
    assert not (tmp_path / "out.png").exists()


def test_import_sanet_command_writes_what_stylize_reads(tmp_path, offline):
    pytest.importorskip("torch", reason="needs PyTorch: pip install 'tfstyle[torch]'")
    from reference.torch_sanet import save_published_files, seeded_reference

    paths = save_published_files(seeded_reference(0), tmp_path)
    assert (
        main(
            [
                "weights",
                "import-sanet",
                "--vgg",
                paths["vgg"],
                "--decoder",
                paths["decoder"],
                "--transformer",
                paths["transformer"],
            ]
        )
        == 0
    )
    out = tmp_path / "out.png"
    assert (
        main(
            [
                "stylize",
                "--content",
                str(PORTRAIT),
                "--style",
                str(PAINTING),
                "--output",
                str(out),
                "--max-size",
                "64",
                "--precision",
                "float32",  # auto would probe these weights first: not this test's point
                "--quiet",
            ]
        )
        == 0
    )
    assert out.exists()
