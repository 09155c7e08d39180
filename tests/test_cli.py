"""`tfstyle optimize` end to end, and every bad-input case: exit 2, one line, no file."""

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import PAINTING, PORTRAIT

from tfstyle.cli import main
from tfstyle.image import load_image

FAST = ["--size", "48", "--steps", "3", "--quiet", "--precision", "float32"]


def run_optimize(tmp_path, *extra, content=PORTRAIT, style=PAINTING, output="out.png"):
    out = tmp_path / output
    argv = ["optimize", "--content", str(content), "--style", str(style), "--output", str(out), *FAST, *extra]
    return main(argv), out


def test_end_to_end_with_random_weights(tmp_path, capsys):
    code, out = run_optimize(tmp_path, "--vgg-weights", "random", "--snapshot-every", "2")
    assert code == 0
    image = load_image(out)
    assert max(image.shape[:2]) == 48
    assert (tmp_path / "out.step00002.png").exists()
    assert "wrote" in capsys.readouterr().out


def test_console_script_exit_code_and_message(tmp_path):
    """The real entry point, in a fresh process: stderr is one error line, exit 2."""
    out = tmp_path / "out.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfstyle",
            "optimize",
            "--content",
            str(tmp_path / "missing.jpg"),
            "--style",
            str(PAINTING),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("tfstyle: error:")]
    assert errors == [f"tfstyle: error: {tmp_path / 'missing.jpg'}: no such file; check the path"]
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def bad_files(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    data = PORTRAIT.read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    from PIL import Image

    Image.new("RGB", (20, 12)).save(tmp_path / "tiny.png")


CASES = {
    "missing content": (dict(content="missing.jpg"), [], "no such file"),
    "empty content": (dict(content="empty.jpg"), [], "empty"),
    "non-image style": (dict(style="text.jpg"), [], "not an image"),
    "truncated content": (dict(content="cut.jpg"), [], "truncated"),
    "too small style": (dict(style="tiny.png"), [], "too small"),
    "too many pixels": (dict(), ["--max-pixels", "1000"], "exceeds the limit"),
    "unknown output ext": (dict(output="out.gif"), [], "unknown output extension"),
    "missing output folder": (dict(output="nope/out.png"), [], "does not exist"),
    "missing weights file": (dict(), ["--vgg-weights", "/nonexistent/vgg.h5"], "no such file"),
    "unknown layer": (
        dict(),
        ["--content-layers", "relu9_1", "--vgg-weights", "random"],
        "blocks are numbered 1 to 5",
    ),
    "negative weight": (dict(), ["--style-weight", "-1", "--vgg-weights", "random"], ">= 0"),
    "layer weights count": (
        dict(),
        ["--style-layer-weights", "1,2", "--vgg-weights", "random"],
        "one per layer",
    ),
    "size below network minimum": (dict(), ["--size", "8"], "too small"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_one_line_and_no_file(tmp_path, capsys, case):
    bad_files(tmp_path)
    paths, extra, fragment = CASES[case]
    kwargs = {k: tmp_path / v if k != "output" else v for k, v in paths.items()}
    code, out = run_optimize(tmp_path, *extra, **kwargs)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("tfstyle: error: ") and fragment in err[0], err
    assert not out.exists()
    assert not [
        p for p in tmp_path.rglob("*") if p.suffix in (".png", ".gif", ".part") and p.name != "tiny.png"
    ]


def test_offline_default_weights_message(tmp_path, capsys, offline):
    code, out = run_optimize(tmp_path)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    for fragment in (
        "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "https://",
        str(offline / "models"),
        "--vgg-weights PATH",
    ):
        assert fragment in err[0]
    assert not out.exists()


def test_weights_list_shows_every_weight_the_library_loads(capsys, offline):
    assert main(["weights", "list"]) == 0
    text = capsys.readouterr().out
    # the names every loader in the library resolves through
    for name in (
        "vgg19-imagenet",
        "vgg16-imagenet",
        "selfie-segmentation",
        "sanet",
        "hourglass-depth",
        "segnet",
    ):
        assert f"{name}:" in text
    assert "not cached" in text and "PATH PATH" not in text


def test_fetch_of_a_local_only_weight_says_how_to_make_it(capsys, offline):
    assert main(["weights", "fetch", "sanet"]) == 2
    assert "import-sanet" in capsys.readouterr().err


def test_preserve_color_and_lbfgs_run(tmp_path):
    code, out = run_optimize(
        tmp_path,
        "--vgg-weights",
        "random",
        "--optimizer",
        "lbfgs",
        "--preserve-color",
        "--init",
        "noise",
        "--scales",
        "2",
        "--size",
        "80",  # two levels: 68x80 and 34x40, both at least 32 px
        output="out.jpg",
    )
    assert code == 0 and load_image(out).shape[:2] == (80, 68)
    assert np.isfinite(load_image(out)).all()


def test_missing_optional_package_names_the_install_line(monkeypatch, capsys, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    code = main(["segment", "--input", str(PORTRAIT), "--output", str(tmp_path / "m.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "pip install 'ai-edge-litert' (from a clone: pip install -e '.[export]')" in err[0]
    assert not (tmp_path / "m.png").exists()
