"""Magenta's layers and controls without the real weights (no onnx needed): the conditional
instance norm against NumPy, the style mixture's weights, Keras round trips."""

import numpy as np
import pytest

from tfstyle import controls
from tfstyle.errors import ConfigError
from tfstyle.models.magenta import STYLE_DIM, MagentaStylizer, StyleNorm


def test_style_norm_matches_numpy(rng):
    layer = StyleNorm(4, style_dim=3)
    layer.build()
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    x = rng.normal(2.0, 3.0, (2, 5, 6, 4)).astype(np.float32)
    vectors = rng.normal(size=(2, 2, 3)).astype(np.float32)
    mix = rng.uniform(size=(2, 5, 6, 2)).astype(np.float32)
    mix /= mix.sum(-1, keepdims=True)
    gk, gb, bk, bb = weights
    gamma = np.einsum("bhwk,bkc->bhwc", mix, vectors @ gk + gb)
    beta = np.einsum("bhwk,bkc->bhwc", mix, vectors @ bk + bb)
    mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    expected = gamma * (x - mean) / np.sqrt(var + 1e-5) + beta  # Dumoulin et al. 2017, eq. 5
    np.testing.assert_allclose(layer(x, vectors, mix).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_style_mixture_weights_sum_to_one():
    v = [np.ones((1, STYLE_DIM), np.float32) * k for k in (1, 2)]
    strength = np.linspace(0, 1, 12, dtype=np.float32).reshape(1, 3, 4, 1)
    masks = [np.tri(3, 4, dtype=np.float32), 1 - np.tri(3, 4, dtype=np.float32)]
    vectors, mix = controls.style_mixture(
        v, masks=masks, strength=strength, own=np.zeros((1, STYLE_DIM), np.float32), size=(3, 4)
    )
    assert vectors.shape == (1, 3, STYLE_DIM) and mix.shape == (1, 3, 4, 3)
    np.testing.assert_allclose(mix.numpy().sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(mix.numpy()[..., 2], 1 - strength[..., 0], atol=1e-6)
    with pytest.raises(ConfigError, match="own style vector"):
        controls.style_mixture(v, strength=0.5)


def test_keras_round_trips(tmp_path, rng):
    model = MagentaStylizer()
    content, style = rng.uniform(size=(1, 40, 48, 3)), rng.uniform(size=(1, 64, 64, 3))
    expected = model([content, style]).numpy()
    model.save_weights(tmp_path / "m.weights.h5")
    other = MagentaStylizer()
    other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(other([content, style]).numpy(), expected)
    model.save(tmp_path / "m.keras")
    import keras

    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded([content, style]).numpy(), expected, atol=1e-6)
