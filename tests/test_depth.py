"""Hourglass, ranking loss and metrics, α maps, and depth-aware optimisation."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import PAINTING, PORTRAIT

from tfstyle import losses
from tfstyle.cli import main
from tfstyle.image import load_image
from tfstyle.models import depth_metrics as metrics
from tfstyle.models.depth import BLOCKS, build_hourglass
from tfstyle.optimization.depth_objective import DepthTerm
from tfstyle.optimization.optimize import GatysTransfer, OptimizeConfig
from tfstyle.optimization.weight_maps import depth_to_alpha, encoder_path, propagate


def inception_params(c_in, c1, r, c, kernels):
    """Trainable parameters of one block: conv weights + biases (BN has no scale/shift)."""
    return (c_in * c1 + c1) + sum(c_in * r + r + r * k * k * c + c for k in kernels)


def test_hourglass_parameter_count_matches_the_spec_table():
    def block(kind, c_in, r=None):
        c1, r0, c, kernels = BLOCKS[kind]
        return inception_params(c_in, c1, r or r0, c, kernels)

    ch1 = 4 * block("E", 256) + block("E", 256)
    ch2 = 4 * block("E", 256) + 2 * block("F", 256)
    ch3 = 2 * block("B", 128) + block("C", 128) + block("D", 128) + block("E", 256) + block("G", 256)
    ch4 = block("A", 128) + 2 * block("B", 128) + block("B", 128, 64) + block("A", 128, 32)
    stem = 7 * 7 * 3 * 128 + 128 + 2 * 128  # conv + BN scale/shift
    head = 3 * 3 * 64 + 1
    expected = stem + ch1 + ch2 + ch3 + ch4 + head
    model = build_hourglass(None)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == expected
    assert abs(trainable - 5.36e6) / 5.36e6 < 0.005  # the spec's "about 5.36 M"
    assert sum(type(layer).__name__ == "InceptionBlock" for layer in model.layers) == 22


@pytest.fixture(scope="module")
def roundtripped(tmp_path_factory):
    """A random hourglass, its .keras file loaded back and its .weights.h5 loaded into a new one
    (built once for the sizes below; the tests only call them)."""
    keras.utils.set_random_seed(1234)
    tmp_path = tmp_path_factory.mktemp("hourglass")
    model = build_hourglass(None)
    model.save(tmp_path / "hourglass.keras")
    model.save_weights(tmp_path / "hourglass.weights.h5")
    loaded = keras.models.load_model(tmp_path / "hourglass.keras")
    return model, loaded, build_hourglass(str(tmp_path / "hourglass.weights.h5"))


@pytest.mark.slow  # the 22-block hourglass saved and loaded twice (7 s)
@pytest.mark.parametrize("hw", [(32, 48), (37, 23)])
def test_hourglass_any_size_and_keras_roundtrip(hw, roundtripped):
    model, loaded, from_weights = roundtripped
    image = np.random.default_rng(0).uniform(size=(2, *hw, 3)).astype(np.float32)
    out = model(image, training=False).numpy()
    assert out.shape == (2, *hw, 1) and np.isfinite(out).all()
    np.testing.assert_allclose(loaded(image).numpy(), out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(from_weights(image).numpy(), out, rtol=1e-5, atol=1e-5)


def test_ranking_loss_and_metrics_match_numpy(rng):
    depth = rng.normal(size=(2, 9, 7, 1)).astype(np.float32)
    pairs = np.stack(
        [
            rng.integers(0, 9, (2, 30)),
            rng.integers(0, 7, (2, 30)),
            rng.integers(0, 9, (2, 30)),
            rng.integers(0, 7, (2, 30)),
        ],
        -1,
    )
    labels = rng.integers(-1, 2, (2, 30))
    valid = (rng.uniform(size=(2, 30)) > 0.2).astype(np.float32)
    diff = np.stack(
        [
            depth[n, pairs[n, :, 0], pairs[n, :, 1], 0] - depth[n, pairs[n, :, 2], pairs[n, :, 3], 0]
            for n in range(2)
        ]
    )
    per = np.where(labels == 0, diff**2, np.log1p(np.exp(-labels * diff)))
    expected = (per * valid).sum() / valid.sum()
    np.testing.assert_allclose(losses.ranking_loss(depth, pairs, labels, valid).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(losses.gather_pair_depths(depth, pairs).numpy(), diff, rtol=1e-6)
    keep, ordinal = valid > 0, (valid > 0) & (labels != 0)
    acc = np.mean(np.sign(diff[ordinal]) == labels[ordinal])
    assert metrics.ordinal_accuracy(diff, labels, valid) == pytest.approx(acc)
    assert metrics.whdr(diff, labels, valid) == pytest.approx(1 - acc)
    tau = 0.5
    pred = np.where(diff > tau, 1, np.where(diff < -tau, -1, 0))
    got = metrics.wkdr(diff, labels, tau, valid)
    assert got["wkdr"] == pytest.approx(np.mean(pred[keep] != labels[keep]))
    assert got["wkdr_eq"] == pytest.approx(np.mean(pred[keep & (labels == 0)] != 0))
    assert got["wkdr_neq"] == pytest.approx(np.mean(pred[ordinal] != labels[ordinal]))


def test_depth_to_alpha_is_log_spaced_from_near_to_far():
    depth = np.array([[0.0, 1.0], [2.0, 4.0]])
    alpha = depth_to_alpha(depth, 1.0, 5.0)
    assert alpha[0, 0] == pytest.approx(5.0) and alpha[1, 1] == pytest.approx(1.0)
    np.testing.assert_allclose(np.log(alpha), np.log(5.0) * (1 - depth / 4.0), rtol=1e-6)


def np_window_mean(x, k):
    """Edge-normalised k×k mean: average over the in-image positions of each window."""
    h, w = x.shape
    r = k // 2
    out = np.empty_like(x)
    for i in range(h):
        for j in range(w):
            out[i, j] = x[max(0, i - r) : i + r + 1, max(0, j - r) : j + r + 1].mean()
    return out


def np_avg_pool(x, ceil):
    h, w = x.shape
    oh, ow = (-(-h // 2), -(-w // 2)) if ceil else (h // 2, w // 2)
    return np.array([[x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].mean() for j in range(ow)] for i in range(oh)])


@pytest.mark.parametrize("ceil", [False, True])
def test_alpha_propagation_matches_numpy(rng, ceil):
    alpha = rng.uniform(1, 5, size=(23, 17))
    path = [("conv", 3), ("conv", 3), ("pool", 2, ceil), ("conv", 5), ("pool", 2, ceil), ("conv", 3)]
    expected = alpha
    for op, k, *_ in path:
        expected = np_window_mean(expected, k) if op == "conv" else np_avg_pool(expected, ceil)
    np.testing.assert_allclose(propagate(alpha, path), expected, rtol=1e-5)


@pytest.mark.parametrize(
    "flavour,taps", [("imagenet", ("relu2_2", "relu4_2")), ("normalised", ("relu2_1", "relu4_1"))]
)
def test_encoder_path_shapes_match_the_encoder(flavour, taps):
    from tfstyle.models.vgg import build_vgg19

    alpha = np.ones((45, 37))
    encoder = build_vgg19(taps, weights=None, flavour=flavour)
    features = encoder(np.zeros((1, 45, 37, 3), np.float32))
    for tap in taps:
        assert propagate(alpha, encoder_path(encoder, tap, flavour)).shape == tuple(features[tap].shape[1:3])
    if flavour == "imagenet":  # VGG19 table 1: two 3x3 convs, a 2x2 pool, two 3x3 convs
        assert encoder_path(encoder, "relu2_2") == [
            ("conv", 3),
            ("conv", 3),
            ("pool", 2, False),
            ("conv", 3),
            ("conv", 3),
        ]


@pytest.fixture(scope="module")
def scene():
    return load_image(PORTRAIT, max_side=64), load_image(PAINTING, max_side=64)


def test_depth_loss_gradient_reaches_the_image(scene):
    content, _ = scene
    term = DepthTerm(build_hourglass(None), content, weight=1.0)
    image = tf.Variable(np.clip(content + 0.1, 0, 1)[None])
    with tf.GradientTape() as tape:
        value = term(image, {})
    grad = tape.gradient(value, image).numpy()
    assert float(value) > 0 and np.isfinite(grad).all() and np.abs(grad).max() > 0


@pytest.mark.slow  # 10 Gatys steps through the hourglass; the fast loop checks the gradient
def test_depth_weight_lowers_the_depth_term(scene):
    content, style = scene
    keras.utils.set_random_seed(5)
    transfer = GatysTransfer(None, precision="float32")
    depth_model = build_hourglass(None)
    config = OptimizeConfig(steps=10, content_weight=0.0, tv_weight=0.0)
    probe = DepthTerm(depth_model, content, weight=1.0)
    measured = {}
    for gamma in (0.0, 1e7):  # random-weight depth differences are ~1e-5: gamma makes them count
        terms = [DepthTerm(depth_model, content, weight=gamma)] if gamma else []
        result = transfer.run(content, style, config, extra_terms=terms)
        measured[gamma] = float(probe(tf.constant(result.image[None]), {}))
    # stated margin: with gamma > 0 the depth term ends at most half of its value without it
    print("depth term after 10 steps", measured)  # measured: ratio 0.02 (0.004 after 25 steps)
    assert measured[1e7] < 0.5 * measured[0.0], measured


def test_weight_map_scales_the_content_loss(scene):
    content, style = scene
    transfer = GatysTransfer(None, precision="float32")
    config = OptimizeConfig(steps=1, style_weight=0.0, tv_weight=0.0)
    image = tf.constant(np.clip(content * 0.8, 0, 1)[None])
    plain = transfer.objective(content, style, config)
    doubled = transfer.objective(content, style, config, content_weight_map=np.full(content.shape[:2], 2.0))
    features = transfer.encoder_for(plain.taps)(image)
    np.testing.assert_allclose(
        float(doubled(image, features)[0]), 2 * float(plain(image, features)[0]), rtol=1e-5
    )


def test_cli_depth_options_and_depth_command(tmp_path):
    out = tmp_path / "out.png"
    assert (
        main(
            [
                "optimize",
                "--content",
                str(PORTRAIT),
                "--style",
                str(PAINTING),
                "--output",
                str(out),
                "--size",
                "48",
                "--steps",
                "2",
                "--quiet",
                "--vgg-weights",
                "random",
                "--depth-weights",
                "random",
                "--depth-weight",
                "20",
                "--depth-content-weights",
                "1,5",
            ]
        )
        == 0
    )
    assert out.exists()
    assert (
        main(
            [
                "depth",
                "--input",
                str(PORTRAIT),
                "--output",
                str(tmp_path / "d.png"),
                "--raw",
                str(tmp_path / "d.npy"),
                "--depth-weights",
                "random",
                "--max-size",
                "64",
            ]
        )
        == 0
    )
    raw = np.load(tmp_path / "d.npy")
    assert raw.shape == (64, 55) and load_image(tmp_path / "d.png").shape == (64, 55, 3)


@pytest.mark.parametrize(
    "extra,fragment",
    [
        (["--depth-weight", "5"], "pass --depth-weights PATH"),
        (["--depth-content-weights", "5,1", "--depth-weights", "random"], "0 < A_MIN <= A_MAX"),
        (["--depth-weight", "5", "--depth-weights", "/nope.weights.h5"], "no such file"),
    ],
)
def test_cli_depth_bad_input(tmp_path, capsys, extra, fragment):
    out = tmp_path / "out.png"
    code = main(
        [
            "optimize",
            "--content",
            str(PORTRAIT),
            "--style",
            str(PAINTING),
            "--output",
            str(out),
            "--size",
            "48",
            "--steps",
            "2",
            "--quiet",
            "--vgg-weights",
            "random",
            *extra,
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and fragment in err[0], err
    assert not out.exists()
