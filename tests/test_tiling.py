"""Strip-wise execution (tfstyle.tiling) equals one-shot execution, at odd sizes and any strip height."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import PAINTING, PORTRAIT, trained_like

from tfstyle.image import load_image, resize
from tfstyle.models.sanet import SANetStylizer
from tfstyle.tiling import (
    ROW_BATCH_MIN_CHANNELS,
    LayerChain,
    conv_rows_as_batch,
    padded_conv_rows_as_batch,
    row_batchable,
    run_chain,
)


@pytest.fixture(scope="module")
def stylizer():
    return trained_like(SANetStylizer(dtype="float32"), seed=6)


@pytest.mark.parametrize("rows", [1, 7, 16, 33, 500])
def test_encoder_block_one_in_strips_equals_one_shot(stylizer, rows):
    layers = stylizer.encoder.layers[1:]
    chain = LayerChain(layers[: [la.name for la in layers].index("pool1") + 1])
    image = np.random.default_rng(rows).uniform(size=(1, 75, 61, 3)).astype(np.float32)  # odd: ceil pooling
    whole = chain(image).numpy()
    assert whole.shape == (1, 38, 31, 64)
    np.testing.assert_allclose(chain(image, strip_rows=rows).numpy(), whole, atol=1e-4, rtol=0)


@pytest.mark.parametrize("rows", [2, 9, 64])
def test_decoder_end_in_strips_equals_one_shot(stylizer, rows):
    layers = stylizer.decoder.layers[1:]
    chain = LayerChain(layers[[la.name for la in layers].index("up23") :])
    half = np.random.default_rng(rows).normal(size=(1, 23, 17, 64)).astype(np.float32)
    whole = chain(half).numpy()
    assert whole.shape == (1, 46, 34, 3)
    np.testing.assert_allclose(chain(half, strip_rows=rows).numpy(), whole, atol=1e-4, rtol=0)


@pytest.mark.parametrize("batch, rows", [(1, 9), (1, 10), (2, 7), (1, 3)])
def test_a_conv_on_its_row_halves_as_a_batch_equals_the_conv(batch, rows):
    """Odd and even output heights (the halves overlap by one row when odd), one and two images,
    and the smallest input a 3×3 valid conv takes."""
    conv = keras.layers.Conv2D(ROW_BATCH_MIN_CHANNELS, 3, padding="valid")
    x = tf.constant(
        np.random.default_rng(rows).normal(size=(batch, rows, 6, ROW_BATCH_MIN_CHANNELS)), tf.float32
    )
    want = conv(x).numpy()
    assert row_batchable(conv)
    got = tf.function(lambda x: conv_rows_as_batch(conv, x))(x).numpy()  # dynamic shapes, as in a stage
    assert got.shape == want.shape == (batch, rows - 2, 4, ROW_BATCH_MIN_CHANNELS)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "batch, rows, p", [(1, 8, 1), (1, 7, 1), (2, 5, 1), (1, 3, 1), (2, 10, 2), (1, 5, 2), (1, 2, 1)]
)
def test_a_reflect_padded_conv_gathered_as_row_halves_equals_pad_conv_relu(batch, rows, p):
    """Even heights (stitched by a reshape), odd ones (one row past the end dropped), two
    images, a 5×5 conv, the smallest input; against NumPy's reflect pad, the conv, max(·, 0)."""
    conv = keras.layers.Conv2D(ROW_BATCH_MIN_CHANNELS, 2 * p + 1, padding="valid")
    x = np.random.default_rng(rows).normal(size=(batch, rows, 5, ROW_BATCH_MIN_CHANNELS)).astype(np.float32)
    padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")
    want = np.maximum(conv(padded).numpy(), 0)
    relu = keras.layers.ReLU()
    got = tf.function(lambda x: padded_conv_rows_as_batch(x, p, conv, relu))(tf.constant(x)).numpy()
    assert got.shape == want.shape == (batch, rows, 5, ROW_BATCH_MIN_CHANNELS)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_only_float32_many_channel_stride_one_convs_are_row_batched():
    shape = (1, 8, 8, ROW_BATCH_MIN_CHANNELS)

    def built(**kwargs):
        layer = keras.layers.Conv2D(8, kwargs.pop("kernel", 3), **{"padding": "valid", **kwargs})
        layer.build(kwargs.pop("shape", shape))
        return layer

    assert row_batchable(built())
    assert not row_batchable(built(dtype="mixed_bfloat16"))  # no gain in bfloat16 (BENCHMARKS.md)
    assert not row_batchable(built(strides=2)) and not row_batchable(built(padding="same"))
    assert not row_batchable(built(kernel=1))
    small = keras.layers.Conv2D(8, 3, padding="valid")
    small.build((1, 8, 8, ROW_BATCH_MIN_CHANNELS - 1))
    assert not row_batchable(small)


