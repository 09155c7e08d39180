"""What keeps SANet's encoder above its convolution floor: batching and reflection padding.

Times, interleaved in one process (median of --repeats after a warm-up), the Keras encoder
on content and style as two calls of one image, as one batch of two, and as two encoders in
one graph; the same with every reflection pad replaced by zero padding fused into the conv
(not the network's picture: a cost estimate only); and TF's MirrorPad kernel against the
same padding built from two concatenations (bit-identical), per dtype.

    python benchmarks/sanet_encoder_overheads.py --size=512
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT]

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("size", 512, "content and style side")
flags.DEFINE_integer("repeats", 7, "interleaved timed rounds")


def interleaved(fns: dict, repeats: int) -> dict:
    for fn in fns.values():
        fn()
    times: dict = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def concat_reflect(x):
    x = tf.concat([x[:, 1:2], x, x[:, -2:-1]], 1)
    return tf.concat([x[:, :, 1:2], x, x[:, :, -2:-1]], 2)


def main(argv):
    del argv
    global tf
    import keras
    import tensorflow as tf

    from tfstyle.models.sanet import SANetStylizer

    size = FLAGS.size
    stylizer = SANetStylizer(dtype="float32")
    content, style = tf.random.uniform([1, size, size, 3]), tf.random.uniform([1, size, size, 3])
    pair = tf.concat([content, style], 0)
    encode = tf.function(lambda x: stylizer.encoder(x)["relu5_1"], reduce_retracing=True)
    both = tf.function(lambda x, y: (stylizer.encoder(x)["relu5_1"], stylizer.encoder(y)["relu5_1"]))

    def unpadded(x):  # every 3×3 conv with its zero padding fused instead of the reflection pad
        for layer in stylizer.encoder.layers[1:]:
            if "pad" in layer.name:
                continue
            if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (3, 3):
                x = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, layer.kernel, 1, "SAME"), layer.bias))
            else:
                x = layer(x)
        return x

    zero_padded = tf.function(unpadded)
    print(f"SANet encoder to relu5_1 at {size}², float32, content + style (seconds):\n")
    results = interleaved(
        {
            "two calls of one image": lambda: (encode(content).numpy(), encode(style).numpy()),
            "one batch of two": lambda: encode(pair).numpy(),
            "two encoders in one graph": lambda: [t.numpy() for t in both(content, style)],
            "two calls, zero padding fused (estimate)": lambda: (
                zero_padded(content).numpy(),
                zero_padded(style).numpy(),
            ),
        },
        FLAGS.repeats,
    )
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.3f} |")
    print("\nreflection padding of one activation, MirrorPad vs two concatenations (ms):\n")
    for dtype in (tf.float32, tf.bfloat16):
        for shape in ([1, size, size, 64], [1, size // 2, size // 2, 128]):
            x = tf.cast(tf.random.uniform(shape), dtype)
            mirror = tf.function(lambda x: tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT"))
            concat = tf.function(concat_reflect)
            assert np.array_equal(mirror(x).numpy(), concat(x).numpy())
            pads = interleaved({"mirror": lambda: mirror(x).numpy(), "concat": lambda: concat(x).numpy()}, 15)
            print(f"| {dtype.name} {shape} | {pads['mirror'] * 1e3:.1f} | {pads['concat'] * 1e3:.1f} |")


if __name__ == "__main__":
    app.run(main)
