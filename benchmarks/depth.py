"""Time per Gatys Adam step with and without the depth terms, at 256 and 512 px.

Configurations: plain (content + style + TV), + depth loss (hourglass on the
image average-pooled ×2 each step), + depth-weighted content (α map computed
once, so it should cost nothing per step), and both. Random weights: speed
only. Loss network in the default precision (bfloat16 on AMX CPUs); the
hourglass in float32.

    python benchmarks/depth.py --sizes=256,512 --steps=8
"""

import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from tfstyle.image import fit, load_image  # noqa: E402
from tfstyle.models.depth import build_hourglass  # noqa: E402
from tfstyle.optimization.depth_objective import DepthTerm  # noqa: E402
from tfstyle.optimization.optimize import GatysTransfer, OptimizeConfig  # noqa: E402
from tfstyle.optimization.weight_maps import depth_to_alpha  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["256", "512"], "longer side of the content")
flags.DEFINE_integer("steps", 8, "timed steps after 2 warm-up steps")
flags.DEFINE_string("precision", "auto", "loss-network precision")
WARMUP = 2


def step_time(transfer, content, style, **kwargs):
    stamps = []
    transfer.run(
        content,
        style,
        OptimizeConfig(steps=WARMUP + FLAGS.steps),
        callback=lambda *_: stamps.append(time.perf_counter()),
        **kwargs,
    )
    return statistics.median(np.diff(stamps)[WARMUP - 1 :])


def main(argv):
    del argv
    keras.utils.set_random_seed(0)
    transfer = GatysTransfer(None, precision=FLAGS.precision)
    hourglass = build_hourglass(None)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, loss network {transfer.policy}; "
        f"median of {FLAGS.steps} steps after {WARMUP} warm-up\n"
    )
    print("| size | plain s/step | + depth loss | + depth-weighted content | both | depth loss overhead |")
    print("|---|---|---|---|---|---|")
    content_full = load_image("examples/grace_hopper.jpg")
    style_full = load_image("examples/hokusai_great_wave.jpg")
    for size in (int(s) for s in FLAGS.sizes):
        content, style = fit(content_full, size), fit(style_full, size)
        alpha = depth_to_alpha(hourglass(content[None]).numpy()[0, :, :, 0], 1.0, 5.0)
        depth_terms = lambda c: [DepthTerm(hourglass, c, 20.0)]  # noqa: E731
        plain = step_time(transfer, content, style)
        depth = step_time(transfer, content, style, extra_terms=depth_terms)
        weighted = step_time(transfer, content, style, content_weight_map=alpha)
        both = step_time(transfer, content, style, extra_terms=depth_terms, content_weight_map=alpha)
        print(
            f"| {content.shape[1]}x{content.shape[0]} | {plain:.3f} | {depth:.3f} | {weighted:.3f} | "
            f"{both:.3f} | {depth / plain:.2f}× |",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
