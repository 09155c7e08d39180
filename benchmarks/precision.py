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
flags.DEFINE_bool("probe", True, "also compare --precision auto's probe with the photo pairs per weight set")

PAIRS = (
    ("tests/data/grace_hopper.jpg", "tests/data/hokusai_great_wave.jpg"),
    ("tests/data/woman_smiling_portrait.jpg", "examples/styles/vangogh_starry_night.jpg"),
    ("tests/data/man_selfie_with_sheep.jpg", "examples/styles/kandinsky_composition_vii.jpg"),
)
BF16 = "mixed_bfloat16"


def plans():
    from tfstyle.models.sanet import PARTS
    from tfstyle.precision import candidates

    yield "float32", {}
    for plan in candidates("sanet"):  # what --precision auto chooses from, fastest first
        parts = dict(plan.parts) or dict.fromkeys(PARTS, plan.dtype)
        yield f"{plan.name} (auto candidate{', --precision fast' if not plan.parts else ''})", parts
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
    if FLAGS.probe:
        probe_table(pairs, reference_weights)
    if FLAGS.magenta:
        magenta(pairs)


def probe_table(pairs, reference_weights):
    """Per weight set: each candidate plan's PSNR on the probe (256², generated) and on the photo
    pairs (minimum), the plan auto keeps, and the probe's cost as a first load pays it."""
    import time

    from helpers import cancelling

    from tfstyle import precision
    from tfstyle.models import probe
    from tfstyle.models.sanet import SANetStylizer

    sets = dict(reference_weights)
    bad = SANetStylizer(dtype="float32")
    bad.set_weights(reference_weights[next(iter(reference_weights))])
    sets["cancelling (tests/helpers.py)"] = cancelling(bad).get_weights()
    print(
        f"\n--precision auto's probe ({probe.PROBE_SIZE}², generated pair; bar {precision.MIN_PSNR_DB:.0f} "
        f"+ {precision.PROBE_MARGIN_DB} dB) against the photo pairs at {FLAGS.size}²:\n"
    )
    print("| weights | plan | probe dB | photos min dB | photos median dB | auto keeps it |")
    print("|---|---|---|---|---|---|")
    reference = SANetStylizer(dtype="float32")
    picks = []
    for name, weights in sets.items():
        reference.set_weights(weights)
        rows = probe.measure(reference, precision.candidates("sanet"), {}, stop_at_pass=False)
        want = [reference.stylize(c, s) for c, s in pairs]
        kept = next((plan for plan, db, _, _ in rows if db >= precision.probe_bar_db()), precision.FLOAT32)
        for plan, db, _, network in rows:
            real = [probe.psnr_db(network.stylize(c, s), w) for (c, s), w in zip(pairs, want)]
            mark = "**yes**" if plan is kept else ""
            print(f"| {name} | {plan.name} | {db:.1f} | {min(real):.1f} | {np.median(real):.1f} | {mark} |")
            if plan is kept:
                picks.append((name, plan.name, min(real)))
        if kept is precision.FLOAT32:
            picks.append((name, "float32", float("inf")))
    print("\n| weights | auto picks | photos min dB |\n|---|---|---|")
    for name, plan, low in picks:
        print(f"| {name} | {plan} | {'∞' if np.isinf(low) else f'{low:.1f}'} |")
    costs = []
    for name, weights in (*list(sets.items())[:1], list(sets.items())[-1]):  # as a first load pays it
        start = time.perf_counter()
        fresh = SANetStylizer(dtype="float32")
        fresh.set_weights(weights)
        probe.measure(fresh, precision.candidates("sanet"), {})
        costs.append(f"{name}: {time.perf_counter() - start:.1f} s")
    print(
        "\nprobe cost (float32 reference + candidates until one passes, tracing included): "
        + ", ".join(costs)
    )


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
