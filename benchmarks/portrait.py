"""Portrait stylization time (segmentation + both blend modes) against one plain SANet
stylization, in the same process on the same weights and images.

Plain: `SANetStylizer.stylize(content, style)`. Portrait: TFLite person segmentation
(MediaPipe selfie model, shipped in tests/data) + `PortraitStylizer.stylize`
with the default settings (person α 0.6, W2 0.3), in feature and pixel blend.
Random weights: speed only.

    python benchmarks/portrait.py --sizes=512,1024
"""

import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from absl import app, flags  # noqa: E402
from timing import median_seconds  # noqa: E402  (benchmarks/timing.py)

from tfstyle.image import load_image, resize  # noqa: E402
from tfstyle.models.sanet import SANetStylizer  # noqa: E402
from tfstyle.portraits.compose import PortraitSettings, PortraitStylizer  # noqa: E402
from tfstyle.portraits.segment import TFLiteSegmenter  # noqa: E402
from tfstyle.precision import dtype_policy  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["512", "1024"], "content = style side")
flags.DEFINE_integer("repeats", 3, "timed runs after a warm-up")
flags.DEFINE_string("precision", "auto", "SANet precision")


def timed(fn):
    return median_seconds(fn, FLAGS.repeats)


def main(argv):
    del argv
    keras.utils.set_random_seed(0)
    stylizer = SANetStylizer(dtype=dtype_policy(FLAGS.precision))
    portrait = PortraitStylizer(stylizer, TFLiteSegmenter("tfstyle/data/selfie_segmentation.tflite"))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, SANet {stylizer.dtype_policy.name}; "
        f"median of {FLAGS.repeats} runs after a warm-up\n"
    )
    print("| size | plain stylize s | portrait feature s | ratio | portrait pixel s | ratio |")
    print("|---|---|---|---|---|---|")
    content_full = load_image("tests/data/woman_smiling_portrait.jpg")
    style_full = load_image("examples/hokusai_great_wave.jpg")
    for size in (int(s) for s in FLAGS.sizes):
        content, style = resize(content_full, (size, size)), resize(style_full, (size, size))
        plain = timed(lambda: stylizer.stylize(content, style))
        feature = timed(lambda: portrait.stylize(content, style, settings=PortraitSettings()))
        pixel = timed(lambda: portrait.stylize(content, style, settings=PortraitSettings(blend="pixel")))
        print(
            f"| {size}² | {plain:.2f} | {feature:.2f} | {feature / plain:.2f}× | {pixel:.2f} | "
            f"{pixel / plain:.2f}× |",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
