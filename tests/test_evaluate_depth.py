"""`python -m training.evaluate_depth`: whole passes over validation sets, metrics against NumPy."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from training import depth_data
from training.evaluate_depth import EvalSet, batches, evaluate, table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = (32, 48)


def numpy_metrics(diff, labels, tau):
    """Chen et al. 2016's ranking loss (eq. 1) and the WHDR / WKDR definitions, written out."""
    loss = np.where(labels == 0, diff**2, np.log1p(np.exp(-labels * diff)))
    ordinal = labels != 0
    accuracy = np.mean(np.sign(diff[ordinal]) == labels[ordinal])
    predicted = np.where(diff > tau, 1, np.where(diff < -tau, -1, 0))
    wrong = predicted != labels
    return {
        "pairs": len(diff),
        "ranking_loss": loss.mean(),
        "ordinal_accuracy": accuracy,
        "whdr": 1 - accuracy,
        "wkdr": wrong.mean(),
        "wkdr_eq": wrong[~ordinal].mean(),
        "wkdr_neq": wrong[ordinal].mean(),
    }


def test_labelled_set_metrics_equal_numpy_over_every_image(tmp_path, rng):
    """A DIW-style CSV of 3 images (40×56, 70×50, 33×44) with 5–9 pairs each, batches of 2 (so the
    last batch holds one image): every pair of every image is scored, and each metric equals the
    NumPy formula on the model's own depth at the pairs' scaled coordinates."""
    keras.utils.set_random_seed(3)
    from tfstyle.models.depth import build_hourglass

    model = build_hourglass(None)
    rows, reference = [], []
    for i, (height, width) in enumerate(((40, 56), (70, 50), (33, 44))):
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / f"im{i}.png")
        count = 5 + 2 * i
        ys, xs = rng.integers(0, height, (count, 2)), rng.integers(0, width, (count, 2))
        relations = rng.choice([">", "<", "="], count)
        rows += [f"im{i}.png,{y[0]},{x[0]},{y[1]},{x[1]},{r}" for y, x, r in zip(ys, xs, relations)]
        resized = tf.image.resize(image[None].astype(np.float32) / 255.0, SIZE, antialias=True)
        depth = model(tf.clip_by_value(resized, 0, 1), training=False).numpy()[0, :, :, 0]
        sy, sx = (np.floor(ys * SIZE[0] / height).astype(int), np.floor(xs * SIZE[1] / width).astype(int))
        diff = depth[sy[:, 0], sx[:, 0]] - depth[sy[:, 1], sx[:, 1]]
        reference.append((diff, np.array([{">": 1, "<": -1, "=": 0}[r] for r in relations])))
    (tmp_path / "pairs.csv").write_text("image,y_a,x_a,y_b,x_b,relation\n" + "\n".join(rows) + "\n")
    evalset = EvalSet("DIW", depth_data.pairs_csv_dataset(str(tmp_path / "pairs.csv")), True, SIZE)
    got = evaluate(model, batches(evalset, depth_data.PairConfig(), batch=2, seed=0), tau=0.02)
    diff = np.concatenate([d for d, _ in reference])
    labels = np.concatenate([lab for _, lab in reference])
    want = numpy_metrics(diff.astype(np.float64), labels, 0.02)
    assert got["pairs"] == want["pairs"] == 21
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-5, abs=1e-6), name
    text = table({"random": {"DIW": got}}, ["DIW"])
    assert f"{got['ranking_loss']:.4f}" in text and "| random | DIW | 21 |" in text


def test_depth_maps_are_scored_on_the_same_pairs_for_every_model():
    """Sampled sets: the same seed draws the same pairs, so two models are compared on equal terms."""
    data = depth_data.synthetic_dataset(5, 32, seed=1)
    evalset = EvalSet("synthetic", data, False, (32, 32))
    config = depth_data.PairConfig(pairs_per_image=40, max_distance=10)
    first = [p.numpy() for _, p, _, _ in batches(evalset, config, 2, seed=4)]
    again = [p.numpy() for _, p, _, _ in batches(evalset, config, 2, seed=4)]
    assert len(first) == 3  # 5 maps in batches of 2: the last one kept
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_program_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "results.json"
    flags = ["--synthetic", "--size=32,32", "--pairs_per_image=30", "--max_distance=10", f"--output={out}"]
    cmd = [
        sys.executable,
        "-m",
        "training.evaluate_depth",
        "--weights=a:random",
        "--weights=b:random",
        *flags,
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| model | synthetic ranking loss | synthetic ordinal accuracy |" in proc.stdout
    results = json.loads(out.read_text())
    assert set(results) == {"a", "b"} and results["a"]["synthetic"]["pairs"] > 0
    bad = subprocess.run(cmd[:3] + ["--synthetic"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode != 0 and "--weights is required" in bad.stderr
