"""Reflection padding (PyTorch ``nn.ReflectionPad2d``) as a Keras layer."""

import keras
import tensorflow as tf
from keras import ops

from tfstyle.kernels import cpu_rewrites


def reflect_index(index, n):
    """The source of each position of a reflect-padded axis of length `n` (positions −p … n−1+p):
    (n−1) − |(n−1) − |i||, i.e. −i below 0 and 2(n−1) − i from n on, the edge not repeated."""
    last = n - 1
    return last - tf.abs(last - tf.abs(index))


def gather_rows_cols(x, rows, cols):
    """``x[:, rows][:, :, cols]`` for [N, H, W, C] as one gather over the flattened positions:
    one copy, where two gathers or ``MirrorPad`` make two (or run slower). Few ops on purpose:
    each pad of a traced network adds them, and tracing time grows with them."""
    n, height, width, channels = tf.unstack(tf.shape(x))
    positions = tf.reshape(tf.expand_dims(rows, 1) * width + cols, [-1])
    flat = tf.gather(tf.reshape(x, tf.stack([n, height * width, channels])), positions, axis=1)
    return tf.reshape(flat, tf.stack([n, tf.size(rows), tf.size(cols), channels]))


def reflect_pad(x, p: int, top: bool = True, bottom: bool = True):
    """Reflect-pad [N, H, W, C] by `p` rows (at the top and/or bottom) and `p` columns (both sides),
    PyTorch's ``ReflectionPad2d``: the edge pixel is not repeated.

    On TensorFlow's CPU kernels this is one gather (`gather_rows_cols`), 1.5-2.5× faster than
    ``MirrorPad`` for the same bytes (`tfstyle.kernels`, `benchmarks/cpu_rewrites.py`); graphs
    for TFLite keep the one ``MirrorPad`` op.
    """
    if not cpu_rewrites():
        return tf.pad(x, [[0, 0], [p if top else 0, p if bottom else 0], [p, p], [0, 0]], mode="REFLECT")
    _, height, width, _ = tf.unstack(tf.shape(x))
    rows = reflect_index(tf.range(-p if top else 0, height + (p if bottom else 0)), height)
    return gather_rows_cols(x, rows, reflect_index(tf.range(-p, width + p), width))


@keras.saving.register_keras_serializable(package="tfstyle")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads H and W by mirroring, without repeating the edge pixel.

    Exported to TFLite this is one MIRROR_PAD (REFLECT) op, which the GPU
    delegate supports (`reflect_pad`).
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        return reflect_pad(inputs, self.padding)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        grow = lambda n: None if n is None else n + 2 * self.padding  # noqa: E731
        return (b, grow(h), grow(w), c)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="tfstyle")
class PadToMultiple(keras.layers.Layer):
    """Pads H and W at the bottom/right (mirroring, edge included) up to a multiple of `multiple`."""

    def __init__(self, multiple: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, inputs):
        shape = ops.shape(inputs)
        pad_h = (-shape[1]) % self.multiple
        pad_w = (-shape[2]) % self.multiple
        return ops.pad(inputs, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="symmetric")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        up = lambda n: None if n is None else -(-n // self.multiple) * self.multiple  # noqa: E731
        return (b, up(h), up(w), c)

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="tfstyle")
class CropLike(keras.layers.Layer):
    """``CropLike()([x, reference])``: the top-left H×W of x, H and W being reference's."""

    def call(self, inputs):
        x, reference = inputs
        shape = ops.shape(reference)
        return x[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, input_shape):
        x, reference = input_shape
        return (x[0], reference[1], reference[2], x[3])
