"""Strip-wise execution (tfstyle.tiling) equals one-shot execution, at odd sizes and any strip height."""

import numpy as np
import pytest
from helpers import PAINTING, PORTRAIT, trained_like

from tfstyle.image import load_image, resize
from tfstyle.models.sanet import Stylizer
from tfstyle.tiling import LayerChain


@pytest.fixture(scope="module")
def stylizer():
    return trained_like(Stylizer(dtype="float32"), seed=6)


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


def test_stylizer_in_strips_equals_untiled_at_an_odd_size(stylizer):
    content = resize(load_image(PORTRAIT), (203, 157))
    style = resize(load_image(PAINTING), (120, 170))
    expected = stylizer.stylize(content, style)
    strips = Stylizer(dtype="float32", strip_rows=24)
    strips.set_weights(stylizer.get_weights())
    got = strips.stylize(content, style)
    assert got.shape == expected.shape == (203, 157, 3)
    assert np.abs(got - expected).max() <= 1e-4


def test_chain_refuses_layers_it_cannot_split():
    import keras

    with pytest.raises(ValueError, match="cannot run in strips"):
        LayerChain([keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="stride-1"):
        LayerChain([keras.layers.Conv2D(3, 3, strides=2)])
