"""Gatys optimisation with random VGG weights (shapes and descent only: no stylization claims)."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import PAINTING, PORTRAIT

from tfstyle import color
from tfstyle.errors import ConfigError
from tfstyle.image import load_image
from tfstyle.optimization.optimize import (
    GatysTransfer,
    OptimizeConfig,
    Term,
    initial_image,
    pyramid_sizes,
    snapshot_callback,
)

SIZE = 64


@pytest.fixture(scope="module")
def transfer():
    import keras

    keras.utils.set_random_seed(3)
    return GatysTransfer(None, precision="float32")


@pytest.fixture(scope="module")
def images():
    return load_image(PORTRAIT, max_side=SIZE), load_image(PAINTING, max_side=SIZE)


def initial_objective(transfer, content, style, config):
    objective = transfer.objective(content, style, config)
    image = tf.constant(initial_image(config.init, content, style, config.seed)[None])
    return float(objective(image, transfer.encoder_for(objective.taps)(image))[0])


@pytest.mark.parametrize("optimizer,steps,min_drop", [("adam", 40, 0.30), ("lbfgs", 20, 0.50)])
def test_optimizers_lower_the_objective(transfer, images, optimizer, steps, min_drop):
    content, style = images
    config = OptimizeConfig(optimizer=optimizer, steps=steps)
    start = initial_objective(transfer, content, style, config)
    result = transfer.run(content, style, config)
    end = result.history[-1]["total"]
    assert np.isfinite(end) and start > 0
    assert (start - end) / start >= min_drop, (start, end)
    assert result.image.shape == content.shape
    assert result.image.min() >= 0.0 and result.image.max() <= 1.0
    assert set(result.history[-1]) == {"step", "total", "content", "style", "tv"}


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_style_equal_content_stays_at_content(transfer, images, optimizer):
    content, _ = images
    result = transfer.run(content, content, OptimizeConfig(optimizer=optimizer, steps=20))
    mse = np.mean((result.image - content) ** 2)
    assert 10 * np.log10(1.0 / mse) >= 30.0  # PSNR against the content ≥ 30 dB


def test_tolerance_stops_early(transfer, images):
    content, style = images
    result = transfer.run(content, style, OptimizeConfig(steps=200, tolerance=0.5, tolerance_window=3))
    assert result.stopped_early and result.steps < 200


def test_extra_term_plugs_into_the_objective(transfer, images):
    content, style = images

    class Darken(Term):
        name, weight, taps = "darken", 1e6, ()

        def __call__(self, image, features):
            return tf.reduce_mean(image)

    config = OptimizeConfig(steps=15, content_weight=0, style_weight=0, tv_weight=0)
    result = transfer.run(content, style, config, extra_terms=[Darken()])
    assert set(result.history[0]) == {"step", "total", "darken"}
    assert result.image.mean() < content.mean() - 0.1


def test_coarse_to_fine_runs_each_scale(transfer):
    content, style = (load_image(path, max_side=96) for path in (PORTRAIT, PAINTING))  # two levels ≥ 32 px
    result = transfer.run(content, style, OptimizeConfig(steps=5, scales=2))
    assert result.steps == 10 and result.image.shape == content.shape
    assert pyramid_sizes(96, 82, 2) == [(48, 41), (96, 82)]
    assert pyramid_sizes(60, 60, 3) == [(60, 60)]  # levels under 32 px are skipped


def test_preserve_color_keeps_content_chroma(transfer, images):
    content, style = images
    result = transfer.run(content, style, OptimizeConfig(steps=10, preserve_color=True))
    got, want = color.rgb_to_yiq(result.image), color.rgb_to_yiq(content)
    assert np.abs(got[..., 1:] - want[..., 1:]).mean() < 0.01


def test_snapshots_every_n_steps(transfer, images):
    content, style = images
    saved = []
    callback = snapshot_callback(lambda step, image: saved.append((step, image.shape)), every=4)
    transfer.run(content, style, OptimizeConfig(steps=9), callback=callback)
    assert saved == [(4, content.shape), (8, content.shape)]


def test_bad_config_is_refused(transfer, images):
    content, style = images
    for bad in [
        OptimizeConfig(optimizer="sgd"),
        OptimizeConfig(style_weight=-1),
        OptimizeConfig(style_layer_weights=[1.0]),
        OptimizeConfig(content_layers=["fc6"]),
    ]:
        with pytest.raises(ConfigError):
            transfer.run(content, style, bad)


def test_bfloat16_loss_network_tracks_float32(transfer, images):
    content, style = images
    bf16 = GatysTransfer(None, precision="bfloat16")
    assert bf16.policy == "mixed_bfloat16"
    bf16.encoder.set_weights(transfer.encoder.get_weights())
    config = OptimizeConfig(steps=15)
    want = transfer.run(content, style, config).history
    got = bf16.run(content, style, config).history
    assert got[-1]["total"] < 0.95 * got[0]["total"]
    assert abs(got[-1]["total"] - want[-1]["total"]) <= 0.05 * want[-1]["total"]


def test_kozlovtsev2019_weights_follow_the_written_conversion():
    """The thesis's β = 1000, γ = 20 (PyTorch VGG, [0, 1] input) in tfstyle's units, against the
    formula written out by hand: k = 255·mean(σ), style β/k², layer weights 1/C², depth γ·k²."""
    from tfstyle.optimization.settings import PAPER_SETTINGS, PRESETS

    k = 255 * np.mean([0.229, 0.224, 0.225])
    got = PAPER_SETTINGS["kozlovtsev2019"]
    assert PRESETS["kozlovtsev2019"] == (("relu2_2",), ("relu1_2", "relu2_2", "relu3_3", "relu4_3"))
    assert got["content_weight"] == 1.0
    assert got["style_weight"] == pytest.approx(1000 / k**2)
    np.testing.assert_allclose(got["style_layer_weights"], [1 / 64**2, 1 / 128**2, 1 / 256**2, 1 / 512**2])
    assert got["depth_weight"] == pytest.approx(20 * k**2)
    assert (
        got["depth_content_weights"] == (1.0, 5.0) and got["depth_downscale"] == 2 and got["tv_weight"] == 0
    )


def test_the_conversions_premise_torch_losses_against_tfstyles(rng):
    """Why the conversion is what it is: PyTorch-tutorial losses (NumPy: content mean((F−Fc)²),
    G = FᵀF/(C·H·W), style mean((G−Gs)²)) on features F, and tfstyle's losses on Φ = k·F: content ×k²,
    style ×k⁴·C² per layer."""
    from tfstyle import losses
    from tfstyle.ops import gram_matrix

    k, channels = 57.63, 16
    f, fc, fs = (rng.normal(size=(1, 6, 5, channels)).astype(np.float32) for _ in range(3))
    content_torch = np.mean((f - fc) ** 2)

    def gram_torch(x):
        flat = x.reshape(-1, channels)
        return flat.T @ flat / flat.size

    style_torch = np.mean((gram_torch(f) - gram_torch(fs)) ** 2)
    content_tf = float(losses.content_loss(k * f, k * fc))
    style_tf = float(losses.style_loss(k * f, gram_matrix(tf.constant(k * fs))))
    assert content_tf == pytest.approx(k**2 * content_torch, rel=1e-4)
    assert style_tf == pytest.approx(k**4 * channels**2 * style_torch, rel=1e-3)


def optimize_argv(preset: str) -> list:
    """`tfstyle optimize` arguments with a preset (the files are never opened)."""
    return ["optimize", "--content", "c.jpg", "--style", "s.jpg", "--output", "o.png", "--preset", preset]


def test_preset_fills_only_what_is_left_at_its_default():
    from tfstyle.cli import build_parser
    from tfstyle.cli.optimize import apply_paper_settings

    base = optimize_argv("kozlovtsev2019")
    args = build_parser().parse_args([*base, "--style-weight", "5"])
    applied = apply_paper_settings(args)
    assert args.style_weight == 5.0 and "style_weight" not in applied
    assert args.depth_content_weights == [1.0, 5.0] and args.tv_weight == 0.0 and args.size == 640
    plain = build_parser().parse_args(base[:-2])
    assert apply_paper_settings(plain) == {}


def test_centred_gram_is_the_feature_covariance(rng):
    """gram_matrix(centred=True) against NumPy's covariance (population, over positions); the
    style loss with it ignores a shift of every channel's mean, the plain one does not."""
    from tfstyle import losses
    from tfstyle.ops import gram_matrix

    f = rng.normal(size=(2, 5, 7, 6)).astype(np.float32)
    centred = gram_matrix(tf.constant(f), centred=True).numpy()
    for n in range(2):
        flat = f[n].reshape(-1, 6)
        np.testing.assert_allclose(centred[n], np.cov(flat, rowvar=False, bias=True), atol=1e-5)
    target = gram_matrix(tf.constant(f), centred=True)
    shifted = f + rng.normal(size=(1, 1, 1, 6)).astype(np.float32) * 3
    assert float(losses.style_loss(shifted, target, centred=True)) < 1e-8
    assert float(losses.style_loss(shifted, gram_matrix(tf.constant(f)))) > 1e-2


