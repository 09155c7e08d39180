"""Video throughput, where the time goes, what temporal blending costs and buys, and memory.

For each model at the default precision (Magenta: real weights; SANet: random
weights, time only) and each size (360p = 640×360, 720p = 1280×720), on a clip
generated from the example photo (a pan, tests/clips.py), `tfstyle.video.stream.stylize_video`
runs with independent frames (--temporal-weight 0) and with the default blending
(0.5). Reported: frames per second, seconds per stage (decode, flow, network,
encode), the blending's extra time, and the warping error (Lai et al. 2018) of
both. Memory: peak RSS of a child process stylizing a clip and one 4× longer.

    python benchmarks/video.py [--frames=24] [--sizes=360,720] [--models=magenta,sanet]
"""

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402
from clips import pan_frames, write_clip  # noqa: E402  (tests/clips.py)

from tfstyle import weights as weights_lib  # noqa: E402
from tfstyle.image import load_image, resize  # noqa: E402
from tfstyle.video.stream import stylize_video  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("frames", 24, "frames per clip (SANet: a third of it)")
flags.DEFINE_list("sizes", ["360", "720"], "clip heights (16:9)")
flags.DEFINE_list("models", ["magenta", "sanet"], "networks")
flags.DEFINE_string("child", None, "internal: stylize this clip and print the peak RSS")


def clip(folder, height, frames):
    width = height * 16 // 9
    big = (resize(load_image("examples/grace_hopper.jpg"), (height * 2, width * 2)) * 255).astype(np.uint8)
    path = os.path.join(folder, f"pan{height}_{frames}.mp4")
    if not os.path.exists(path):
        write_clip(path, pan_frames(big, frames, (height, width), step=4), fps=24, crf=18)
    return path


def network(model):
    style = load_image("examples/hokusai_great_wave.jpg")
    if model == "magenta":
        from tfstyle.models.magenta_weights import load_magenta

        stylizer = load_magenta(weights_lib.resolve_weights(None, weights_lib.MAGENTA))
        vector = stylizer.encode_style(style)
        return lambda f: stylizer.stylize(f, encoded=vector), "float32 (auto), real weights"
    from tfstyle.models.sanet import SANetStylizer
    from tfstyle.precision import dtype_policy

    stylizer = SANetStylizer(dtype=dtype_policy("auto"))
    features = stylizer.encode_style(style)
    return lambda f: stylizer.stylize(f, encoded=features), f"{dtype_policy('auto')} (auto), random weights"


def child(path):
    fn, _ = network("magenta")
    with tempfile.TemporaryDirectory() as folder:
        stylize_video(path, os.path.join(folder, "out.mp4"), fn, max_size=1280)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)  # GiB (ru_maxrss is KiB)


def main(argv):
    del argv
    if FLAGS.child:
        return child(FLAGS.child)
    folder = tempfile.mkdtemp(prefix="tfstyle-video-bench-")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; "
        "clips: a pan over examples/grace_hopper.jpg, 24 fps\n"
    )
    print(
        "| model (precision) | size | frames | blending | fps | decode s | flow s | network s | encode s "
        "| warping error |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model in FLAGS.models:
        fn, precision = network(model)
        for height in (int(s) for s in FLAGS.sizes):
            count = FLAGS.frames if model == "magenta" else max(4, FLAGS.frames // 3)
            source = clip(folder, height, count)
            fn(resize(load_image("examples/grace_hopper.jpg"), (height, height * 16 // 9)))  # warm-up
            fps, totals = {}, {}
            for weight in (0.0, 0.5):
                timed = stylize_video(
                    source, os.path.join(folder, "out.mp4"), fn, max_size=1280, temporal_weight=weight
                )
                measured = stylize_video(
                    source,
                    os.path.join(folder, "m.mp4"),
                    fn,
                    max_size=1280,
                    temporal_weight=weight,
                    measure=True,
                )
                fps[weight], totals[weight] = timed.fps, timed.seconds
                s = timed.stage_seconds
                print(
                    f"| {model} ({precision}) | {height}p | {count} | {weight} | {timed.fps:.2f} | "
                    f"{s['decode']:.2f} | {s['flow']:.2f} | {s['network']:.2f} | {s['encode']:.2f} | "
                    f"{measured.warping_error:.4f} |",
                    flush=True,
                )
            # the blending's own work (flow, trust mask, warp) against the independent run's total;
            # the two runs' fps ratio says the same with the network's run-to-run noise in it
            extra = timed.stage_seconds["flow"] / totals[0.0]
            print(
                f"|  |  |  | blending: {extra:+.0%} time (flow stage / independent run), "
                f"fps ratio {fps[0.0] / fps[0.5] - 1:+.0%} |  |  |  |  |  |  |",
                flush=True,
            )

    print("\n### Peak RSS of one `stylize_video` run (Magenta, 720p), in a child process each\n")
    print("| frames | peak RSS GiB |\n|---|---|")
    for count in (FLAGS.frames, 4 * FLAGS.frames):
        source = clip(folder, 720, count)
        result = subprocess.run(
            [sys.executable, __file__, f"--child={source}"], capture_output=True, text=True, check=True
        )
        print(f"| {count} | {float(result.stdout.strip().splitlines()[-1]):.2f} |", flush=True)
    print(json.dumps({"clips": folder}))


if __name__ == "__main__":
    app.run(main)
