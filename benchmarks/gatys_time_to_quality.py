"""Gatys: wall time until the picture is done, against the TensorFlow tutorial's 300 Adam steps.

The peer is the loop of TensorFlow's "Neural style transfer" tutorial
(benchmarks/tf_tutorial.py has it as published): 300 Adam steps at --size, float32.
Its total loss after those steps (style + content + 30 · tf.image.total_variation,
evaluated in float32) is the target. tfstyle then runs with the same layers,
loss weights, VGG19 weights and images, under its default settings and under
variants, and the table gives the wall time from the call until the image
first reaches the target loss (judged by the tutorial's own float32 loss on
tfstyle's image, outside the timed path: snapshots are evaluated afterwards),
the time until the run stops by itself, and its final loss.

The VGG19 has seeded random He-normal weights (ImageNet weights are not
reachable here): the losses have a trained network's scale, the pictures
mean nothing. All runs share the process, the weights and the images.

    python benchmarks/gatys_time_to_quality.py --size=512
"""

import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from tf_tutorial import CONTENT_LAYERS, STYLE_LAYERS, TutorialStyleContentModel  # noqa: E402

from tfstyle.image import fit, load_image  # noqa: E402
from tfstyle.optimization.optimize import GatysTransfer  # noqa: E402
from tfstyle.optimization.settings import OptimizeConfig  # noqa: E402
from tfstyle.precision import fixed_plan  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("size", 512, "longer side of the content image")
flags.DEFINE_integer("tutorial_steps", 300, "the peer's Adam steps")
flags.DEFINE_string("content", "examples/grace_hopper.jpg", "content image")
flags.DEFINE_string("style", "examples/hokusai_great_wave.jpg", "style image")
flags.DEFINE_list("variants", [], "only these variant keys (default: all)")
flags.DEFINE_integer("lbfgs_steps", 300, "iterations of the L-BFGS variants (run to the end)")

STYLE_WEIGHT, CONTENT_WEIGHT, TV_WEIGHT = 1e-2, 1e4, 30.0  # the tutorial's


def he_vgg(seed=0):
    """keras.applications VGG19 with He-normal kernels: features on a trained network's scale."""
    vgg = keras.applications.VGG19(include_top=False, weights=None)
    rng = np.random.default_rng(seed)
    for layer in vgg.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            std = np.sqrt(2.0 / np.prod(kernel.shape[:3]))
            layer.set_weights(
                [
                    rng.normal(0, std, kernel.shape).astype(np.float32),
                    rng.uniform(-0.05, 0.05, bias.shape).astype(np.float32),
                ]
            )
    return vgg


class TutorialLoss:
    """The tutorial's total loss, float32, as a judge of any image."""

    def __init__(self, vgg, content, style):
        self.extractor = TutorialStyleContentModel(vgg)
        self.style_targets = self.extractor(tf.constant(style[None]))["style"]
        self.content_targets = self.extractor(tf.constant(content[None]))["content"]
        self.evaluate = tf.function(self.total)

    def total(self, image):
        outputs = self.extractor(image)
        style = tf.add_n(
            [tf.reduce_mean((outputs["style"][n] - self.style_targets[n]) ** 2) for n in STYLE_LAYERS]
        )
        content = tf.add_n(
            [tf.reduce_mean((outputs["content"][n] - self.content_targets[n]) ** 2) for n in CONTENT_LAYERS]
        )
        loss = style * STYLE_WEIGHT / len(STYLE_LAYERS) + content * CONTENT_WEIGHT / len(CONTENT_LAYERS)
        return loss + TV_WEIGHT * tf.image.total_variation(image)[0]

    def __call__(self, image):
        return float(self.evaluate(tf.constant(np.asarray(image, np.float32)[None])))


