"""Bulk stylization: the Beam pipeline (`python -m tfstyle.bulk`, DirectRunner) against
`tfstyle stylize DIR` on the same images and settings, in one process, images per second.

Both include loading the network (once) and encoding the style (once); Magenta, real
weights, float32 (its default). The pipeline runs in-process (one worker) and with two
worker processes (`--direct_running_mode=multi_processing`).

    python benchmarks/bulk.py [--images=32] [--max_size=512]
"""

import os
import platform
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
from PIL import Image  # noqa: E402

from tfstyle.batch import bulk  # noqa: E402
from tfstyle.cli import main as cli  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("images", 32, "photos in the job")
flags.DEFINE_integer("max_size", 512, "longer side")

STYLE = "examples/hokusai_great_wave.jpg"


def make_library(root, count):
    sources = sorted(p for p in os.listdir("tests/data") if p.endswith(".jpg"))
    for i in range(count):
        with Image.open(os.path.join("tests/data", sources[i % len(sources)])) as im:
            w, h = im.size
            im.convert("RGB").crop((i * 7 % (w // 4), i * 5 % (h // 4), w - i % 9, h - i % 7)).save(
                os.path.join(root, f"photo{i:03d}.jpg"), quality=92
            )


def main(argv):
    del argv
    root = tempfile.mkdtemp(prefix="tfstyle-bulk-bench-")
    library = os.path.join(root, "in")
    os.makedirs(library)
    make_library(library, FLAGS.images)
    common = ["--model", "magenta", "--style", STYLE]
    runs = {}
    out = os.path.join(root, "cli")
    started = time.perf_counter()
    cli(
        [
            "stylize",
            "--content",
            library,
            "--output",
            out,
            "--max-size",
            str(FLAGS.max_size),
            "--quiet",
            *common,
        ]
    )
    runs["tfstyle stylize DIR"] = time.perf_counter() - started
    for name, extra in (
        ("bulk, DirectRunner in-process", []),
        (
            "bulk, DirectRunner 2 processes",
            ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
        ),
    ):
        out = os.path.join(root, name.split()[-1])
        started = time.perf_counter()
        counters = bulk.run(
            [
                "--input",
                f"{library}/*.jpg",
                "--output",
                out,
                "--max_size",
                str(FLAGS.max_size),
                *common,
                *extra,
            ]
        )
        runs[name] = time.perf_counter() - started
        assert counters["processed"] == FLAGS.images, counters
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; {FLAGS.images} photos at "
        f"{FLAGS.max_size} px, Magenta float32 (real weights)\n"
    )
    print("| run | seconds | images/s | vs the CLI |\n|---|---|---|---|")
    base = FLAGS.images / runs["tfstyle stylize DIR"]
    for name, seconds in runs.items():
        rate = FLAGS.images / seconds
        print(f"| {name} | {seconds:.1f} | {rate:.2f} | {rate / base:.2f}× |")
    shutil.rmtree(root)


if __name__ == "__main__":
    app.run(main)
