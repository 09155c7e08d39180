"""Odd and hostile input: one line naming the problem and the fix, exit 2, no traceback,
nothing written, and — where the problem is knowable up front — no network built."""

import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
from helpers import PAINTING, PORTRAIT
from PIL import Image

from tfstyle.cli import build_parser, main
from tfstyle.models.sanet import SANetStylizer
from tfstyle.models.sanet_weights import save_weights_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sanet-weights")
    keras.utils.set_random_seed(7)  # its own weights, whatever ran before on this worker
    save_weights_dir(SANetStylizer(dtype="float32"), str(directory))
    return directory


@pytest.fixture
def readonly(tmp_path):
    """A folder nobody can write in, root included (immutable where we are root)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("chattr +i is not available here (needed to make a folder root cannot write)")
        yield folder
        subprocess.run(["chattr", "-i", str(folder)])
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def refused(argv, capsys, fragment):
    """Run the command; it must exit 2 with exactly one line containing `fragment`."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's usage errors
        code = e.code
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    errors = [line for line in err if "error:" in line]
    assert code == 2 if code is not None else False
    assert len(errors) == 1 and fragment in errors[0], err
    assert not any("Traceback" in line for line in err)
    return errors[0]


def files_under(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


# -- outputs -----------------------------------------------------------------------


def image_commands(out, weights_dir):
    """(argv) of every command writing `out`, up to the point of writing."""
    sanet = ["--weights", weights_dir, "--max-size", "64"]
    return {
        "optimize": [
            "optimize",
            "--content",
            PORTRAIT,
            "--style",
            PAINTING,
            "--output",
            out,
            "--size",
            "48",
            "--steps",
            "1",
            "--vgg-weights",
            "random",
            "--quiet",
        ],
        "stylize": ["stylize", "--content", PORTRAIT, "--style", PAINTING, "--output", out, *sanet],
        "portrait": ["portrait", "--content", PORTRAIT, "--style", PAINTING, "--output", out, *sanet],
        "segment": ["segment", "--input", PORTRAIT, "--output", out],
        "depth": ["depth", "--input", PORTRAIT, "--output", out, "--depth-weights", "random"],
    }


@pytest.mark.parametrize("command", ["optimize", "stylize", "portrait", "segment", "depth"])
def test_unwritable_output_folder_is_refused_first(command, readonly, weights_dir, capsys, no_network):
    argv = image_commands(readonly / "out.png", weights_dir)[command]
    refused(argv, capsys, "cannot write in")
    assert files_under(readonly) == []


@pytest.mark.parametrize(
    "extra,option",
    [
        (["--save-style-features", "{ro}/f.npz"], "--save-style-features"),
        (["--output", "{ro}/sub"], "--output"),  # folder mode into an unwritable place
    ],
)
def test_unwritable_side_outputs_are_refused_first(
    extra, option, readonly, weights_dir, tmp_path, capsys, no_network
):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.open(PORTRAIT).save(folder / "a.png")
    content = folder if option == "--output" else PORTRAIT
    argv = [
        "stylize",
        "--content",
        content,
        "--style",
        PAINTING,
        "--weights",
        weights_dir,
        *[e.format(ro=readonly) for e in extra],
    ]
    if option != "--output":
        argv += ["--output", tmp_path / "out.png"]
    refused(argv, capsys, "cannot write in")
    assert files_under(readonly) == [] and not (tmp_path / "out.png").exists()


def test_portrait_mask_output_checked_before_anything_is_written(
    readonly, weights_dir, tmp_path, capsys, no_network
):
    argv = image_commands(tmp_path / "out.png", weights_dir)["portrait"]
    refused([*argv, "--save-mask", readonly / "m.png"], capsys, "--save-mask: cannot write in")
    assert not (tmp_path / "out.png").exists()


def test_depth_raw_output_checked_first(readonly, weights_dir, tmp_path, capsys, no_network):
    argv = image_commands(tmp_path / "out.png", weights_dir)["depth"]
    refused([*argv, "--raw", readonly / "d.npy"], capsys, "--raw: cannot write in")
    refused([*argv, "--raw", tmp_path / "d.txt"], capsys, "use a .npy file name")
    assert files_under(tmp_path) == []


def test_output_that_is_a_folder(tmp_path, weights_dir, capsys, no_network):
    argv = image_commands(tmp_path, weights_dir)["stylize"]
    refused(argv, capsys, "is a folder; pass a file name such as")


def test_folder_mode_keeps_every_result_and_skips_its_own_output(tmp_path, weights_dir, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.open(PORTRAIT).save(photos / "a.jpg")
    Image.open(PAINTING).save(photos / "a.png")
    Image.open(PAINTING).convert("RGB").save(photos / "b.png")
    out = photos / "styled"  # inside the content folder
    argv = [
        "stylize",
        "--content",
        photos,
        "--style",
        PAINTING,
        "--output",
        out,
        "--weights",
        weights_dir,
        "--max-size",
        "64",
        "--quiet",
    ]
    assert main([str(a) for a in argv]) == 0
    assert files_under(out) == ["a.jpg.png", "a.png.png", "b.png"]
    assert "wrote 3 images" in capsys.readouterr().out
    assert main([str(a) for a in argv]) == 0  # a second run does not stylize its own output
    assert files_under(out) == ["a.jpg.png", "a.png.png", "b.png"]


# -- numbers -------------------------------------------------------------------------

NUMBER_CASES = {
    "stylize max-size 16": (
        ["stylize", "--content", PORTRAIT, "--style", PAINTING, "--max-size", "16"],
        "--max-size 16: the network needs at least 32 px",
    ),
    "stylize max-size 40 panorama": (
        ["stylize", "--content", "{pano}", "--style", "{pano}", "--max-size", "40"],
        "makes it 40x4, under the network's minimum of 32 px",
    ),
    "portrait max-size 20": (
        ["portrait", "--content", PORTRAIT, "--style", PAINTING, "--max-size", "20"],
        "--max-size 20: the network needs at least 32 px",
    ),
    "depth max-size 10": (
        ["depth", "--input", PORTRAIT, "--depth-weights", "random", "--max-size", "10"],
        "--max-size 10: the network needs at least 16 px",
    ),
    "optimize size 100000": (
        ["optimize", "--content", PORTRAIT, "--style", PAINTING, "--size", "100000"],
        "over --max-pixels",
    ),
    "optimize style-scale 100": (
        ["optimize", "--content", PORTRAIT, "--style", PAINTING, "--size", "64", "--style-scale", "100"],
        "style_scale must be a finite number in [0, 4]",
    ),
    "optimize scales 10": (
        ["optimize", "--content", PORTRAIT, "--style", PAINTING, "--size", "64", "--scales", "10"],
        "--scales 10 at 55x64 halves the image below 32 px",
    ),
    "learning-rate nan": (
        ["optimize", "--content", PORTRAIT, "--style", PAINTING, "--learning-rate", "nan"],
        "argument --learning-rate: must be a finite number",
    ),
    "style-weight nan": (
        ["optimize", "--content", PORTRAIT, "--style", PAINTING, "--style-weight", "nan"],
        "argument --style-weight: must be a finite number",
    ),
    "tv-beta inf": (
        ["optimize", "--content", PORTRAIT, "--style", PAINTING, "--tv-beta", "inf"],
        "argument --tv-beta: must be a finite number",
    ),
    "style-weights nan,1": (
        [
            "stylize",
            "--content",
            PORTRAIT,
            "--style",
            PAINTING,
            "--style",
            PAINTING,
            "--style-weights",
            "nan,1",
        ],
        "expected finite numbers",
    ),
    "level-weights nan,nan": (
        ["stylize", "--content", PORTRAIT, "--style", PAINTING, "--level-weights", "nan,nan"],
        "expected finite numbers",
    ),
    "alpha 1.5": (
        ["stylize", "--content", PORTRAIT, "--style", PAINTING, "--alpha", "1.5"],
        "--alpha must be in [0, 1]",
    ),
    "person-alpha -0.1": (
        ["portrait", "--content", PORTRAIT, "--style", PAINTING, "--person-alpha", "-0.1"],
        "person_alpha must be in [0, 1]",
    ),
    "memory budget 0": (
        ["stylize", "--content", PORTRAIT, "--style", PAINTING, "--memory-budget-mb", "0"],
        "--memory-budget-mb must be > 0",
    ),
    "memory budget -1": (
        ["stylize", "--content", PORTRAIT, "--style", PAINTING, "--memory-budget-mb=-1"],
        "--memory-budget-mb must be > 0",
    ),
    "portrait memory budget 0": (
        ["portrait", "--content", PORTRAIT, "--style", PAINTING, "--memory-budget-mb", "0"],
        "--memory-budget-mb must be > 0",
    ),
    "magenta memory budget nan": (
        [
            "stylize",
            "--content",
            PORTRAIT,
            "--style",
            PAINTING,
            "--model",
            "magenta",
            "--memory-budget-mb",
            "nan",
        ],
        "must be a finite number, got nan",
    ),
    "built-in styles run whole": (
        ["stylize", "--content", PORTRAIT, "--builtin-style", "3", "--memory-budget-mb", "64"],
        "the 26-style network runs whole; drop --memory-budget-mb",
    ),
    "max-style-positions 0": (
        ["stylize", "--content", PORTRAIT, "--style", PAINTING, "--max-style-positions", "0"],
        "must be >= 1",
    ),
    "style-weights -1,2 as a separate word": (
        [
            "stylize",
            "--content",
            PORTRAIT,
            "--style",
            PAINTING,
            "--style",
            PAINTING,
            "--style-weights",
            "-1,2",
        ],
        "write a value that starts with '-' as --option=VALUE",
    ),
    "style-weights=-1,2": (
        ["stylize", "--content", PORTRAIT, "--style", PAINTING, "--style", PAINTING, "--style-weights=-1,2"],
        "style weights must be finite and >= 0",
    ),
}


@pytest.mark.parametrize("case", sorted(NUMBER_CASES))
def test_bad_numbers_are_refused_before_any_network(case, tmp_path, weights_dir, capsys, no_network):
    argv, fragment = NUMBER_CASES[case]
    Image.new("RGB", (1000, 100)).save(tmp_path / "pano.png")
    argv = [str(a).format(pano=tmp_path / "pano.png") for a in argv]
    argv += ["--output", str(tmp_path / "out.png")]
    if argv[0] in ("stylize", "portrait"):
        argv += ["--weights", str(weights_dir)]
    if argv[0] == "optimize":
        argv += ["--vgg-weights", "random"]
    refused(argv, capsys, fragment)
    assert files_under(tmp_path) == (["pano.png"])


# -- files the tool wrote itself ------------------------------------------------------------


def test_style_features_files(tmp_path, weights_dir, capsys):
    good = tmp_path / "wave.npz"
    base = [
        "stylize",
        "--content",
        PORTRAIT,
        "--weights",
        weights_dir,
        "--max-size",
        "64",
        "--output",
        tmp_path / "out.png",
    ]
    assert main([str(a) for a in [*base, "--style", PAINTING, "--save-style-features", good]]) == 0
    capsys.readouterr()
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:500])
    refused([*base, "--style-features", tmp_path / "cut.npz"], capsys, "cannot read style features")
    refused(
        [*base, "--style", PAINTING, "--save-style-features", tmp_path / "f.txt"],
        capsys,
        "use a .npz file name",
    )
    other = tmp_path / "other"
    save_weights_dir(SANetStylizer(dtype="float32"), str(other))  # another random encoder
    argv = [*base[:3], "--weights", other, *base[5:], "--style-features", good, "--precision", "float32"]
    refused(argv, capsys, "made by another encoder than the one loaded")
    with zipfile.ZipFile(good) as z:
        assert {"model.npy", "encoder.npy"} <= set(z.namelist())


