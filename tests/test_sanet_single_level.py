"""The single-level SANet (relu4_1 only; Park & Lee 2019, Table 1 and the Fig. 7 ablation).

Trained-scale random weights (`helpers.trained_like`): this checks the architecture, its files
and every path a model takes (training, the weights folder, `tfstyle stylize`), not pictures.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import PAINTING, PORTRAIT, trained_like

from tfstyle.errors import ConfigError, WeightsError
from tfstyle.image import load_image
from tfstyle.models.sanet import SINGLE_LEVEL, SANetStylizer
from tfstyle.models.sanet_weights import ARCHITECTURE_FILE, load_sanet, save_weights_dir

#: One SANet block: f, g, h, out — four 1×1 convs 512 → 512 with bias.
BLOCK_PARAMETERS = 4 * (512 * 512 + 512)


@pytest.fixture(scope="module")
def single():
    keras.utils.set_random_seed(5)
    return trained_like(SANetStylizer(levels=SINGLE_LEVEL), seed=5)


@pytest.fixture(scope="module")
def images():
    return load_image(PORTRAIT, max_side=64), load_image(PAINTING, max_side=64)


def test_architecture_is_the_relu4_1_block_into_the_decoder(single, images):
    """No relu5_1 block and no merge conv: the transform is one SANet block (1,050,624 parameters
    against the multi-level 4,461,056), and the stylization is decoder(W1·SANet4_1(c4, s4))."""
    assert single.transform.count_params() == BLOCK_PARAMETERS == 1_050_624
    assert SANetStylizer().transform.count_params() == 4_461_056
    assert single.transform.sanet5_1 is None and single.transform.merge_conv is None
    content, style = images
    c, s = single.encoder(content[None]), single.encoder(style[None])
    for w1 in (1.0, 0.4):
        expected = single.decoder(w1 * single.transform.sanet4_1(c["relu4_1"], s["relu4_1"]))
        got = single.stylize(content, style, level_weights=(w1, 0.7))
        height, width = content.shape[:2]  # the decoder's output is cropped back to the content
        np.testing.assert_allclose(got, np.clip(expected.numpy()[0, :height, :width], 0, 1), atol=2e-5)


@pytest.mark.slow  # four single-level models built and traced; the two-level round trip is fast
def test_round_trips_keras_weights_h5_and_the_folder(single, images, tmp_path):
    content, style = images
    want = single.stylize(content, style)
    path = tmp_path / "single.keras"
    single.save(path)
    np.testing.assert_array_equal(keras.models.load_model(path).stylize(content, style), want)
    single.save_weights(tmp_path / "single.weights.h5")
    again = SANetStylizer(levels=SINGLE_LEVEL)
    again.load_weights(tmp_path / "single.weights.h5")
    np.testing.assert_array_equal(again.stylize(content, style), want)
    folder = tmp_path / "folder"
    save_weights_dir(single, str(folder))
    assert json.loads((folder / ARCHITECTURE_FILE).read_text()) == {"levels": ["relu4_1"]}
    loaded = load_sanet(str(folder))  # the folder says which architecture
    assert loaded.levels == SINGLE_LEVEL
    np.testing.assert_array_equal(loaded.stylize(content, style), want)
    with pytest.raises(WeightsError, match="holds the single-level SANet"):
        load_sanet(str(folder), levels=("relu4_1", "relu5_1"))
    multi = tmp_path / "multi"
    save_weights_dir(SANetStylizer(), str(multi))
    assert not (multi / ARCHITECTURE_FILE).exists() and load_sanet(str(multi)).levels == (
        "relu4_1",
        "relu5_1",
    )
    with pytest.raises(ConfigError, match="use relu4_1,relu5_1 .* or relu4_1"):
        SANetStylizer(levels=("relu5_1",))


@pytest.mark.slow
def test_stylize_command_and_api_load_the_folder(single, tmp_path):
    """`tfstyle stylize --weights DIR` on a single-level folder gives what the Python API gives."""
    import tfstyle
    from tfstyle.cli import main
    from tfstyle.image import to_uint8

    folder = tmp_path / "folder"
    save_weights_dir(single, str(folder))
    out = tmp_path / "out.png"
    argv = ["stylize", "--content", str(PORTRAIT), "--style", str(PAINTING), "--output", str(out)]
    assert main([*argv, "--weights", str(folder), "--max-size", "64", "--precision", "float32"]) == 0
    api = tfstyle.stylize(
        PORTRAIT, PAINTING, model="sanet", weights=str(folder), max_size=64, precision="float32"
    )
    np.testing.assert_array_equal(load_image(out) * 255, to_uint8(api).astype(np.float32))


@pytest.mark.slow
def test_trains_and_exports(tmp_path):
    """Two training steps of the single-level model; its export loads as single-level and
    reproduces the trained transform."""
    from test_training_data import write_images

    from training import data
    from training.sanet import SANetConfig, SANetTask
    from training.trainer import Trainer, TrainerConfig

    rng = np.random.default_rng(0)
    content = write_images(tmp_path / "content", 4, (64, 64), rng)
    style = write_images(tmp_path / "style", 4, (64, 64), rng)
    config = SANetConfig(
        content=data.ImageSource(path=str(content)),
        style=data.ImageSource(path=str(style)),
        vgg_weights=None,
        pipeline=data.PipelineConfig(size=64, crop=64, seed=0),
        global_batch_size=2,
        levels=SINGLE_LEVEL,
    )
    task = SANetTask(config)
    trainer = Trainer(task, TrainerConfig(model_dir=str(tmp_path / "run"), steps=2, global_batch_size=2))
    trainer.train()
    folder = tmp_path / "export"
    task.export(str(folder))
    loaded = load_sanet(str(folder))
    assert loaded.levels == SINGLE_LEVEL
    for a, b in zip(loaded.transform.get_weights(), task.stylizer.transform.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert tf.reduce_all(tf.math.is_finite(loaded.transform.get_weights()[0]))


@pytest.mark.slow
def test_saved_model_export_serves_what_keras_gives(single, tmp_path):
    """`python -m export.saved_model --weights` on a single-level folder: the served `stylize`
    equals the Keras model's stylization of the same uint8 pictures."""
    import os
    import subprocess
    import sys

    from tfstyle.image import resize, to_uint8

    folder = tmp_path / "folder"
    save_weights_dir(single, str(folder))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    options = [
        f"--weights={folder}",
        f"--output_dir={tmp_path / 'sm'}",
        "--max_size=128",
        "--precision=float32",
    ]
    command = [sys.executable, "-m", "export.saved_model", *options]
    done = subprocess.run(command, capture_output=True, text=True, cwd=root, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    content = to_uint8(resize(load_image(PORTRAIT), (64, 48)))
    style = to_uint8(resize(load_image(PAINTING), (64, 64)))
    served = tf.saved_model.load(str(tmp_path / "sm" / "1")).signatures["stylize"](
        content=tf.constant(content[None]), style=tf.constant(style[None]), alpha=tf.constant([1.0])
    )["image"]
    want = single.stylize(content / np.float32(255), style / np.float32(255))
    got = (
        np.asarray(served)[0].astype(np.float32) / 255.0
        if served.dtype == tf.uint8
        else np.asarray(served)[0]
    )
    assert np.abs(got - want).max() <= 1.5 / 255
