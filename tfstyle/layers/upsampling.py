"""×2 nearest-neighbour upsampling as one resize op."""

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
