"""Time per Adam step of tfstyle's Gatys loop against the TensorFlow tutorial's loop.

The peer is the loop of TensorFlow's "Neural style transfer" tutorial
(keras.applications VGG19, block5_conv2 / block1..5_conv1, einsum Gram,
tf.function step), written out below. Both run in the same process on the
same random weights and the same images; tfstyle uses the ``tf-tutorial``
preset so the layers match. Random weights: this measures speed and the
effect of precision on the losses, never stylization quality.

    python benchmarks/gatys.py --sizes=256,512 --steps=10
"""

import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from tf_tutorial import CONTENT_LAYERS, STYLE_LAYERS, TutorialStyleContentModel  # noqa: E402

from tfstyle.image import fit, load_image  # noqa: E402
from tfstyle.optimization.optimize import GatysTransfer, OptimizeConfig  # noqa: E402
from tfstyle.precision import cpu_has_bf16  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["256", "512"], "longer side of the content image")
flags.DEFINE_integer("steps", 10, "timed steps per configuration (after 2 warm-up steps)")
flags.DEFINE_string("content", "examples/grace_hopper.jpg", "content image")
flags.DEFINE_string("style", "examples/hokusai_great_wave.jpg", "style image")

WARMUP = 2


def tutorial_step_times(vgg, content, style, steps):
    extractor = TutorialStyleContentModel(vgg)
    style_targets = extractor(tf.constant(style[None]))["style"]
    content_targets = extractor(tf.constant(content[None]))["content"]
    image = tf.Variable(content[None])
    opt = keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=1e-1)
    style_weight, content_weight, total_variation_weight = 1e-2, 1e4, 30

    def style_content_loss(outputs):
        style_outputs, content_outputs = outputs["style"], outputs["content"]
        style_loss = tf.add_n(
            [
                tf.reduce_mean((style_outputs[name] - style_targets[name]) ** 2)
                for name in style_outputs.keys()
            ]
        )
        style_loss *= style_weight / len(STYLE_LAYERS)
        content_loss = tf.add_n(
            [
                tf.reduce_mean((content_outputs[name] - content_targets[name]) ** 2)
                for name in content_outputs.keys()
            ]
        )
        content_loss *= content_weight / len(CONTENT_LAYERS)
        return style_loss + content_loss

    @tf.function()
    def train_step(image):
        with tf.GradientTape() as tape:
            outputs = extractor(image)
            loss = style_content_loss(outputs)
            loss += total_variation_weight * tf.image.total_variation(image)
        grad = tape.gradient(loss, image)
        opt.apply_gradients([(grad, image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return loss

    times = []
    for _ in range(WARMUP + steps):
        start = time.perf_counter()
        train_step(image).numpy()
        times.append(time.perf_counter() - start)
    return times[WARMUP:]


# ---- tfstyle -----------------------------------------------------------------


def tfstyle_run(transfer, content, style, steps):
    stamps = []
    config = OptimizeConfig(preset="tf-tutorial", steps=WARMUP + steps)
    result = transfer.run(
        content, style, config, callback=lambda step, losses, image: stamps.append(time.perf_counter())
    )
    return np.diff(stamps)[WARMUP - 1 :], result


def psnr(a, b):
    return 10 * np.log10(1.0 / max(np.mean((a - b) ** 2), 1e-12))


def main(argv):
    del argv
    keras.utils.set_random_seed(0)
    vgg = keras.applications.VGG19(include_top=False, weights=None)
    ours32 = GatysTransfer(None, precision="float32", taps=CONTENT_LAYERS + STYLE_LAYERS)
    oursbf = GatysTransfer(None, precision="bfloat16", taps=CONTENT_LAYERS + STYLE_LAYERS)
    for transfer in (ours32, oursbf):  # same weights everywhere
        for layer in transfer.encoder.layers:
            if layer.weights:
                layer.set_weights(vgg.get_layer(layer.name).get_weights())
    content_full, style_full = load_image(FLAGS.content), load_image(FLAGS.style)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"bf16 native: {cpu_has_bf16()}, TF {tf.__version__}, Keras {keras.__version__}"
    )
    print(f"timed steps: {FLAGS.steps} after {WARMUP} warm-up; median seconds per step\n")
    print(
        "| size | peer (TF tutorial, f32) | tfstyle f32 | tfstyle bf16 | speed-up f32 | "
        "speed-up bf16 | loss after N steps f32 / bf16 | PSNR bf16 vs f32 result |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size in (int(s) for s in FLAGS.sizes):
        content = fit(content_full, size)
        style = fit(style_full, size)
        peer = statistics.median(tutorial_step_times(vgg, content, style, FLAGS.steps))
        t32, r32 = tfstyle_run(ours32, content, style, FLAGS.steps)
        tbf, rbf = tfstyle_run(oursbf, content, style, FLAGS.steps)
        m32, mbf = statistics.median(t32), statistics.median(tbf)
        print(
            f"| {content.shape[1]}x{content.shape[0]} | {peer:.3f} | {m32:.3f} | {mbf:.3f} | "
            f"{peer / m32:.2f}x | {peer / mbf:.2f}x | {r32.history[-1]['total']:.4g} / "
            f"{rbf.history[-1]['total']:.4g} | {psnr(r32.image, rbf.image):.1f} dB |",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
