"""Nearest upsampling: np.repeat's numbers, in float32 and bfloat16, and a config round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle.layers import NearestUpsampling2D, upsample_nearest


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (1, 7, 1, 3)])
def test_upsample_nearest_is_numpy_repeat(shape, dtype):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    expected = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    got = upsample_nearest(tf.cast(x, dtype))
    np.testing.assert_array_equal(tf.cast(got, tf.float32).numpy(),
                                  tf.cast(tf.cast(expected, dtype), tf.float32).numpy())


def test_layer_config_round_trip_and_factor_3():
    layer = NearestUpsampling2D(3, name="up")
    clone = NearestUpsampling2D.from_config(layer.get_config())
    x = np.arange(2 * 2 * 3, dtype=np.float32).reshape(1, 2, 2, 3)
    np.testing.assert_array_equal(clone(x).numpy(), np.repeat(np.repeat(x, 3, 1), 3, 2))
    model = keras.Sequential([keras.Input((None, None, 3)), layer])
    assert model.compute_output_shape((1, 4, 5, 3)) == (1, 12, 15, 3)
