"""Reflection padding (PyTorch ``nn.ReflectionPad2d``) as a Keras layer."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfstyle")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads H and W by mirroring, without repeating the edge pixel.

    Exported to TFLite this is one MIRROR_PAD (REFLECT) op, which the GPU
    delegate supports.
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

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
