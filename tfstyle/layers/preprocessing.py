"""Input normalisation layers, so networks take plain RGB [0, 1] images."""

import keras
from keras import ops

#: ImageNet mean in BGR order on the [0, 255] scale (Simonyan & Zisserman;
#: keras.applications.imagenet_utils, mode "caffe").
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="tfstyle")
class CaffePreprocess(keras.layers.Layer):
    """RGB [0, 1] → BGR [0, 255] minus the ImageNet mean ("caffe" mode)."""

    def call(self, inputs):
        bgr = ops.flip(inputs, axis=-1) * 255.0
        return bgr - ops.convert_to_tensor(IMAGENET_BGR_MEAN, dtype=bgr.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape
