"""SegNet: both unpooling forms agree, class balancing, training on generated figures, CLI."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import PORTRAIT

from tfstyle.cli import main
from tfstyle.image import load_image
from tfstyle.models.segnet import build_segnet
from training import segnet_data
from training.config import DataSpec, read_config
from training.segnet import SegNetConfig, SegNetTask, iou
from training.trainer import Trainer, TrainerConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_segnet_matches_the_spec_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    argmax = build_segnet(2)
    image = np.random.default_rng(0).uniform(size=(2, 45, 70, 3)).astype(np.float32)  # padded to 64x96
    expected = argmax(image, training=False).numpy()
    assert expected.shape == (2, 45, 70, 2)
    # every conv (+ BN with scale, shift and moving statistics) of the spec's channel lists
    enc = [
        (3, 64),
        (64, 64),
        (64, 128),
        (128, 128),
        (128, 256),
        (256, 256),
        (256, 256),
        (256, 512),
        (512, 512),
        (512, 512),
        (512, 512),
        (512, 512),
        (512, 512),
    ]
    dec = [(512, 512)] * 5 + [(512, 256), (256, 256), (256, 256), (256, 128), (128, 128), (128, 64), (64, 64)]
    spec_params = sum(9 * i * o + o + 4 * o for i, o in enc + dec) + 9 * 64 * 2 + 2
    assert argmax.count_params() == spec_params == 29_460_034
    argmax.save_weights(tmp_path / "segnet.weights.h5")
    reloaded = build_segnet(2, weights=str(tmp_path / "segnet.weights.h5"))
    np.testing.assert_array_equal(reloaded(image, training=False).numpy(), expected)


def test_median_frequency_weights_by_hand():
    masks = [np.array([[1, 0, 0, 0]]), np.array([[0, 0, 0, 0]])]
    # f_person = 1 / 4 (present in one image of 4 px); f_bg = 7 / 8; median = (1/4 + 7/8) / 2
    median = (0.25 + 0.875) / 2
    np.testing.assert_allclose(
        segnet_data.median_frequency_weights(masks, 2), [median / 0.875, median / 0.25], rtol=1e-6
    )


@pytest.mark.slow
def test_segnet_learns_generated_figures(tmp_path):
    keras.utils.set_random_seed(0)
    # synthetic: 256 training figures (seed 0), 32 held-out ones (seed 1000)
    config = SegNetConfig(
        data=DataSpec("synthetic"), size=(32, 32), global_batch_size=8, learning_rate=1e-3, optimizer="adam"
    )
    trainer = Trainer(
        SegNetTask(config),
        TrainerConfig(
            model_dir=str(tmp_path),
            steps=300,
            global_batch_size=8,
            log_every=100,
            summary_every=100,
            image_every=300,
            checkpoint_every=300,
        ),
    )
    trainer.train()
    result = trainer.evaluate()
    print(f"held-out person IoU after 300 steps: {result['iou/person']:.3f}")
    assert result["iou/person"] >= 0.9


def test_iou_by_hand():
    predicted, truth = np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0])
    assert iou(predicted, truth, 1) == pytest.approx(1 / 3)


@pytest.mark.slow
def test_segnet_program_resumes_and_export_segments(tmp_path):
    model_dir = tmp_path / "run"
    base = [
        sys.executable,
        "-m",
        "training.segnet",
        "--synthetic",
        "--size=32,32",
        "--optimizer=adam",
        f"--model_dir={model_dir}",
        "--batch_size=4",
        "--log_every=2",
        "--checkpoint_every=2",
        "--eval_every=4",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    first = subprocess.run(base + ["--steps=4"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "median-frequency class weights" in first.stderr and "iou/person" in first.stderr
    # the resolved configuration, read back as the dataclasses it was written from
    assert read_config(str(model_dir), "task", SegNetConfig).data == DataSpec("synthetic")
    assert read_config(str(model_dir), "trainer", TrainerConfig).steps == 4
    second = subprocess.run(base + ["--steps=6"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert second.returncode == 0 and "at step 4" in second.stderr, second.stderr[-3000:]
    weights = model_dir / "export" / "segnet.weights.h5"
    out = tmp_path / "mask.png"
    assert (
        main(
            [
                "segment",
                "--input",
                str(PORTRAIT),
                "--output",
                str(out),
                "--segmenter",
                f"segnet:{weights}",
                "--max-size",
                "64",
            ]
        )
        == 0
    )
    assert load_image(out).shape == (64, 55, 3)


def test_segment_cli_bad_segmenter(tmp_path, capsys):
    code = main(
        ["segment", "--input", str(PORTRAIT), "--output", str(tmp_path / "m.png"), "--segmenter", "magic"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "unknown segmenter" in err[0]
    assert not (tmp_path / "m.png").exists()
