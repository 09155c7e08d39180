"""Single-level against multi-level SANet: parameters and time (Park & Lee 2019, Table 1's rows).

The paper's Table 1 times its single-level (relu4_1) and multi-level (relu4_1 + relu5_1) models
at 256 and 512 px on a GPU; this runs both of tfstyle's in one process on this machine, the same
images, float32 and the measured-auto plan, and reports time per stylization (median of
--repeats, after a warm-up), the ratio, and each precision's PSNR against the float32 picture of
the same weights (float32 runs first). Trained-scale random weights
(tests/helpers.trained_like): speed only, no picture.

    python benchmarks/sanet_levels.py --sizes=256,512
"""

import os
import platform
import sys

from absl import app, flags
from timing import median_seconds  # benchmarks/timing.py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["256", "512"], "content = style side, px (the paper's Table 1: 256, 512)")
flags.DEFINE_list("precisions", ["float32", "bfloat16"], "precision plans (tfstyle.precision names)")
flags.DEFINE_integer("repeats", 5, "timed runs per case")


def main(argv):
    del argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]
    import keras
    import tensorflow as tf
    from helpers import PAINTING, PORTRAIT, trained_like

    from tfstyle.image import load_image, resize
    from tfstyle.models.sanet import MULTI_LEVEL, SINGLE_LEVEL, SANetStylizer
    from tfstyle.precision import plan_named

    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__}"
    print(f"machine: {machine}; trained-scale random weights\n")
    from helpers import psnr

    print(
        "| model | transform parameters | whole model | size | precision | PSNR vs float32 (dB) | seconds "
        "| vs multi-level |"
    )
    print("|---|---|---|---|---|---|---|---|")
    reference: dict = {}  # (model, size) → the float32 picture of the same weights
    for size in (int(s) for s in FLAGS.sizes):
        content = resize(load_image(PORTRAIT), (size, size))
        style = resize(load_image(PAINTING), (size, size))
        for precision in FLAGS.precisions:
            plan = plan_named("sanet", precision)
            times = {}
            for name, levels in (("multi-level", MULTI_LEVEL), ("single-level", SINGLE_LEVEL)):
                keras.utils.set_random_seed(0)
                network = trained_like(SANetStylizer(levels=levels, **plan.network_kwargs()))
                encoded = network.encode_style(style)
                times[name] = median_seconds(lambda: network.stylize(content, encoded=encoded), FLAGS.repeats)
                picture = network.stylize(content, encoded=encoded)
                if plan.is_float32:
                    reference[name, size] = picture
                fidelity = (
                    psnr(picture, reference[name, size], peak=1.0) if (name, size) in reference else None
                )
                shown = "—" if fidelity is None else ("∞" if fidelity == float("inf") else f"{fidelity:.1f}")
                ratio = times[name] / times["multi-level"]
                print(
                    f"| {name} | {network.transform.count_params():,} | {network.count_params():,} | "
                    f"{size}² | {plan.name} | {shown} | {times[name]:.3f} | {ratio:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    app.run(main)
