"""×2 nearest-neighbour upsampling as one resize op, and the one upsample-and-crop."""

import keras
import tensorflow as tf


def upsample_nearest(x, factor: int = 2):
    """Repeat every pixel `factor`×`factor` times: [N, H, W, C] → [N, fH, fW, C].

    One ResizeNearestNeighbor (RESIZE_NEAREST_NEIGHBOR in TFLite, which the GPU
    delegate runs), where ``tf.repeat`` / Keras' ``UpSampling2D`` lower to 5-D
    RESHAPE/TILE chains. With half-pixel centres and a whole factor, source
    pixel ⌊(i + ½)/f⌋ is exactly the repeat.
    """
    shape = tf.shape(x)
    return tf.image.resize(x, shape[1:3] * factor, method="nearest")


def upsample_like(x, reference):
    """×2 nearest upsampling of `x`, cropped to `reference`'s H×W.

    A ceil-mode 2×2 pooling of an odd-sized map is one row (column) short of
    half, so its ×2 upsampling is one row (column) too large. The extra bottom
    row / right column is the copy of a pooled cell that covered only the last
    row (column) of the reference, so cropping it keeps every position aligned
    with the cell it was pooled from.
    """
    up = upsample_nearest(x)
    shape = tf.shape(reference)
    return up[:, : shape[1], : shape[2], :]


@keras.saving.register_keras_serializable(package="tfstyle")
class NearestUpsampling2D(keras.layers.Layer):
    """`upsample_nearest` as a layer: the same numbers as ``UpSampling2D(f, "nearest")``."""

    def __init__(self, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, inputs):
        return upsample_nearest(inputs, self.factor)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        grow = lambda n: None if n is None else n * self.factor  # noqa: E731
        return (b, grow(h), grow(w), c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
