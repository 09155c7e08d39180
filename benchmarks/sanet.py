"""SANet stylization: tfstyle's SANetStylizer against the PyTorch reference, time and peak RSS.

The peer is the public port's architecture and forward pass (one-shot
attention), as written from the spec in tests/reference/torch_sanet.py, in
float32 and under ``torch.autocast("cpu", dtype=torch.bfloat16)``. tfstyle runs
at its precision words (``auto``: the measured per-part plan, ``fast``: bfloat16
throughout, ``float32``); their PSNR against float32 is benchmarks/precision.py's.
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
from timing import median_seconds, run_child  # benchmarks/timing.py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["256", "512", "1024"], "sizes run by both implementations")
flags.DEFINE_list("solo_sizes", ["2048", "4096"], "sizes run by tfstyle only (the peer runs out of memory)")
flags.DEFINE_list(
    "precisions",
    ["bfloat16-after-the-encoder", "bfloat16", "bfloat16-in-the-decoder", "float32"],
    "tfstyle precision plans (tfstyle.precision.CANDIDATES names, hyphens for spaces; --precision "
    "auto picks one of them per weights, fast is bfloat16)",
)
flags.DEFINE_list(
    "peer_precisions", ["float32", "bfloat16"], "the PyTorch port's: float32, bfloat16 (autocast)"
)
flags.DEFINE_string("child", None, "internal: impl:size:precision[:cached]")
flags.DEFINE_string(
    "strip_rows", "auto", "tfstyle's strip_rows: auto (from the memory budget), 0 (never), or rows"
)
flags.DEFINE_integer("repeats", 3, "timed runs per configuration up to 1024 px (1 above)")
flags.DEFINE_list("stage_sizes", [], "only profile SANet's stages at these sizes (no port, no other table)")


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
            with torch.no_grad(), torch.autocast("cpu", torch.bfloat16, enabled=precision == "bfloat16"):
                return to_numpy(model(c, s).float()).clip(0, 1)
    elif impl == "floor":
        run = conv_floor(size, precision)
    elif impl == "stages":
        print(json.dumps(stage_times(size, precision, content, style, repeats)))
        return
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        sys.path.insert(0, ROOT)
        from tfstyle.models.sanet import SANetStylizer
        from tfstyle.precision import plan_named

        strips = None if FLAGS.strip_rows == "auto" else int(FLAGS.strip_rows)
        stylizer = SANetStylizer(**plan_named("sanet", precision).network_kwargs(), strip_rows=strips)
        features = stylizer.encode_style(style) if cached else None

        def run():
            if cached:
                return stylizer.stylize(content, encoded=features)
            return stylizer.stylize(content, style)

    baseline = _peak_rss_mib()
    seconds = median_seconds(run, repeats, warmup)
    print(json.dumps({"seconds": seconds, "peak_rss_mib": _peak_rss_mib(), "rss_before_run_mib": baseline}))


def conv_floor(size, precision, part="both"):
    """The convolutions SANet cannot avoid, alone: VGG19 to relu5_1 twice (content, style) and
    the decoder, each conv with zero SAME padding fused (no reflection-pad copies, casts or
    attention), pooling and upsampling between them, each part at the precision's dtype."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, ROOT)
    import keras
    import tensorflow as tf

    from tfstyle.models.sanet import SANetStylizer
    from tfstyle.precision import plan_named

    stylizer = SANetStylizer(**plan_named("sanet", precision).network_kwargs())

    def chain(layers, x):
        for layer in layers:
            if isinstance(layer, keras.layers.Conv2D):
                kernel, bias = (tf.cast(w, layer.compute_dtype) for w in (layer.kernel, layer.bias))
                x = tf.nn.bias_add(tf.nn.conv2d(tf.cast(x, layer.compute_dtype), kernel, 1, "SAME"), bias)
                x = x if layer.filters == 3 else tf.nn.relu(x)
            elif isinstance(layer, keras.layers.MaxPooling2D):
                x = tf.nn.max_pool2d(x, 2, 2, "VALID")
            elif "up" in layer.name and "pad" not in layer.name:
                x = tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)
        return x

    encoder = [la for la in stylizer.encoder.layers if la.name != "conv0"]  # conv0 folds into conv1_1
    images = tf.random.uniform([2, size, size, 3])
    features = tf.random.uniform([1, size // 8, size // 8, 512])

    @tf.function
    def encode(images):  # the batch of two: content and style
        return tf.reduce_sum(tf.cast(chain(encoder, images), tf.float32))

    @tf.function
    def decode(features):
        return tf.reduce_sum(tf.cast(chain(stylizer.decoder.layers, features), tf.float32))

    if part == "encoder":
        return lambda: encode(images).numpy()
    if part == "decoder":
        return lambda: decode(features).numpy()
    return lambda: (encode(images).numpy(), decode(features).numpy())


def attention_floor(size, precision):
    """The attention's unavoidable arithmetic alone: at relu4_1 and relu5_1, Q·Kᵀ accumulated and
    returned in float32 (tfstyle keeps the logits in float32 in every plan; with a bfloat16
    attention its queries and keys are bfloat16, multiplied by one XLA dot, the fastest form
    here: benchmarks/cpu_rewrites.py) and the product with V in the plan's attention dtype; no
    softmax, normalisation, 1×1 convs or chunking."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, ROOT)
    import tensorflow as tf

    from tfstyle.layers.attention import attention_logits
    from tfstyle.models.sanet import SANetStylizer
    from tfstyle.precision import plan_named

    dtype = SANetStylizer(**plan_named("sanet", precision).network_kwargs()).part_dtype("attention")
    features = lambda n: tf.cast(tf.random.normal([1, n * n, 512]), dtype)  # noqa: E731
    levels = [(features(n), features(n)) for n in (size // 8, size // 16)]

    @tf.function
    def floor():
        total = 0.0
        for queries, values in levels:
            logits = attention_logits(queries, queries)
            total += tf.reduce_sum(tf.cast(tf.matmul(tf.cast(logits, dtype), values), tf.float32))
        return total

    return lambda: floor().numpy()


def stage_times(size, precision, content, style, repeats):
    """Seconds per stage of one SANet stylization at a plan, each stage run alone (median of
    `repeats` after a warm-up), beside the floors of the same work."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, ROOT)
    from tfstyle.models.sanet import SANetStylizer
    from tfstyle.precision import plan_named

    strips = None if FLAGS.strip_rows == "auto" else int(FLAGS.strip_rows)
    stylizer = SANetStylizer(**plan_named("sanet", precision).network_kwargs(), strip_rows=strips)
    c, s = stylizer.encode(content), stylizer.encode(style)
    levels = stylizer.attended_levels(c, s)
    merged = stylizer.merge(*levels)
    time = lambda fn: median_seconds(fn, repeats, True)  # noqa: E731
    encode = lambda image: stylizer.encode(image).relu5_1.numpy()  # noqa: E731
    return {
        "encode x2": time(lambda: (encode(content), encode(style))),
        "attention": time(lambda: [x.numpy() for x in stylizer.attended_levels(c, s)]),
        "merge": time(lambda: stylizer.merge(*levels).numpy()),
        "decode": time(lambda: stylizer.decode(merged).numpy()),
        "stylize": time(lambda: stylizer.stylize(content, style)),
        "floor encode x2": time(conv_floor(size, precision, "encoder")),
        "floor attention": time(attention_floor(size, precision)),
        "floor decode": time(conv_floor(size, precision, "decoder")),
    }  # fmt: skip


def cli_folder(size, precision, count=4):
    """`tfstyle stylize DIR` on `count` size² images: the loop's own seconds per image (it
    excludes start-up, loading the network and encoding the style once)."""
    import re
    import tempfile

    sys.path.insert(0, ROOT)
    from tfstyle.image import save_image

    content, style = _images(size)
    with tempfile.TemporaryDirectory() as folder:
        os.makedirs(os.path.join(folder, "in"))
        for i in range(count):
            save_image(os.path.join(folder, "in", f"{i}.png"), content[:, ::-1] if i % 2 else content)
        save_image(os.path.join(folder, "style.png"), style)
        proc = subprocess.run(
            [sys.executable, "-m", "tfstyle", "stylize", "--content", os.path.join(folder, "in"),
             "--style", os.path.join(folder, "style.png"), "--output", os.path.join(folder, "out"),
             "--weights", "random", "--precision", precision, "--max-size", str(size), "--quiet"],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )  # fmt: skip
    found = re.search(r"wrote (\d+) images to .* in ([\d.]+) s", proc.stdout)
    if proc.returncode != 0 or not found:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:120]}
    return {"seconds": float(found.group(2)) / int(found.group(1))}


