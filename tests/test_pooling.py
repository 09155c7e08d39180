"""Argmax pooling and unpooling against a NumPy reference (batch > 1, odd sizes)."""

import numpy as np
import pytest
import tensorflow as tf

from tfstyle.layers import MaxPoolingWithArgmax2D, MaxUnpooling2D


def np_pool_unpool(x):
    """Each 2×2 window's (ceil-mode) maximum back at its position, zeros elsewhere."""
    n, h, w, c = x.shape
    pooled = np.zeros((n, -(-h // 2), -(-w // 2), c), x.dtype)
    out = np.zeros_like(x)
    for b in range(n):
        for i in range(pooled.shape[1]):
            for j in range(pooled.shape[2]):
                for k in range(c):
                    window = x[b, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2, k]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    pooled[b, i, j, k] = window[di, dj]
                    out[b, 2 * i + di, 2 * j + dj, k] = window[di, dj]
    return pooled, out


@pytest.mark.parametrize("shape", [(3, 6, 8, 4), (2, 7, 5, 3)])
def test_unpooling_puts_maxima_back_at_argmax(rng, shape):
    x = rng.normal(size=shape).astype(np.float32)  # continuous values: unique maxima
    pooled, mask = MaxPoolingWithArgmax2D()(x)
    restored = MaxUnpooling2D()(pooled, mask)
    expected_pooled, expected = np_pool_unpool(x)
    np.testing.assert_array_equal(pooled.numpy(), expected_pooled)
    assert restored.shape == x.shape
    np.testing.assert_array_equal(restored.numpy(), expected)


def test_ties_go_to_the_first_maximum_once(rng):
    x = np.maximum(rng.normal(size=(2, 9, 7, 5)).astype(np.float32), 0.0)  # all-zero windows tie
    x[0, :2, :2, 0] = 3.0  # and a tie among positive values
    decoder_values = rng.normal(size=(2, 5, 4, 5)).astype(np.float32)  # not zero where x is
    restored = MaxUnpooling2D()(decoder_values, MaxPoolingWithArgmax2D()(x)[1]).numpy()
    # each window receives its value exactly once (the first maximum, row-major)
    assert np.count_nonzero(restored) == np.count_nonzero(decoder_values)
    assert restored[0, 0, 0, 0] == decoder_values[0, 0, 0, 0]
    assert restored[0, 0, 1, 0] == 0 == restored[0, 1, 0, 0]


def test_gradient_flows_through_the_argmax_form(rng):
    x = tf.constant(rng.normal(size=(2, 5, 5, 2)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = MaxUnpooling2D()(*MaxPoolingWithArgmax2D()(x))
        loss = tf.reduce_sum(y * y)
    grad = tape.gradient(loss, x).numpy()
    _, expected = np_pool_unpool(x.numpy())
    np.testing.assert_allclose(grad, 2 * expected, rtol=1e-6)
