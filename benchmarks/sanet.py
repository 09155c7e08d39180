"""SANet stylization: tfstyle's Stylizer against the PyTorch reference, time and peak RSS.

The peer is the public port's architecture and forward pass (one-shot
attention), as written from the spec in tests/reference/torch_sanet.py.
Each (implementation, size, precision) runs in a fresh child process so its
peak RSS is its own; all children run in this one invocation, on the same
images (content = style = the example images resized to size × size).
Random weights: this measures speed and memory only.

    python benchmarks/sanet.py --sizes=256,512,1024 --solo_sizes=2048,4096
"""

import json
import os
import platform
import resource
import subprocess
import sys

from absl import app, flags
from timing import median_seconds  # benchmarks/timing.py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["256", "512", "1024"], "sizes run by both implementations")
flags.DEFINE_list("solo_sizes", ["2048", "4096"], "sizes run by tfstyle only (the peer runs out of memory)")
flags.DEFINE_list("precisions", ["float32", "bfloat16"], "tfstyle precisions")
flags.DEFINE_string("child", None, "internal: impl:size:precision[:cached]")
flags.DEFINE_integer("repeats", 3, "timed runs per configuration up to 1024 px (1 above)")


def _images(size):
    sys.path.insert(0, ROOT)
    from tfstyle.image import load_image, resize

    content = resize(load_image(os.path.join(ROOT, "examples/grace_hopper.jpg")), (size, size))
    style = resize(load_image(os.path.join(ROOT, "examples/hokusai_great_wave.jpg")), (size, size))
    return content, style


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(spec):
    impl, size, precision, *rest = spec.split(":")
    size, cached = int(size), bool(rest)
    content, style = _images(size)
    big = size > 1024
    repeats, warmup = (1, False) if big else (FLAGS.repeats, True)
    if impl == "torch":
        import torch

        sys.path.insert(0, os.path.join(ROOT, "tests"))
        from reference.torch_sanet import seeded_reference, to_numpy, to_torch

        model = seeded_reference(0)
        c, s = to_torch(content[None]), to_torch(style[None])

        def run():
            with torch.no_grad():
                return to_numpy(model(c, s)).clip(0, 1)
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        sys.path.insert(0, ROOT)
        from tfstyle.models.sanet import Stylizer
        from tfstyle.precision import dtype_policy

        stylizer = Stylizer(dtype=dtype_policy(precision))
        features = stylizer.encode_style(style) if cached else None

        def run():
            if cached:
                return stylizer.stylize(content, style_features=features)
            return stylizer.stylize(content, style)

    baseline = _peak_rss_mib()
    seconds = median_seconds(run, repeats, warmup)
    print(json.dumps({"seconds": seconds, "peak_rss_mib": _peak_rss_mib(), "rss_before_run_mib": baseline}))


def measure(spec):
    proc = subprocess.run([sys.executable, __file__, f"--child={spec}"], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {tail[:120]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(result):
    if "error" in result:
        return "failed", "—"
    return f"{result['seconds']:.2f}", f"{result['peak_rss_mib'] / 1024:.2f}"


def main(argv):
    del argv
    if FLAGS.child:
        child(FLAGS.child)
        return
    import tensorflow as tf
    import torch

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__}, "
        f"torch {torch.__version__}; median of {FLAGS.repeats} runs after a warm-up up to "
        f"1024 px, one run above\n"
    )
    print("| size | impl | precision | seconds | peak RSS GiB | speed-up vs reference |")
    print("|---|---|---|---|---|---|")
    for size in (int(s) for s in FLAGS.sizes + FLAGS.solo_sizes):
        reference = measure(f"torch:{size}:float32") if str(size) in FLAGS.sizes else None
        if reference is not None:
            seconds, rss = fmt(reference)
            print(f"| {size}² | PyTorch reference | float32 | {seconds} | {rss} | 1.00× |", flush=True)
        for precision in FLAGS.precisions:
            ours = measure(f"tfstyle:{size}:{precision}")
            seconds, rss = fmt(ours)
            ratio = "—"
            if reference and "error" not in reference and "error" not in ours:
                ratio = f"{reference['seconds'] / ours['seconds']:.2f}×"
            print(f"| {size}² | tfstyle | {precision} | {seconds} | {rss} | {ratio} |", flush=True)
    print("\ncached style features (tfstyle, style encoded once, then only the content per call):\n")
    print("| size | precision | style image each call, s | cached features, s | gain |")
    print("|---|---|---|---|---|")
    for size in (512, 1024):
        for precision in FLAGS.precisions:
            full = measure(f"tfstyle:{size}:{precision}")
            cached = measure(f"tfstyle:{size}:{precision}:cached")
            if "error" in full or "error" in cached:
                continue
            print(
                f"| {size}² | {precision} | {full['seconds']:.2f} | {cached['seconds']:.2f} | "
                f"{full['seconds'] / cached['seconds']:.2f}× |",
                flush=True,
            )


if __name__ == "__main__":
    app.run(main)