def measure(spec):
    return run_child(__file__, f"--child={spec}", f"--strip_rows={FLAGS.strip_rows}")


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
    from tfstyle.precision import plan_named

    if FLAGS.stage_sizes:
        stage_table()
        return
    peers = FLAGS.peer_precisions
    print(
        "| size | impl | precision | seconds | peak RSS GiB | "
        + " | ".join(f"speed-up vs port {p}" for p in peers)
        + " |"
    )
    print("|---|---|---|---|---|" + "---|" * len(peers))
    floors = {}
    for size in (int(s) for s in FLAGS.sizes + FLAGS.solo_sizes):
        references = {}
        if str(size) in FLAGS.sizes:
            for peer in peers:
                references[peer] = measure(f"torch:{size}:{peer}")
                seconds, rss = fmt(references[peer])
                label = "float32" if peer == "float32" else "autocast bfloat16"
                print(
                    f"| {size}² | PyTorch port | {label} | {seconds} | {rss} |" + " |" * len(peers),
                    flush=True,
                )
        for precision in FLAGS.precisions:
            ours = measure(f"tfstyle:{size}:{precision}")
            floors[size, precision] = measure(f"floor:{size}:{precision}"), ours
            seconds, rss = fmt(ours)
            ratios = []
            for peer in peers:
                reference = references.get(peer)
                ok = reference and "error" not in reference and "error" not in ours
                ratios.append(f"{reference['seconds'] / ours['seconds']:.2f}×" if ok else "—")
            label = plan_named("sanet", precision).describe()
            print(f"| {size}² | tfstyle | {label} | {seconds} | {rss} | {' | '.join(ratios)} |", flush=True)
    print("\nthe floor: VGG19 to relu5_1 twice and the decoder, convolutions alone (conv_floor):\n")
    print("| size | precision | floor, s | tfstyle, s | tfstyle / floor |")
    print("|---|---|---|---|---|")
    for (size, precision), (floor, ours) in floors.items():
        if "error" not in floor and "error" not in ours:
            print(
                f"| {size}² | {precision} | {floor['seconds']:.3f} | {ours['seconds']:.3f} | "
                f"{ours['seconds'] / floor['seconds']:.2f}× |",
                flush=True,
            )
    print("\nfolder mode: `tfstyle stylize DIR` (style encoded once, 4 images) against the library:\n")
    print("| size | precision | CLI s per image | library, cached style, s | CLI / library |")
    print("|---|---|---|---|---|")
    for size in (512,):
        for precision in ("float32",):  # the command takes precision words, not plan names
            cli, library = cli_folder(size, precision), measure(f"tfstyle:{size}:{precision}:cached")
            if "error" not in cli and "error" not in library:
                print(
                    f"| {size}² | {precision} | {cli['seconds']:.2f} | {library['seconds']:.2f} | "
                    f"{cli['seconds'] / library['seconds']:.2f}× |",
                    flush=True,
                )
            else:
                print(f"| {size}² | {precision} | {cli.get('error', '')} {library.get('error', '')} | | |")
    print("\ncached style features (tfstyle, style encoded once, then only the content per call):\n")
    print("| size | precision | style image each call, s | cached features, s | cached / full |")
    print("|---|---|---|---|---|")
    for size in (512, 1024):
        for precision in FLAGS.precisions:
            full = measure(f"tfstyle:{size}:{precision}")
            cached = measure(f"tfstyle:{size}:{precision}:cached")
            if "error" in full or "error" in cached:
                continue
            print(
                f"| {size}² | {precision} | {full['seconds']:.2f} | {cached['seconds']:.2f} | "
                f"{cached['seconds'] / full['seconds']:.2f}× |",
                flush=True,
            )


def stage_table():
    """Where a stylization's time goes, stage by stage, against the floor of each stage: the
    convolutions alone (zero padding fused, no casts) and the attention's matmuls alone."""
    print("| size | plan | encode ×2 s (floor) | attention s (floor) | merge s | decode s (floor) | "
          "stylize s | floor s | stylize / floor |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for size in (int(s) for s in FLAGS.stage_sizes):
        for precision in FLAGS.precisions:
            t = measure(f"stages:{size}:{precision}")
            if "error" in t:
                print(f"| {size}² | {precision} | {t['error']} |")
                continue
            floor = t["floor encode x2"] + t["floor attention"] + t["floor decode"]
            print(
                f"| {size}² | {precision} | {t['encode x2']:.3f} ({t['floor encode x2']:.3f}) | "
                f"{t['attention']:.3f} ({t['floor attention']:.3f}) | {t['merge']:.3f} | "
                f"{t['decode']:.3f} ({t['floor decode']:.3f}) | {t['stylize']:.3f} | {floor:.3f} | "
                f"{t['stylize'] / floor:.2f}× |",
                flush=True,
            )


if __name__ == "__main__":
    app.run(main)