def test_power_tv_mapping_from_a_summed_0_255_form(rng):
    """The README's mapping: w·Σ((Δx²+Δy²))^(β/2) on a 0–255 image equals tfstyle's power TV of the
    [0, 1] image times w·N·(H−1)·(W−1)·C·255^β."""
    from tfstyle import losses

    x = rng.uniform(0, 255, size=(1, 9, 11, 3))
    w, beta = 0.7, 1.5
    dx, dy = np.diff(x, axis=2)[:, :-1], np.diff(x, axis=1)[:, :, :-1]
    summed = w * np.sum((dx**2 + dy**2) ** (beta / 2))
    n, h, wd, c = x.shape
    weight = w * n * (h - 1) * (wd - 1) * c * 255**beta
    ours = weight * float(losses.total_variation(tf.constant(x / 255.0, tf.float32), "power", beta))
    assert ours == pytest.approx(summed, rel=1e-4)


def test_nedeljkovic2023_learning_rate_is_carried_from_0_255():
    """Adam's step of 10 on a 0–255 image moves a [0, 1] pixel by 10/255: the preset's rate."""
    from tfstyle.cli import build_parser
    from tfstyle.cli.optimize import apply_paper_settings
    from tfstyle.optimization.settings import PRESETS

    argv = optimize_argv("nedeljkovic2023")
    args = build_parser().parse_args(argv)
    apply_paper_settings(args)
    assert args.learning_rate == pytest.approx(10 / 255) and args.optimizer == "adam"
    assert PRESETS["nedeljkovic2023"][0] == ("block5_conv2",)
