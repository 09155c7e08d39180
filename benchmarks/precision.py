"""Where reduced precision costs fidelity: SANet part by part, and Magenta, against float32.

For each precision plan (a dtype policy per part of `tfstyle.models.sanet.PARTS`)
the SANet stylizer runs 3 photo/painting pairs × 5 weight sets at --size with
trained-scale random weights (tests/helpers.py:trained_like); the table gives
the minimum and median PSNR against float32 over those 15 runs and the plan's
time per stylization (median of --repeats, first pair and seed, style encoded
each call). Plans: all float32, all bfloat16, each part alone in bfloat16, and
all bfloat16 but one part. The real Magenta network (imported weights) runs the
same pairs in float32 and bfloat16 as a second check (--magenta).

    python benchmarks/precision.py --size=512
"""

import os
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402
from timing import median_seconds  # noqa: E402  (benchmarks/timing.py)

FLAGS = flags.FLAGS
flags.DEFINE_integer("size", 512, "content and style size (square)")
flags.DEFINE_list("seeds", ["2", "3", "4"], "weight seeds (trained_like)")
flags.DEFINE_list("torch_seeds", ["0", "1"], "seeds of the PyTorch port's initialisation, imported")
flags.DEFINE_integer("repeats", 3, "timed runs per plan")
flags.DEFINE_bool("magenta", True, "also measure the real Magenta network (needs the magenta extra)")
flags.DEFINE_list("plans", [], "only these plan names (default: all)")

PAIRS = (
    ("tests/data/grace_hopper.jpg", "tests/data/hokusai_great_wave.jpg"),
    ("tests/data/woman_smiling_portrait.jpg", "examples/styles/vangogh_starry_night.jpg"),
    ("tests/data/man_selfie_with_sheep.jpg", "examples/styles/kandinsky_composition_vii.jpg"),
)
BF16 = "mixed_bfloat16"


def plans():
    from tfstyle.models.sanet import PARTS
    from tfstyle.precision import SANET_AUTO_PLAN

    yield "float32", {}
    yield "bfloat16 everywhere (--precision fast)", dict.fromkeys(PARTS, BF16)
    yield "auto (tfstyle.precision.SANET_AUTO_PLAN)", dict(SANET_AUTO_PLAN)
    for part in PARTS:
        yield f"only {part} in bfloat16", {part: BF16}
    for part in PARTS:
        yield f"all but {part} in bfloat16", {p: BF16 for p in PARTS if p != part}


def images(size):
    from tfstyle.image import load_image, resize

    return [
        (
            resize(load_image(os.path.join(ROOT, c)), (size, size)),
            resize(load_image(os.path.join(ROOT, s)), (size, size)),
        )
        for c, s in PAIRS
    ]


def imported_weights(seed):
    """The PyTorch port's seeded initialisation written as its published files and imported."""
    import tempfile

    from reference.torch_sanet import save_published_files, seeded_reference

    from tfstyle.importers.sanet_torch import import_sanet
    from tfstyle.models.sanet_weights import load_sanet

    with tempfile.TemporaryDirectory() as folder:
        paths = save_published_files(seeded_reference(seed), folder)
        import_sanet(paths["vgg"], paths["decoder"], paths["transformer"], os.path.join(folder, "tf"))
        return load_sanet(os.path.join(folder, "tf"), dtype="float32").get_weights()


def main(argv):
    del argv
    import tensorflow as tf
    from helpers import psnr, trained_like

    from tfstyle.models.sanet import SANetStylizer

    pairs = images(FLAGS.size)
    seeds = [int(s) for s in FLAGS.seeds]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__}; {FLAGS.size}², "
        f"{len(pairs)} pairs × {len(seeds) + len(FLAGS.torch_seeds)} weight sets (trained_like seeds "
        f"{FLAGS.seeds}, PyTorch-port seeds {FLAGS.torch_seeds} imported), "
        "trained-scale random SANet weights\n"
    )
    reference_weights = {
        seed: trained_like(SANetStylizer(dtype="float32"), seed).get_weights() for seed in seeds
    }
    for seed in (int(s) for s in FLAGS.torch_seeds):
        reference_weights[f"torch{seed}"] = imported_weights(seed)
    seeds = list(reference_weights)
    references = {}
    base_time = None
    print(
        "| SANet plan | min PSNR dB | median PSNR dB | max abs error /255 | s per stylization | vs float32 |"
    )
    print("|---|---|---|---|---|---|")
    for name, plan in plans():
        if FLAGS.plans and name.split(" (")[0] not in FLAGS.plans:
            continue
        stylizer = SANetStylizer(dtype="float32", precision_plan=plan)
        scores, worst = [], 0.0
        for seed in seeds:
            stylizer.set_weights(reference_weights[seed])
            for i, (content, style) in enumerate(pairs):
                out = stylizer.stylize(content, style)
                if not plan:
                    references[seed, i] = out
                ref = references[seed, i]
                scores.append(psnr(out * 255, ref * 255))
                worst = max(worst, float(np.abs(out - ref).max()) * 255)
        stylizer.set_weights(reference_weights[seeds[0]])
        content, style = pairs[0]
        seconds = median_seconds(lambda: stylizer.stylize(content, style), FLAGS.repeats, True)
        base_time = base_time or seconds
        low, mid = min(scores), float(np.median(scores))
        low_s = "∞" if np.isinf(low) else f"{low:.1f}"
        mid_s = "∞" if np.isinf(mid) else f"{mid:.1f}"
        print(
            f"| {name} | {low_s} | {mid_s} | {worst:.1f} | {seconds:.3f} | {base_time / seconds:.2f}× |",
            flush=True,
        )
    if FLAGS.magenta:
        magenta(pairs)


def magenta(pairs):
    from helpers import psnr

    from tfstyle import weights as weights_lib
    from tfstyle.models.magenta_weights import load_magenta

    folder = weights_lib.resolve_weights(None, weights_lib.MAGENTA)
    nets = {dtype: load_magenta(folder, dtype=dtype) for dtype in ("float32", BF16)}
    print("\n| Magenta (real weights) | min PSNR dB | median PSNR dB | s per stylization | vs float32 |")
    print("|---|---|---|---|---|")
    outs = {dtype: [net.stylize(c, s) for c, s in pairs] for dtype, net in nets.items()}
    base = None
    for dtype, net in nets.items():
        scores = [psnr(a * 255, b * 255) for a, b in zip(outs[dtype], outs["float32"])]
        content, style = pairs[0]
        seconds = median_seconds(lambda: net.stylize(content, style), FLAGS.repeats, True)
        base = base or seconds
        low = "∞" if np.isinf(min(scores)) else f"{min(scores):.1f}"
        mid = "∞" if np.isinf(np.median(scores)) else f"{np.median(scores):.1f}"
        print(f"| {dtype} | {low} | {mid} | {seconds:.3f} | {base / seconds:.2f}× |", flush=True)


if __name__ == "__main__":
    app.run(main)