def test_sanet_stages_through_run_chain_equal_its_keras_models(stylizer):
    """The encoder and decoder as `run_chain` walks them (row-batched float32 convs) against the
    functional Keras models called whole, at an odd size."""
    image = np.random.default_rng(0).uniform(size=(1, 75, 61, 3)).astype(np.float32)
    want = stylizer.encoder(image)
    got = run_chain(stylizer.encoder.layers[1:], tf.constant(image), ("relu4_1", "relu5_1"))
    for tap in ("relu4_1", "relu5_1"):
        np.testing.assert_allclose(
            got[tap].numpy(), want[tap].numpy(), rtol=0, atol=1e-5 * np.abs(want[tap]).max()
        )
    decoded = run_chain(stylizer.decoder.layers[1:], want["relu4_1"]).numpy()
    np.testing.assert_allclose(decoded, stylizer.decoder(want["relu4_1"]).numpy(), rtol=0, atol=1e-4)
    inner = run_chain(stylizer.encoder.layers[1:], tf.constant(image), ("conv4_1", "relu4_1"))
    np.testing.assert_allclose(  # a tapped conv keeps its own output: its ReLU is not fused in
        np.maximum(inner["conv4_1"].numpy(), 0), inner["relu4_1"].numpy(), rtol=0, atol=0
    )
    assert inner["conv4_1"].numpy().min() < 0


def test_stylizer_in_strips_equals_untiled_at_an_odd_size(stylizer):
    content = resize(load_image(PORTRAIT), (203, 157))
    style = resize(load_image(PAINTING), (120, 170))
    expected = stylizer.stylize(content, style)
    strips = SANetStylizer(dtype="float32", strip_rows=24)
    strips.set_weights(stylizer.get_weights())
    got = strips.stylize(content, style)
    assert got.shape == expected.shape == (203, 157, 3)
    assert np.abs(got - expected).max() <= 1e-4


