"""Nearest upsampling and reflection padding: NumPy's numbers in float32 and bfloat16, on the CPU
form and the TFLite form; every layer's config round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle.kernels import for_tflite
from tfstyle.layers import NearestUpsampling2D, upsample_nearest
from tfstyle.layers.padding import reflect_pad


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (1, 7, 1, 3)])
def test_upsample_nearest_is_numpy_repeat(shape, dtype):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    expected = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    got = upsample_nearest(tf.cast(x, dtype))
    np.testing.assert_array_equal(
        tf.cast(got, tf.float32).numpy(), tf.cast(tf.cast(expected, dtype), tf.float32).numpy()
    )


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("form", ["cpu", "tflite"])
@pytest.mark.parametrize(
    "p, top, bottom", [(1, True, True), (2, True, False), (4, False, True), (3, False, False)]
)
def test_reflect_pad_is_numpy_reflect(p, top, bottom, form, dtype):
    x = np.random.default_rng(p).normal(size=(2, 6, 5, 3)).astype(np.float32)
    x = tf.cast(tf.cast(x, dtype), tf.float32).numpy()  # exactly representable in both dtypes
    expected = np.pad(x, ((0, 0), (p * top, p * bottom), (p, p), (0, 0)), mode="reflect")
    pad = lambda x: reflect_pad(x, p, top, bottom)  # noqa: E731
    graph = tf.function(for_tflite(pad) if form == "tflite" else pad)
    np.testing.assert_array_equal(tf.cast(graph(tf.cast(x, dtype)), tf.float32).numpy(), expected)
    traced = graph.get_concrete_function(tf.TensorSpec(x.shape, dtype)).graph
    ops = {op.type for op in traced.get_operations()}
    assert ("MirrorPad" in ops) == (form == "tflite")


def test_layer_config_round_trip_and_factor_3():
    layer = NearestUpsampling2D(3, name="up")
    clone = NearestUpsampling2D.from_config(layer.get_config())
    x = np.arange(2 * 2 * 3, dtype=np.float32).reshape(1, 2, 2, 3)
    np.testing.assert_array_equal(clone(x).numpy(), np.repeat(np.repeat(x, 3, 1), 3, 2))
    model = keras.Sequential([keras.Input((None, None, 3)), layer])
    assert model.compute_output_shape((1, 4, 5, 3)) == (1, 12, 15, 3)


def _layer_cases():
    """(layer, inputs) for every layer tfstyle defines, with a non-default setting each."""
    from tfstyle import layers

    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 9, 7, 4)).astype(np.float32)
    pooled, argmax = layers.MaxPoolingWithArgmax2D(name="p")(x)
    return {
        "SANetAttention": (
            layers.SANetAttention(channels=4, chunk_size=5, memory_budget_mb=3.0),
            (x, x[:1, :5, :6]),
        ),
        "InceptionBlock": (layers.InceptionBlock(2, 3, 4, kernels=(3, 5, 7)), (x,)),
        "MeanVarianceNormalization": (layers.MeanVarianceNormalization(epsilon=1e-3), (x,)),
        "CropLike": (layers.CropLike(), ([x, x[:, :5, :3]],)),
        "PadToMultiple": (layers.PadToMultiple(multiple=4), (x,)),
        "ReflectionPadding2D": (layers.ReflectionPadding2D(padding=2), (x,)),
        "MaxPoolingWithArgmax2D": (layers.MaxPoolingWithArgmax2D(), (x,)),
        "MaxUnpooling2D": (layers.MaxUnpooling2D(), (pooled, argmax)),
        "CaffePreprocess": (layers.CaffePreprocess(), (x[..., :3],)),
        "NearestUpsampling2D": (layers.NearestUpsampling2D(factor=3), (x,)),
    }


def test_every_layer_is_covered_by_the_round_trip():
    from tfstyle import layers

    classes = {name for name in layers.__all__ if isinstance(getattr(layers, name), type)}
    assert classes == set(_layer_cases())


@pytest.mark.parametrize("name", sorted(_layer_cases()))
def test_layer_get_config_round_trip(name):
    """from_config(get_config()) rebuilds the same layer: same config, same outputs."""
    layer, inputs = _layer_cases()[name]
    expected = layer(*inputs)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone(*inputs)  # build, then take the original's weights
    clone.set_weights(layer.get_weights())
    tf.nest.map_structure(
        lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)), clone(*inputs), expected
    )
    # and through Keras' registry, as a .keras file would
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(revived) is type(layer) and revived.get_config() == layer.get_config()
