"""SANet training throughput: steps/s and images/s of `training.sanet`'s train step.

Batch 5, 256×256 crops (the published recipe), random weights and generated
images (speed only). Each configuration runs in a fresh process (the dtype
policy is global); precision and XLA vary.

    python benchmarks/train_sanet.py --steps=5 --configs=float32,bfloat16,float32+xla
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_integer("steps", 5, "timed steps after 2 warm-up steps")
flags.DEFINE_integer("batch_size", 5, "global batch")
flags.DEFINE_integer("crop", 256, "crop side")
flags.DEFINE_list("configs", ["float32", "bfloat16"], "precision[+xla] per run")
flags.DEFINE_string("child", None, "internal")


def child(config):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, ROOT)
    import keras
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    from training import data
    from training.sanet import SANetConfig, SANetTask
    from training.trainer import Trainer, TrainerConfig

    precision, _, xla = config.partition("+")
    keras.utils.set_random_seed(0)
    tmp = tempfile.mkdtemp()
    rng = np.random.default_rng(0)
    for kind in ("content", "style"):
        os.makedirs(os.path.join(tmp, kind))
        for i in range(20):
            Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)).save(
                os.path.join(tmp, kind, f"{i}.jpg")
            )
    crop = FLAGS.crop
    task = SANetTask(
        SANetConfig(
            content=data.ImageSource(path=os.path.join(tmp, "content")),
            style=data.ImageSource(path=os.path.join(tmp, "style")),
            vgg_weights=None,
            global_batch_size=FLAGS.batch_size,
            pipeline=data.PipelineConfig(size=crop * 2, crop=crop),
        )
    )
    trainer = Trainer(
        task,
        TrainerConfig(
            model_dir=tmp,
            precision=precision,
            steps=10**9,
            global_batch_size=FLAGS.batch_size,
            summary_every=10**9,
            image_every=10**9,
            checkpoint_every=10**9,
            jit_compile=bool(xla),
        ),
    )
    trainer.train(steps=2)
    start = time.perf_counter()
    trainer.train(steps=2 + FLAGS.steps)
    seconds = (time.perf_counter() - start) / FLAGS.steps
    device = (
        "GPU: "
        + tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0]).get(
            "device_name", "?"
        )
        if tf.config.list_physical_devices("GPU")
        else f"CPU ({os.cpu_count()} cores)"
    )
    print(json.dumps({"seconds_per_step": seconds, "device": device}))


def main(argv):
    del argv
    if FLAGS.child:
        child(FLAGS.child)
        return
    print(
        f"machine: {platform.machine()}, batch {FLAGS.batch_size}, {FLAGS.crop}px crops, "
        f"{FLAGS.steps} timed steps after 2 warm-up\n"
    )
    print("| device | precision | XLA | s/step | steps/s | images/s |")
    print("|---|---|---|---|---|---|")
    for config in FLAGS.configs:
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                f"--child={config}",
                f"--steps={FLAGS.steps}",
                f"--batch_size={FLAGS.batch_size}",
                f"--crop={FLAGS.crop}",
            ],
            capture_output=True,
            text=True,
        )
        precision, _, xla = config.partition("+")
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1][:100]
            print(f"| ? | {precision} | {'yes' if xla else 'no'} | failed: {tail} | | |")
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        s = result["seconds_per_step"]
        print(
            f"| {result['device']} | {precision} | {'yes' if xla else 'no'} | {s:.2f} | "
            f"{1 / s:.3f} | {FLAGS.batch_size / s:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