def test_chain_refuses_layers_it_cannot_split():
    import keras

    with pytest.raises(ValueError, match="cannot run in strips"):
        LayerChain([keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="valid convs of stride 1 or 2"):
        LayerChain([keras.layers.Conv2D(3, 3, padding="same")])
    with pytest.raises(ValueError, match="valid convs of stride 1 or 2"):
        LayerChain([keras.layers.Conv2D(3, 3, strides=3)])


# -- high resolution: tiled equals untiled at 1024² and an odd size, several strip heights ------------

ODD = (1023, 1537)  # rows, columns: neither divides any strip height below
# the same at a quarter of the size (fast loop): 251 → 126 → 63 → 32 rows and 193 → 97 → 49 → 25
# columns are odd at most levels; 8 and 13 rows run every level in strips, 40 only the first two
SMALL_ODD = (251, 193)
SMALL_ROWS = (8, 13, 40)
FULL_ROWS = (64, 100, 333)


def _content(size, seed=0):
    base = resize(load_image(PORTRAIT), size)
    noise = np.random.default_rng(seed).uniform(-0.02, 0.02, base.shape)
    return np.clip(base + noise, 0, 1).astype(np.float32)


@pytest.mark.parametrize(
    "size, strip_heights",
    [
        ((256, 256), (8,)),  # strips that divide the side; the odd size runs all three
        (SMALL_ODD, SMALL_ROWS),
        pytest.param((1024, 1024), FULL_ROWS, marks=pytest.mark.slow),
        pytest.param(ODD, FULL_ROWS, marks=pytest.mark.slow),
    ],
)
def test_sanet_encoder_and_decoder_in_strips_equal_untiled(stylizer, size, strip_heights):
    """The two tiled stages of SANet, at full size, for strip heights that do and do not divide it."""
    image = _content(size)
    untiled = SANetStylizer(dtype="float32", strip_rows=0)
    untiled.set_weights(stylizer.get_weights())
    whole = untiled.encode(image)
    decoded = untiled.decode(whole.relu4_1).numpy()
    for rows in strip_heights:
        tiled = SANetStylizer(dtype="float32", strip_rows=rows)
        tiled.set_weights(stylizer.get_weights())
        got = tiled.encode(image)
        for name in ("relu4_1", "relu5_1"):
            ref = getattr(whole, name).numpy()
            assert np.abs(getattr(got, name).numpy() - ref).max() <= 1e-5 * np.abs(ref).max(), (name, rows)
        out = tiled.decode(whole.relu4_1).numpy()
        assert out.shape[1:3] == decoded.shape[1:3]
        assert np.abs(out - decoded).max() <= 1e-4, rows


@pytest.mark.parametrize(
    "size, style_size, budget_mb",
    [(SMALL_ODD, (150, 200), 4), pytest.param(ODD, (300, 400), 64, marks=pytest.mark.slow)],
)
def test_sanet_stylization_in_strips_equals_untiled_at_the_odd_size(stylizer, size, style_size, budget_mb):
    content, style = _content(size), resize(load_image(PAINTING), style_size)
    untiled = SANetStylizer(dtype="float32", strip_rows=0)
    untiled.set_weights(stylizer.get_weights())
    expected = untiled.stylize(content, style)
    budget = SANetStylizer(dtype="float32", memory_budget_mb=budget_mb)  # the budget alone picks strips here
    budget.set_weights(stylizer.get_weights())
    assert 0 < budget._strip_rows(size[1]) * 4 < size[0]
    got = budget.stylize(content, style)
    assert got.shape == expected.shape == (*size, 3)
    assert np.abs(got - expected).max() <= 1e-4


@pytest.mark.parametrize(
    "size, strip_heights",
    [
        ((256, 256), (16, 25, 83)),  # 16 and 25 rows run all three levels in strips, 83 the first
        (SMALL_ODD, (16, 25, 83)),
        pytest.param((1024, 1024), FULL_ROWS, marks=pytest.mark.slow),
        pytest.param(ODD, FULL_ROWS, marks=pytest.mark.slow),
    ],
)
def test_magenta_in_strips_equals_untiled_with_two_pass_instance_norm(magenta, size, strip_heights):
    """Contract and expand stages in strips; every instance norm gets the whole image's statistics."""
    import tensorflow as tf

    content = _content(size, seed=1)[None]
    vectors = magenta.predict_vectors(load_image(PAINTING))[:, None, :]
    one = tf.ones([1, 1, 1, 1])
    expected = magenta.transformer(tf.constant(content), vectors, one).numpy()  # Keras call: untiled
    for rows in strip_heights:
        got = magenta.transformer.call_in_strips(tf.constant(content), vectors, one, rows).numpy()
        assert got.shape == expected.shape == (1, *size, 3)
        assert np.abs(got - expected).max() <= 1e-4, rows


@pytest.mark.parametrize(
    "size, budget_mb",
    [(SMALL_ODD, 1), pytest.param(ODD, 16, marks=pytest.mark.slow)],  # 28 and 56 rows
)
def test_magenta_strips_with_a_spatial_mix_and_strength_equal_untiled(magenta, size, budget_mb):
    """Two styles split by a mask plus strength 0.6: the per-pixel γ/β maps are sliced per strip."""
    from tfstyle.models.magenta import MagentaStylizer

    content = _content(size, seed=2)
    styles = [load_image(PAINTING), resize(load_image(PORTRAIT), (256, 256))]
    left = np.zeros(size, np.float32)
    left[:, : size[1] // 3] = 1.0
    kwargs = {"masks": [left, 1 - left], "strength": 0.6}
    whole = MagentaStylizer(strip_rows=0)
    whole.set_weights(magenta.get_weights())
    expected = whole.stylize(content, styles, **kwargs)
    small = MagentaStylizer(memory_budget_mb=budget_mb)  # the budget alone picks strips
    small.set_weights(magenta.get_weights())
    assert 0 < small._strip_rows(size[1]) * 4 < size[0]
    got = small.stylize(content, styles, **kwargs)
    assert np.abs(got - expected).max() <= 1e-4


def test_portrait_mode_uses_the_same_strips(magenta):
    """The portrait path (a per-pixel strength map in one transformer pass) goes through the strips."""
    from tfstyle.models.magenta import MagentaStylizer
    from tfstyle.portraits.compose import PortraitStylizer

    content = _content((700, 500), seed=3)
    mask = np.zeros((700, 500), np.float32)
    mask[150:600, 100:400] = 1.0
    results = []
    for kwargs in ({"strip_rows": 0}, {"memory_budget_mb": 4}):
        network = MagentaStylizer(**kwargs)
        network.set_weights(magenta.get_weights())
        portrait = PortraitStylizer(network, None).stylize(content, load_image(PAINTING), mask=mask)
        results.append(portrait.image)
    assert network._strip_rows(500) * 4 < 700  # the second one ran in strips
    assert np.abs(results[1] - results[0]).max() <= 1e-4
