"""SANet training: smoke run, exact resume, mirrored == default, bfloat16, program end to end."""

import glob
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import PAINTING, PORTRAIT
from test_training_data import write_images

from training import data
from training.sanet import SANetConfig, SANetTask
from training.trainer import Trainer, TrainerConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("train-data")
    rng = np.random.default_rng(0)
    content = write_images(base / "content", 8, (72, 64), rng)
    raw = PORTRAIT.read_bytes()
    (content / "corrupt.jpg").write_bytes(raw[: len(raw) // 2])  # truncated JPEG
    (content / "readme.png").write_text("not an image")  # non-image with an image name
    return str(content), str(write_images(base / "style", 8, (64, 80), rng))


def make_trainer(folders, model_dir, steps, lr=1e-4, init_seed=0, batch=2, **trainer_kw):
    keras.utils.set_random_seed(init_seed)
    config = SANetConfig(
        content=data.ImageSource(path=folders[0]),
        style=data.ImageSource(path=folders[1]),
        vgg_weights=None,
        pipeline=data.PipelineConfig(size=64, crop=64, seed=0),
        global_batch_size=batch,
        learning_rate=lr,
    )
    trainer_config = TrainerConfig(
        model_dir=str(model_dir),
        steps=steps,
        global_batch_size=batch,
        **{"log_every": 5, "summary_every": 5, "image_every": 10, "checkpoint_every": 10, **trainer_kw},
    )
    return Trainer(SANetTask(config), trainer_config)


def read_events(model_dir):
    scalars, images = {}, set()
    for path in glob.glob(os.path.join(model_dir, "train", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                if plugin == "images":
                    images.add(value.tag)
                elif plugin == "scalars":
                    scalars.setdefault(value.tag, []).append(float(tf.make_ndarray(value.tensor)))
    return scalars, images


@pytest.mark.slow
def test_smoke_training_lowers_the_loss(folders, tmp_path, caplog):
    trainer = make_trainer(folders, tmp_path, steps=40, lr=1e-3)
    with caplog.at_level("WARNING"):
        first = trainer.train(steps=3)
    # the content folder holds a truncated JPEG and a non-image: skipped and reported
    assert "corrupt.jpg: truncated JPEG" in caplog.text
    assert "readme.png: not an image" in caplog.text and "skipped 2 of 10 files" in caplog.text
    last = trainer.train()
    assert all(np.isfinite(v) for v in last.values())
    assert set(last) == {"content", "style", "identity1", "identity2", "total"}
    # stated margin: at least 30 % lower total loss after 40 steps than after 3
    print(f"total loss: {first['total']:.4g} after 3 steps, {last['total']:.4g} after 40")
    assert last["total"] < 0.7 * first["total"], (first, last)
    assert len(trainer.manager.checkpoints) >= 1
    scalars, images = read_events(str(tmp_path))
    for tag in (
        "loss/total",
        "loss/content",
        "loss/style",
        "loss/identity1",
        "loss/identity2",
        "learning_rate",
        "throughput/steps_per_second",
        "throughput/images_per_second",
    ):
        assert tag in scalars, tag
    assert np.isfinite(scalars["loss/total"]).all()
    assert images == {"content | style | stylized | identity"}


@pytest.mark.slow
def test_resume_continues_exactly(folders, tmp_path):
    straight = make_trainer(folders, tmp_path / "straight", steps=6)
    straight.train()
    interrupted = make_trainer(folders, tmp_path / "resumed", steps=6)
    interrupted.train(steps=3)
    interrupted.save()
    del interrupted  # "kill": everything below is rebuilt from the checkpoint
    # another random init on purpose: the checkpoint must overwrite it
    resumed = make_trainer(folders, tmp_path / "resumed", steps=6, init_seed=123)
    # the frozen encoder is not checkpointed; a real run loads it from --vgg_weights
    resumed.task.stylizer.encoder.set_weights(straight.task.stylizer.encoder.get_weights())
    assert resumed.restore() == 3
    resumed.train()
    assert resumed.current_step == 6
    for name in ("transform", "decoder"):
        for a, b in zip(straight.task.models[name].weights, resumed.task.models[name].weights):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)
    for a, b in zip(straight.optimizer.variables, resumed.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-9)


@pytest.mark.slow
def test_mixed_bfloat16_step_is_finite(folders, tmp_path):
    from training.trainer import set_precision

    try:
        trainer = make_trainer(folders, tmp_path, steps=2, precision="bfloat16")
        assert trainer.task.stylizer.compute_dtype == "bfloat16"
        assert not isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer)
        losses = trainer.train()
    finally:
        set_precision("float32")
    assert all(np.isfinite(v) for v in losses.values())


MIRRORED_CHECK = textwrap.dedent("""
    import sys, numpy as np, tensorflow as tf, keras
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    sys.path[:0] = [{root!r}, {tests!r}]
    from training import data
    from training.sanet import SANetConfig, SANetTask
    from training.trainer import Trainer, TrainerConfig

    class SGDTask(SANetTask):  # SGD: the update is the gradient itself
        def make_optimizer(self):
            return keras.optimizers.SGD(1.0)

    def updates(strategy, model_dir):
        keras.utils.set_random_seed(0)
        config = SANetConfig(content=data.ImageSource(path={content!r}),
                             style=data.ImageSource(path={style!r}), vgg_weights=None,
                             pipeline=data.PipelineConfig(size=48, crop=48), global_batch_size=4)
        trainer = Trainer(SGDTask(config), TrainerConfig(model_dir=model_dir, steps=1,
                          global_batch_size=4), strategy)
        before = [w.numpy() for w in trainer.task.trainable_variables()]
        trainer.train()
        return [w.numpy() - b for w, b in zip(trainer.task.trainable_variables(), before)]

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    a = updates(tf.distribute.get_strategy(), {tmp!r} + "/default")
    b = updates(mirrored, {tmp!r} + "/mirrored")
    scale = max(np.abs(x).max() for x in a)
    worst = max(np.abs(x - y).max() for x, y in zip(a, b))
    print("max update", scale, "max difference", worst)
    assert scale > 0 and worst <= 1e-4 * scale, (scale, worst)
""")


@pytest.mark.slow
def test_mirrored_strategy_matches_default(folders, tmp_path):
    """Two logical CPUs need a fresh process (devices are fixed once TF starts)."""
    script = MIRRORED_CHECK.format(
        root=ROOT, tests=os.path.join(ROOT, "tests"), content=folders[0], style=folders[1], tmp=str(tmp_path)
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "max difference" in proc.stdout
    print(proc.stdout.strip())


@pytest.mark.slow
def test_program_end_to_end_and_export_loads_in_stylize(folders, tmp_path):
    model_dir = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "training.sanet",
        f"--content_dir={folders[0]}",
        f"--style_dir={folders[1]}",
        f"--model_dir={model_dir}",
        "--vgg_weights=random",
        "--steps=4",
        "--batch_size=2",
        "--image_size=64",
        "--crop_size=64",
        "--log_every=2",
        "--checkpoint_every=2",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "steps/s" in proc.stderr and "images/s" in proc.stderr
    # no --recipe: the paper's, written into the run's config
    import json

    task = json.loads((model_dir / "config.json").read_text())["task"]
    assert (task["identity1_weight"], task["identity2_weight"], task["lr_decay"]) == (1.0, 50.0, 0.0)
    assert task["pipeline"]["resize"] == "shorter" and task["pipeline"]["size"] == 64
    flagfile = (model_dir / "flags.txt").read_text()
    assert "--steps=4" in flagfile and "--batch_size=2" in flagfile
    # restarting with a larger --steps resumes from step 4
    proc = subprocess.run(
        cmd[:-6] + ["--steps=6"] + cmd[-5:], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert proc.returncode == 0 and "at step 4" in proc.stderr, proc.stderr[-3000:]
    out = tmp_path / "stylized.png"
    from tfstyle.cli import main

    assert (
        main(
            [
                "stylize",
                "--content",
                str(PORTRAIT),
                "--style",
                str(PAINTING),
                "--output",
                str(out),
                "--weights",
                str(model_dir / "export"),
                "--max-size",
                "64",
                "--quiet",
            ]
        )
        == 0
    )
    assert out.exists()


class _Flag:
    def __init__(self, value):
        self.value = value


class _FlagValues(dict):
    """What apply_recipe reads of absl's FlagValues: ``recipe`` and ``[name].value``."""

    def __init__(self, recipe, **given):
        from training.sanet import RECIPES

        super().__init__({name: _Flag(given.get(name)) for name in RECIPES["paper"]})
        self.recipe = recipe


@pytest.mark.parametrize(
    "recipe, given, expected",
    [
        (
            "paper",
            {},
            {"identity1_weight": 1.0, "identity2_weight": 50.0, "resize": "shorter", "lr_decay": 0.0},
        ),
        (
            "port",
            {},
            {"identity1_weight": 50.0, "identity2_weight": 1.0, "resize": "fixed", "lr_decay": 5e-5},
        ),
        (
            "port",
            {"identity1_weight": 7.0, "resize": "shorter"},
            {"identity1_weight": 7.0, "resize": "shorter"},
        ),
    ],
)
def test_recipes_fill_what_the_command_line_leaves_unset(recipe, given, expected):
    """--recipe paper (default): λ 1/3/1/50, shorter side 512 with the aspect kept, Adam 1e-4
    constant; --recipe port: the port's 50/1, a fixed 512², lr decay 5e-5; a given flag wins."""
    from training.sanet import apply_recipe

    values = _FlagValues(recipe, **given)
    filled = apply_recipe(values)
    for name, value in expected.items():
        assert values[name].value == value, name
    assert set(filled) == set(values) - set(given)
    assert values["content_weight"].value == 1.0 and values["style_weight"].value == 3.0
    assert values["learning_rate"].value == 1e-4 and values["crop_size"].value == 256


def test_paper_resize_keeps_the_aspect_before_the_crop():
    """The paper's policy on a generated 300×600 image: shorter side to 512 (512×1024, aspect
    kept), then a 256² crop; the port's: 512×512 (aspect lost)."""
    image = tf.random.stateless_uniform((300, 600, 3), seed=(1, 2))
    paper = data.PipelineConfig(resize="shorter", size=512, crop=256, seed=0)
    port = data.PipelineConfig(resize="fixed", size=512, crop=256, seed=0)
    assert data._resize(image, paper).shape == (512, 1024, 3)
    assert data._resize(image, port).shape == (512, 512, 3)
    assert data.augment(tf.constant(0, tf.int64), image, paper).shape == (256, 256, 3)
    assert SANetConfig(content=None, style=None, vgg_weights=None).pipeline.resize == "shorter"