@pytest.mark.parametrize(
    "kind,fragment",
    [
        ("file", "is a file; pass the folder of SANet"),
        ("missing", "does not exist; pass the folder of SANet"),
        ("truncated", "re-create it with 'tfstyle weights import-sanet'"),
    ],
)
def test_bad_weights_folders(kind, fragment, tmp_path, weights_dir, capsys):
    target = tmp_path / "w"
    if kind == "file":
        target.write_text("x")
    elif kind == "truncated":
        target.mkdir()
        for name in os.listdir(weights_dir):
            data = (weights_dir / name).read_bytes()
            (target / name).write_bytes(data[: len(data) // 2] if name.startswith("sanet_decoder") else data)
    line = refused(
        [
            "stylize",
            "--content",
            PORTRAIT,
            "--style",
            PAINTING,
            "--output",
            tmp_path / "out.png",
            "--weights",
            target,
        ],
        capsys,
        fragment,
    )
    inner = line[line.find("(") + 1 : line.rfind(")")]
    assert not inner or inner.endswith((" ...", ")")) or inner[-1].isalnum() or inner[-1] in ".'\""


@pytest.mark.parametrize("option", ["--mask", "--content-weight-map"])
def test_one_pixel_masks_are_refused(option, tmp_path, weights_dir, capsys):
    Image.new("L", (1, 1), 255).save(tmp_path / "dot.png")
    if option == "--mask":
        argv = [
            "stylize",
            "--content",
            PORTRAIT,
            "--style",
            PAINTING,
            "--mask",
            tmp_path / "dot.png",
            "--weights",
            weights_dir,
            "--max-size",
            "64",
        ]
    else:
        argv = [
            "optimize",
            "--content",
            PORTRAIT,
            "--style",
            PAINTING,
            "--content-weight-map",
            tmp_path / "dot.png",
            "--vgg-weights",
            "random",
            "--size",
            "48",
            "--steps",
            "1",
        ]
    refused([*argv, "--output", tmp_path / "out.png"], capsys, "1x1 is too small to be a mask")
    assert not (tmp_path / "out.png").exists()


def cli(*argv, env=None):
    """The installed command in a fresh process (what a user sees on stderr)."""
    code = "import sys\nfrom tfstyle.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_wrong_depth_weights_print_one_line_and_no_tensorflow_chatter(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.save_weights(tmp_path / "wrong.weights.h5")
    result = cli(
        "depth",
        "--input",
        PORTRAIT,
        "--output",
        tmp_path / "d.png",
        "--depth-weights",
        tmp_path / "wrong.weights.h5",
        "--max-size",
        "48",
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, lines
    assert "cannot load as hourglass depth weights" in lines[0] and "training.depth" in lines[0]
    assert not (tmp_path / "d.png").exists()


@pytest.mark.slow  # two fresh TensorFlow processes
def test_tensorflow_startup_lines_only_with_verbose(tmp_path):
    argv = [
        "depth",
        "--input",
        PORTRAIT,
        "--output",
        tmp_path / "d.png",
        "--depth-weights",
        "random",
        "--max-size",
        "48",
    ]
    quiet = cli(*argv)
    assert quiet.returncode == 0, quiet.stderr
    assert not any(word in quiet.stderr for word in ("cuda", "cuInit", "oneDNN", "absl::InitializeLog"))
    loud = cli(*argv, "--verbose")
    assert loud.returncode == 0 and ("oneDNN" in loud.stderr or "cuda" in loud.stderr)


def test_folder_progress_in_a_pipe_is_plain_lines(tmp_path, weights_dir, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.open(PORTRAIT).save(photos / "a.png")
    (photos / "bad.png").write_bytes(b"not a png")
    assert not sys.stdout.isatty()  # pytest's capture: a pipe, as in `tfstyle ... | tee log`
    argv = [
        "stylize",
        "--content",
        photos,
        "--style",
        PAINTING,
        "--output",
        tmp_path / "out",
        "--weights",
        weights_dir,
        "--max-size",
        "64",
    ]
    assert main([str(a) for a in argv]) == 2
    result = capsys.readouterr()
    assert "\x1b" not in result.out and "\b" not in result.out
    assert "[1/2]" in result.out and "[2/2]" in result.out
    assert "1 of 2 images failed" in result.err


def test_stylize_reports_size_and_time(tmp_path, weights_dir, capsys):
    argv = [
        "stylize",
        "--content",
        PORTRAIT,
        "--style",
        PAINTING,
        "--output",
        tmp_path / "o.png",
        "--weights",
        weights_dir,
        "--max-size",
        "64",
    ]
    assert main([str(a) for a in argv]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'o.png'} (55x64) in " in out and out.rstrip().endswith(" s")


# -- messages ---------------------------------------------------------------------------------


def test_every_option_of_every_verb_has_help():
    parser = build_parser()
    verbs = parser._subparsers._group_actions[0].choices  # noqa: SLF001 (argparse has no public walk)
    missing = []
    for name, verb in verbs.items():
        for action in verb._actions:
            if action.option_strings and action.help in (None, ""):
                missing.append(f"{name} {action.option_strings[0]}")
    assert missing == []
    assert "locate" not in verbs["weights"].format_help()


# -- training programs --------------------------------------------------------------------------


def program(module, *argv, prelude=""):
    args = [module, *map(str, argv)]
    run_module = f"runpy.run_module({module!r}, run_name='__main__')"
    code = f"{prelude}\nimport runpy, sys\nsys.argv = {args!r}\n{run_module}"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)


def bad_training_folder(folder):
    folder.mkdir()
    Image.new("RGB", (1, 1)).save(folder / "dot.png")
    (folder / "empty.jpg").write_bytes(b"")
    cut = PORTRAIT.read_bytes()
    (folder / "cut.jpg").write_bytes(cut[: len(cut) // 2])
    # a decompression bomb: a tiny PNG that decodes to 30000 x 30000
    Image.new("1", (30000, 30000)).save(folder / "bomb.png")


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", ["missing", "file", "empty", "only bad files", "batch 0", "crop > size", "no tensorboard"]
)
def test_training_refuses_before_writing_anything(case, tmp_path):
    content, style = tmp_path / "content", tmp_path / "style"
    for folder in (content, style):
        folder.mkdir()
        for i in range(2):
            Image.open(PORTRAIT).resize((64, 64)).save(folder / f"{i}.png")
    flags = {
        "content_dir": content,
        "style_dir": style,
        "vgg_weights": "random",
        "steps": 1,
        "batch_size": 1,
        "image_size": 64,
        "crop_size": 32,
    }
    prelude, fragment = "", None
    if case == "missing":
        flags["content_dir"], fragment = tmp_path / "nope", "no such folder"
    elif case == "file":
        flags["content_dir"], fragment = PORTRAIT, "is a file; pass a folder of images"
    elif case == "empty":
        (tmp_path / "empty").mkdir()
        flags["content_dir"], fragment = tmp_path / "empty", "no images"
    elif case == "only bad files":
        bad_training_folder(tmp_path / "bad")
        flags["content_dir"], fragment = tmp_path / "bad", "none of its 4 image files is usable"
    elif case == "batch 0":
        flags["batch_size"], fragment = 0, "must be >= 1"
    elif case == "crop > size":
        flags.update(crop_size=128, image_size=96)
        fragment = "--crop_size 128 is larger than --image_size 96"
    else:
        prelude, fragment = "import sys; sys.modules['tensorboard'] = None", "pip install 'tensorboard'"
    model_dir = tmp_path / "run"
    result = program(
        "training.sanet",
        f"--model_dir={model_dir}",
        *(f"--{k}={v}" for k, v in flags.items()),
        prelude=prelude,
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("training.sanet: error:")]
    assert result.returncode == 2 and len(errors) == 1 and fragment in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert not model_dir.exists()


def test_training_scan_applies_the_library_image_checks(tmp_path):
    from training import data

    bad_training_folder(tmp_path / "bad")
    Image.open(PORTRAIT).save(tmp_path / "bad" / "good.jpg")
    good, skipped = data.usable_images(data.list_images(str(tmp_path / "bad")))
    reasons = {os.path.basename(p): r for p, r in skipped}
    assert [os.path.basename(p) for p in good] == ["good.jpg"]
    assert "too many pixels" in reasons["bomb.png"] or "is over" in reasons["bomb.png"]
    assert reasons["dot.png"] == "1x1 is under 16 px a side"


# -- export.rest ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,fragment",
    [
        ("{not json", "not JSON"),
        ("", "empty body"),
        ("[1, 2]", "must be a JSON object"),
        (None, "cannot read"),
    ],
)
def test_rest_bad_bodies_are_request_errors(body, fragment, tmp_path):
    from export.rest import RequestError, read_request

    request = tmp_path / "request.json"
    if body is not None:
        request.write_text(body)
    with pytest.raises(RequestError, match=fragment):
        read_request(str(request))


def test_rest_program_answers_a_bad_body_with_an_error_object(tmp_path):
    request = tmp_path / "request.json"
    request.write_text("[1, 2]")
    result = subprocess.run(
        [sys.executable, "-m", "export.rest", f"--model_dir={tmp_path}", f"--request={request}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "must be a JSON object" in json.loads(result.stdout)["error"]


def test_rest_missing_model_dir_is_an_error_object(tmp_path):
    from export.rest import RequestError, resolve_model_dir

    with pytest.raises(RequestError, match="no such folder"):
        resolve_model_dir(str(tmp_path / "models"))
    (tmp_path / "models" / "3").mkdir(parents=True)
    (tmp_path / "models" / "12").mkdir()
    for version in ("3", "12"):
        (tmp_path / "models" / version / "saved_model.pb").write_bytes(b"")
    assert resolve_model_dir(str(tmp_path / "models")).endswith(os.path.join("models", "12"))


@pytest.mark.parametrize("value", [300, -2])
def test_rest_uint8_out_of_range_is_refused(value, tmp_path):
    import tensorflow as tf

    from export.rest import RequestError, predict

    module = tf.Module()
    module.f = tf.function(
        lambda content: {"image": content},
        input_signature=[tf.TensorSpec([None, 2, 2, 3], tf.uint8, name="content")],
    )
    tf.saved_model.save(module, str(tmp_path / "m"), signatures=module.f.get_concrete_function())
    signature = tf.saved_model.load(str(tmp_path / "m")).signatures["serving_default"]
    pixels = np.zeros((1, 2, 2, 3), int)
    pixels[0, 0, 0, 0] = value
    with pytest.raises(RequestError, match=r"content: values must be in \[0, 255\] for uint8"):
        predict(signature, {"instances": [{"content": pixels[0].tolist()}]})
    pixels[0, 0, 0, 0] = 255
    assert predict(signature, {"instances": [{"content": pixels[0].tolist()}]})["predictions"][0][0][0] == [
        255,
        0,
        0,
    ]
