"""tfstyle's faster exact forms on TensorFlow's CPU kernels against the one-op forms (`tfstyle.kernels`).

Three rewrites, each against the form TFLite graphs keep, in the same process,
calls interleaved (one of each per round, median of the rounds), with the largest
difference between the two outputs:

* a reflection pad as one gather (`tfstyle.layers.padding.reflect_pad`) against
  TF's ``MirrorPad``, at SANet's levels for a 512² input;
* a reflection pad, a float32 3×3 conv on many channels and its ReLU as one
  `tfstyle.tiling.padded_conv_rows_as_batch` against MirrorPad and the whole
  conv;
* the attention's Q·Kᵀ of bfloat16 queries and keys, float32 out
  (`tfstyle.layers.attention.attention_logits`): one XLA dot against casting
  both to float32 for TF's matmul, for one chunk of relu4_1 at 512² and at 1024²
  (the rows a 256 MB budget gives).

The price is paid once per process: the CPU forms add ops to each traced graph, and a
bfloat16 attention compiles its XLA dot once per shape. `--first_call_sizes` times a fresh
process's first and second SANet stylization (random weights) with each set of forms.

    python benchmarks/cpu_rewrites.py --rounds=9 --first_call_sizes=256,512
"""

import json
import os
import platform
import time

import keras
import tensorflow as tf
from absl import app, flags
from timing import interleaved_seconds, run_child  # benchmarks/timing.py

from tfstyle.kernels import for_tflite
from tfstyle.layers.attention import attention_logits
from tfstyle.layers.padding import reflect_pad
from tfstyle.tiling import padded_conv_rows_as_batch

FLAGS = flags.FLAGS
flags.DEFINE_list("pad_levels", ["512x64", "256x128", "128x256", "64x512"], "side x channels")
flags.DEFINE_list("conv_levels", ["128x256", "64x512", "32x512"], "side x channels (float32)")
flags.DEFINE_list("logit_shapes", ["4096x4096", "1365x16384"], "query rows x keys (512², 1024²)")
flags.DEFINE_integer("rounds", 9, "timed rounds (one call of each form per round)")
flags.DEFINE_list("first_call_sizes", [], "sizes for the first-call table (a fresh process each)")
flags.DEFINE_string("child", None, "internal: size:plan:forms")


def interleaved_ms(one_op, rewrite, *args) -> tuple:
    """Median milliseconds of each form over `rounds` interleaved rounds (`timing.interleaved_seconds`)."""
    forms = [lambda *a, fn=fn: fn(*a).numpy() for fn in (one_op, rewrite)]
    return tuple(1e3 * t for t in interleaved_seconds(forms, FLAGS.rounds, *args))


def max_difference(a, b) -> float:
    return float(tf.reduce_max(tf.abs(tf.cast(a, tf.float64) - tf.cast(b, tf.float64))))


def row(*cells) -> None:
    print("| " + " | ".join(cells) + " |", flush=True)


def pads():
    print("\n| reflection pad | dtype | MirrorPad, ms | one gather, ms | speed-up | max abs difference |")
    print("|---|---|---|---|---|---|")
    for level in FLAGS.pad_levels:
        side, channels = (int(v) for v in level.split("x"))
        for dtype in ("float32", "bfloat16"):
            x = tf.cast(tf.random.stateless_normal([1, side, side, channels], (0, 0)), dtype)
            mirror = tf.function(for_tflite(lambda x: reflect_pad(x, 1)), autograph=False)
            gathers = tf.function(lambda x: reflect_pad(x, 1), autograph=False)
            a, b = interleaved_ms(mirror, gathers, x)
            diff = max_difference(mirror(x), gathers(x))
            row(f"{side}²×{channels}", dtype, f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}×", f"{diff:.0e}")


def convs():
    print(
        "\n| pad, 3×3 conv, ReLU | dtype | MirrorPad + whole conv, ms "
        "| padded_conv_rows_as_batch, ms | speed-up | max abs difference |"
    )
    print("|---|---|---|---|---|---|")
    for level in FLAGS.conv_levels:
        side, channels = (int(v) for v in level.split("x"))
        keras.utils.set_random_seed(0)
        conv = keras.layers.Conv2D(channels, 3, padding="valid", activation=None)
        relu = keras.layers.ReLU()
        x = tf.random.stateless_uniform([1, side, side, channels], (0, 1))
        conv.build([1, side + 2, side + 2, channels])
        whole = tf.function(for_tflite(lambda x: relu(conv(reflect_pad(x, 1)))), autograph=False)
        halves = tf.function(lambda x: padded_conv_rows_as_batch(x, 1, conv, relu), autograph=False)
        a, b = interleaved_ms(whole, halves, x)
        diff = max_difference(whole(x), halves(x))
        row(f"{side}²×{channels}", "float32", f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}×", f"{diff:.0e}")


def logits():
    print(
        "\n| Q·Kᵀ, bfloat16 in, float32 out | queries × keys × 512 | cast + float32 matmul, ms "
        "| one XLA dot, ms | speed-up | max abs difference / max abs logit |"
    )
    print("|---|---|---|---|---|---|")
    cast_first = tf.function(
        lambda q, k: tf.matmul(tf.cast(q, tf.float32), tf.cast(k, tf.float32), transpose_b=True),
        autograph=False,
    )
    xla = tf.function(attention_logits)
    for shape in FLAGS.logit_shapes:
        rows, keys = (int(v) for v in shape.split("x"))
        q = tf.cast(tf.random.stateless_normal([1, rows, 512], (0, 2)) * 3, tf.bfloat16)
        k = tf.cast(tf.random.stateless_normal([1, keys, 512], (0, 3)) * 3, tf.bfloat16)
        a, b = interleaved_ms(cast_first, xla, q, k)
        reference = cast_first(q, k)
        relative = max_difference(reference, xla(q, k)) / float(tf.reduce_max(tf.abs(reference)))
        row("relu4_1 chunk", f"{rows} × {keys}", f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}×", f"{relative:.0e}")


def first_calls(spec):
    """A fresh process's first and second SANet stylization at `size`², one plan, with this
    process's CPU forms (``cpu``) or the one-op forms TFLite graphs keep (``one-op``)."""
    from tfstyle.kernels import for_tflite
    from tfstyle.models.sanet import SANetStylizer
    from tfstyle.precision import plan_named

    size, plan, forms = spec.split(":")
    stylizer = SANetStylizer(**plan_named("sanet", plan).network_kwargs())
    image = tf.random.stateless_uniform([int(size), int(size), 3], (0, 4)).numpy()
    run = lambda: stylizer.stylize(image, image)  # noqa: E731
    run = for_tflite(run) if forms == "one-op" else run
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"first": seconds[0], "second": seconds[1]}))


def first_call_table():
    print("\n| size | plan | forms | first stylization, s | second, s |")
    print("|---|---|---|---|---|")
    for size in FLAGS.first_call_sizes:
        for plan in ("float32", "bfloat16"):
            for forms in ("one-op", "cpu"):
                result = run_child(__file__, f"--child={size}:{plan}:{forms}")
                if "error" in result:
                    row(f"{size}²", plan, forms, "failed", result["error"])
                else:
                    row(f"{size}²", plan, forms, f"{result['first']:.2f}", f"{result['second']:.3f}")


def main(argv):
    del argv
    if FLAGS.child:
        first_calls(FLAGS.child)
        return
    print(f"{platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}, median of {FLAGS.rounds}")
    pads()
    convs()
    logits()
    if FLAGS.first_call_sizes:
        first_call_table()


if __name__ == "__main__":
    app.run(main)
