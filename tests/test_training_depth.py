"""Depth training: pair sampling rules, learning on generated scenes, the program end to end."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import PORTRAIT

from tfstyle.cli import main as tfstyle_main
from tfstyle.losses import gather_pair_depths
from tfstyle.models import depth_metrics as metrics
from training import depth_data
from training.config import DataSpec, from_flags
from training.depth import DepthConfig, DepthTask
from training.trainer import Trainer, TrainerConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_pair_sampler_obeys_distance_and_difference_rules(rng):
    config = depth_data.PairConfig(
        pairs_per_image=300, max_distance=12, min_difference=0.05, equal_fraction=0.25, equal_threshold=0.01
    )
    checked = 0
    for trial in range(20):
        depth = np.cumsum(rng.normal(size=(48, 40)), axis=0).astype(np.float32)
        depth[10:20, 5:15] = depth[10, 5]  # a flat patch, so equal pairs exist
        pairs, labels, valid = (x.numpy() for x in depth_data.sample_pairs(depth, [trial, 1], config))
        span = depth.max() - depth.min()
        for (ya, xa, yb, xb), label, ok in zip(pairs, labels, valid):
            if not ok:
                continue
            checked += 1
            assert 0 <= min(ya, yb) and max(ya, yb) < 48 and 0 <= min(xa, xb) and max(xa, xb) < 40
            assert 0 < (ya - yb) ** 2 + (xa - xb) ** 2 <= 12**2
            gap = depth[ya, xa] - depth[yb, xb]
            if label == 0:
                assert abs(gap) < 0.01 * span
            else:
                assert abs(gap) >= 0.05 * span and label == np.sign(gap)
        assert valid[:225].sum() > 200 and valid[225:].sum() > 0  # ordinal first, then equal
    assert checked > 4000


def test_sampler_is_deterministic_per_seed(rng):
    depth = rng.normal(size=(32, 32)).astype(np.float32)
    a = depth_data.sample_pairs(depth, [3, 4])[0].numpy()
    b = depth_data.sample_pairs(depth, [3, 4])[0].numpy()
    c = depth_data.sample_pairs(depth, [3, 5])[0].numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def held_out_accuracy(model, count=64, size=32):
    ds = depth_data.training_pipeline(
        depth_data.synthetic_dataset(count, size, seed=999),
        (size, size),
        16,
        depth_data.PairConfig(200, 16),
        seed=5,
        repeat=False,
        flip=False,
    )
    diffs, labels, valids = [], [], []
    for image, pairs, label, valid in ds:
        diffs.append(gather_pair_depths(model(image, training=False), pairs).numpy())
        labels.append(label.numpy())
        valids.append(valid.numpy())
    return metrics.ordinal_accuracy(np.concatenate(diffs), np.concatenate(labels), np.concatenate(valids))


@pytest.mark.slow
def test_hourglass_learns_generated_scenes(tmp_path):
    keras.utils.set_random_seed(0)
    config = DepthConfig(
        data=DataSpec("synthetic"),
        size=(32, 32),
        pairs=depth_data.PairConfig(200, 16),
        global_batch_size=8,
        learning_rate=1e-3,
    )
    trainer = Trainer(
        DepthTask(config),
        TrainerConfig(
            model_dir=str(tmp_path),
            steps=300,
            global_batch_size=8,
            log_every=50,
            summary_every=50,
            image_every=300,
            checkpoint_every=300,
        ),
    )
    before = held_out_accuracy(trainer.task.model)
    trainer.train()
    after = held_out_accuracy(trainer.task.model)
    print(f"held-out ordinal accuracy: {before:.3f} before, {after:.3f} after 300 steps")
    assert after >= 0.9, (before, after)


@pytest.mark.slow
def test_depth_program_resumes_and_exports(tmp_path):
    model_dir = tmp_path / "run"
    base = [
        sys.executable,
        "-m",
        "training.depth",
        "--synthetic",
        "--size=32,32",
        f"--model_dir={model_dir}",
        "--batch_size=4",
        "--pairs_per_image=64",
        "--log_every=2",
        "--checkpoint_every=2",
        "--eval_every=4",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    first = subprocess.run(base + ["--steps=4"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "validation at step 4" in first.stderr and "ordinal_accuracy" in first.stderr
    second = subprocess.run(base + ["--steps=6"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert second.returncode == 0 and "at step 4" in second.stderr, second.stderr[-3000:]
    weights = model_dir / "export" / "hourglass.weights.h5"
    assert weights.exists() and (model_dir / "validation").is_dir()
    out = tmp_path / "depth.png"
    assert (
        tfstyle_main(
            [
                "depth",
                "--input",
                str(PORTRAIT),
                "--output",
                str(out),
                "--depth-weights",
                str(weights),
                "--max-size",
                "64",
            ]
        )
        == 0
    )
    assert out.exists()


def write_pairs_csv(folder, count=4, size=48):
    """Generated scenes saved as PNGs plus a CSV of pairs labelled from their depth."""
    from PIL import Image

    rng = np.random.default_rng(1)
    rows = ["image,y_a,x_a,y_b,x_b,relation"]
    for i in range(count):
        image, depth = depth_data.synthetic_scene(i, size)
        Image.fromarray((image * 255).astype(np.uint8)).save(folder / f"scene{i}.png")
        for _ in range(5 + i):
            ya, xa, yb, xb = rng.integers(0, size, 4)
            gap = depth[ya, xa] - depth[yb, xb]
            relation = ">" if gap > 0 else "<" if gap < 0 else "="
            rows.append(f"scene{i}.png,{ya},{xa},{yb},{xb},{relation}")
    (folder / "pairs.csv").write_text("\n".join(rows) + "\n")
    return folder / "pairs.csv"


def test_pairs_csv_source_scales_coordinates(tmp_path):
    csv_path = write_pairs_csv(tmp_path)
    grouped = depth_data.read_pairs_csv(str(csv_path))
    assert len(grouped) == 4 and sorted(len(rows) for _, rows in grouped.values()) == [5, 6, 7, 8]
    ds = depth_data.sparse_pipeline(
        depth_data.pairs_csv_dataset(str(csv_path)), (32, 16), 2, repeat=False, flip=False
    )
    image, pairs, labels, valid = next(iter(ds))
    assert image.shape == (2, 32, 16, 3) and pairs.shape == (2, 8, 4)
    first_image = sorted(grouped)[0]
    original = grouped[first_image][0]
    np.testing.assert_array_equal(pairs.numpy()[0, :5, 0::2], original[:, 0::2] * 32 // 48)
    np.testing.assert_array_equal(pairs.numpy()[0, :5, 1::2], original[:, 1::2] * 16 // 48)
    assert valid.numpy()[0].sum() == 5 and set(np.unique(labels.numpy())) <= {-1, 0, 1}


def test_pairs_csv_bad_relation_is_a_clear_error(tmp_path):
    (tmp_path / "bad.csv").write_text("a.png,1,2,3,4,?\n")
    with pytest.raises(ValueError, match=r"bad.csv:1: expected image,y_a,x_a,y_b,x_b,relation"):
        depth_data.read_pairs_csv(str(tmp_path / "bad.csv"))


@pytest.mark.parametrize("network", ["tiny", pytest.param("hourglass", marks=pytest.mark.slow)])
def test_training_on_pairs_csv_runs(tmp_path, monkeypatch, network):
    if network == "tiny":  # the data path is the point; the hourglass' step is traced in 20 s
        monkeypatch.setattr("training.depth.build_hourglass", tiny_depth_network)
    csv_path = write_pairs_csv(tmp_path)
    config = DepthConfig(
        data=DataSpec("csv", str(csv_path), validation=str(csv_path)), size=(32, 32), global_batch_size=2
    )
    trainer = Trainer(
        DepthTask(config),
        TrainerConfig(model_dir=str(tmp_path / "run"), steps=2, global_batch_size=2, eval_every=2),
    )
    losses = trainer.train()
    assert np.isfinite(losses["ranking"])
    assert 0.0 <= trainer.evaluate()["ordinal_accuracy"] <= 1.0


def tiny_depth_network(weights, dtype=None, name="hourglass"):
    """A two-conv stand-in for the hourglass ([N, H, W, 3] → [N, H, W, 1], built under the global
    policy like it): the Trainer's decisions do not depend on the model, and tracing the hourglass'
    float16 step costs ~30 s on 2 CPU cores."""
    assert weights is None
    image = keras.Input((None, None, 3), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", dtype=dtype)(image)
    return keras.Model(image, keras.layers.Conv2D(1, 3, padding="same", dtype=dtype)(x), name=name)


@pytest.mark.parametrize("network", ["tiny", pytest.param("hourglass", marks=pytest.mark.slow)])
def test_trainer_decides_precision_and_loss_scaling_for_every_task(tmp_path, monkeypatch, network):
    import keras

    if network == "tiny":
        monkeypatch.setattr("training.depth.build_hourglass", tiny_depth_network)
    config = DepthConfig(
        data=DataSpec("synthetic"), size=(32, 32), global_batch_size=2, pairs=depth_data.PairConfig(32, 16)
    )
    try:
        trainer = Trainer(
            DepthTask(config),
            TrainerConfig(model_dir=str(tmp_path), steps=1, global_batch_size=2, precision="float16"),
        )
        assert isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer)
        assert trainer.task.model.compute_dtype == "float16"
        assert np.isfinite(trainer.train()["ranking"])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    plain = Trainer(
        DepthTask(config), TrainerConfig(model_dir=str(tmp_path / "f32"), steps=1, global_batch_size=2)
    )
    assert not isinstance(plain.optimizer, keras.optimizers.LossScaleOptimizer)
    assert plain.task.model.compute_dtype == "float32"


def test_flags_override_config_fields_by_name():
    from absl import flags

    values = flags.FlagValues()
    flags.DEFINE_float("learning_rate", 0.5, "", flag_values=values)
    flags.DEFINE_integer("batch_size", 7, "", flag_values=values)
    flags.DEFINE_integer("unrelated", 1, "", flag_values=values)
    values(["prog", "--learning_rate=0.25"])
    config = from_flags(DepthConfig, values, data=DataSpec("synthetic"))
    assert (config.learning_rate, config.global_batch_size) == (0.25, 7)  # batch_size → alias
    assert config.wkdr_tau == DepthConfig(data=DataSpec("synthetic")).wkdr_tau  # no flag: default


def test_sparse_depth_pairs_join_measured_pixels_only(rng):
    """KITTI-like maps, 70 % of pixels without a measurement (0): every valid pair joins two
    measured pixels, is labelled by their depths, and its difference is ≥ 1 % of the *measured*
    range; the sampler still fills most of P. (The old sampler took 0 for the nearest depth:
    most of its pairs had an unmeasured end.)"""
    config = depth_data.PairConfig(
        pairs_per_image=200, max_distance=40, min_difference=0.01, equal_fraction=0.0
    )
    for trial in range(5):
        depth = rng.uniform(5.0, 80.0, size=(96, 160)).astype(np.float32)
        depth[rng.uniform(size=depth.shape) < 0.7] = 0.0
        pairs, labels, valid = (t.numpy() for t in depth_data.sample_pairs(depth, [trial, 1], config))
        ok = valid > 0
        assert ok.mean() >= 0.9, ok.mean()
        z_a = depth[pairs[ok, 0], pairs[ok, 1]]
        z_b = depth[pairs[ok, 2], pairs[ok, 3]]
        assert np.all(z_a > 0) and np.all(z_b > 0)
        np.testing.assert_array_equal(labels[ok], np.sign(z_a - z_b).astype(int))
        measured = depth[depth > 0]
        assert np.all(np.abs(z_a - z_b) >= 0.01 * (measured.max() - measured.min()) - 1e-4)
        assert np.all(labels[ok] != 0)  # equal_fraction 0: ordinal pairs only
        distance = np.hypot(pairs[ok, 0] - pairs[ok, 2], pairs[ok, 1] - pairs[ok, 3])
        assert np.all((distance > 0) & (distance <= 40))


def test_a_map_without_measurements_gives_no_pairs():
    pairs, labels, valid = depth_data.sample_pairs(np.zeros((32, 32), np.float32), [0, 0])
    assert float(np.sum(valid)) == 0.0


def test_kitti_frames_are_cropped_to_the_training_aspect_before_resizing():
    """A 375×1242 frame (KITTI's ~3.3:1) for 224×288: a 375×482 window at a seeded place, not the
    whole frame squeezed; depth cropped with the image."""
    import tensorflow as tf

    image = tf.random.stateless_uniform((375, 1242, 3), seed=(0, 1))
    depth = tf.reshape(tf.range(375 * 1242, dtype=tf.float32), (375, 1242))
    for s in range(3):
        cropped, cropped_depth = depth_data.aspect_crop(
            image, depth, (224, 288), tf.constant([s, 5], tf.int64)
        )
        assert cropped.shape == (375, 482, 3) and cropped_depth.shape == (375, 482)
        left = int(cropped_depth[0, 0].numpy())
        np.testing.assert_array_equal(cropped.numpy(), image.numpy()[:, left : left + 482])
    tall = tf.zeros((600, 300, 3))
    assert depth_data.aspect_crop(tall, tall[..., 0], (224, 288), tf.constant([0, 0], tf.int64))[0].shape == (
        233,
        300,
        3,
    )


def test_kitti_preset_sets_what_the_command_line_leaves():
    """--preset kozlovtsev2019_kitti: 224×288, crop to aspect, ordinal pairs only; a flag given wins."""
    from training.depth import PRESETS, apply_preset

    class Flag:
        def __init__(self, value, present):
            self.value, self.present = value, present

    class Values(dict):
        preset = "kozlovtsev2019_kitti"

    values = Values({name: Flag(None, False) for name in PRESETS["kozlovtsev2019_kitti"]})
    values["size"] = Flag(["240", "320"], True)
    applied = apply_preset(values)
    assert values["size"].value == ["240", "320"] and "size" not in applied
    assert values["equal_fraction"].value == 0.0 and values["crop_to_aspect"].value is True
    assert values["max_distance"].value == 40.0 and values["min_difference"].value == 0.01
