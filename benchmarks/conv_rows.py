"""One image's 3×3 convolution: whole, or as its two row halves in one batch (`tfstyle.tiling`).

oneDNN's kernel choice for a batch of one image is slow when there are many channels
on few positions; stacking the image's two overlapping row halves as a batch of two
gives the same numbers (checked here: max |difference|) in less time. This table is
where `tfstyle.tiling.ROW_BATCH_MIN_CHANNELS` comes from. The shapes are SANet's (and
VGG19's) levels for a 512² input; the peer is the same conv on the whole image, in the
same process.

    python benchmarks/conv_rows.py --repeats=7
"""

import os
import platform

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags
from timing import median_seconds  # benchmarks/timing.py

from tfstyle.tiling import conv_rows_as_batch

FLAGS = flags.FLAGS
flags.DEFINE_list("levels", ["512x64", "256x128", "128x256", "64x512", "32x512"], "side x channels")
flags.DEFINE_list("dtypes", ["float32", "bfloat16"], "compute dtypes")
flags.DEFINE_integer("repeats", 7, "timed calls per configuration (median)")


def main(argv):
    del argv
    print(f"{platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}")
    print("| level | dtype | whole, ms | row halves as a batch, ms | whole / halves | max abs difference |")
    print("|---|---|---|---|---|---|")
    for level in FLAGS.levels:
        side, channels = (int(v) for v in level.split("x"))
        for dtype in FLAGS.dtypes:
            keras.utils.set_random_seed(0)
            conv = keras.layers.Conv2D(channels, 3, padding="valid", dtype=dtype)
            x = tf.constant(
                np.random.default_rng(0).uniform(size=(1, side + 2, side + 2, channels)), tf.float32
            )
            conv.build(x.shape)
            whole = tf.function(lambda x: conv(x))
            halves = tf.function(lambda x: conv_rows_as_batch(conv, x))
            diff = float(
                tf.reduce_max(tf.abs(tf.cast(whole(x), tf.float32) - tf.cast(halves(x), tf.float32)))
            )
            a = median_seconds(lambda: whole(x).numpy(), FLAGS.repeats)
            b = median_seconds(lambda: halves(x).numpy(), FLAGS.repeats)
            times = f"{a * 1e3:.1f} | {b * 1e3:.1f} | {a / b:.2f}×"
            print(f"| {side}²×{channels} | {dtype} | {times} | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    app.run(main)