def tutorial_run(vgg, content, style, steps):
    """The tutorial's loop, timed from building its extractor to the last step; (seconds, image)."""
    start = time.perf_counter()
    judge = TutorialLoss(vgg, content, style)
    image = tf.Variable(content[None])
    opt = keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=1e-1)

    @tf.function()
    def train_step(image):
        with tf.GradientTape() as tape:
            loss = judge.total(image)
        grad = tape.gradient(loss, image)
        opt.apply_gradients([(grad, image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return loss

    for _ in range(steps):
        train_step(image)
    final = image.numpy()[0]
    return time.perf_counter() - start, final


def variants(height, width):
    """(key, name, precision, OptimizeConfig overrides); the first is tfstyle's defaults."""
    # the tutorial's loss: tf.image.total_variation sums |Δ| over pixels and channels,
    # `absolute` averages it, so its weight is 30 · H·W·3 (equal up to the one-pixel edge)
    same_loss = dict(preset="tf-tutorial", tv_variant="absolute", tv_weight=TV_WEIGHT * height * width * 3)
    adam = dict(same_loss, optimizer="adam", steps=FLAGS.tutorial_steps, tolerance=0.0, scales=1)
    lbfgs = dict(same_loss, optimizer="lbfgs", steps=FLAGS.lbfgs_steps, tolerance=0.0)
    # the defaults' own --steps 500 only adds time after the point the table reports
    yield (
        "defaults",
        "tfstyle defaults (Adam), --steps 300",
        "auto",
        dict(same_loss, steps=FLAGS.tutorial_steps),
    )
    yield "adam-fast", "Adam", "fast", adam
    yield "lbfgs-f32", "L-BFGS", "float32", dict(lbfgs, scales=1)
    yield "lbfgs-fast", "L-BFGS", "fast", dict(lbfgs, scales=1)
    yield "lbfgs-f32-2", "L-BFGS, coarse to fine", "float32", dict(lbfgs, scales=2)


def tfstyle_run(vgg, precision, config, content, style):
    """Wall time from building the loss network; snapshots (seconds, image) at full size."""
    start = time.perf_counter()
    transfer = GatysTransfer(None, precision=precision, taps=CONTENT_LAYERS + STYLE_LAYERS)
    for layer in transfer.encoder.layers:
        if layer.weights:
            layer.set_weights(vgg.get_layer(layer.name).get_weights())
    snapshots = []

    def callback(step, losses, image):
        image = np.array(image)[0]
        if image.shape == content.shape:
            snapshots.append((time.perf_counter() - start, image))

    result = transfer.run(content, style, config, callback=callback)
    return time.perf_counter() - start, result, snapshots


def main(argv):
    del argv
    vgg = he_vgg(0)
    content, style = fit(load_image(FLAGS.content), FLAGS.size), fit(load_image(FLAGS.style), FLAGS.size)
    height, width = content.shape[:2]
    judge = TutorialLoss(vgg, content, style)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__}, "
        f"Keras {keras.__version__}; content {width}x{height}, style {style.shape[1]}x{style.shape[0]}; "
        "VGG19 with seeded He-normal weights\n"
    )
    peer_seconds, peer_image = tutorial_run(vgg, content, style, FLAGS.tutorial_steps)
    target = judge(peer_image)
    print(
        f"| run | precision | time to the tutorial's loss, s | speed-up | iterations | run stops at, s | "
        f"final loss (target {target:.4g}) |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| TF tutorial, {FLAGS.tutorial_steps} Adam steps | float32 | {peer_seconds:.1f} | 1.00× | "
        f"{FLAGS.tutorial_steps} | {peer_seconds:.1f} | {target:.4g} |",
        flush=True,
    )
    for key, name, precision, overrides in variants(height, width):
        if FLAGS.variants and key not in FLAGS.variants:
            continue
        config = OptimizeConfig(**overrides)
        seconds, result, snapshots = tfstyle_run(vgg, precision, config, content, style)
        reached = next((t for t, image in snapshots if judge(image) <= target), None)
        final = judge(result.image)
        when = f"{reached:.1f}" if reached is not None else "not reached"
        speedup = f"**{peer_seconds / reached:.2f}×**" if reached is not None else "—"
        label = f"{name} ({config.optimizer}, {config.scales} scale(s), tolerance {config.tolerance:g})"
        plan = fixed_plan(precision, "gatys").describe()
        print(
            f"| {label} | {plan} | {when} | {speedup} | {result.steps} | {seconds:.1f} | {final:.4g} |",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
