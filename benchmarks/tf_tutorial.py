"""The peer of the Gatys benchmarks: TensorFlow's "Neural style transfer" tutorial, as published.

keras.applications VGG19, block5_conv2 / block1..5_conv1, einsum Gram over
positions, caffe preprocessing of [0, 1] images scaled to 255.
"""

import keras
import tensorflow as tf

CONTENT_LAYERS = ["block5_conv2"]
STYLE_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]


def tutorial_gram_matrix(input_tensor):
    result = tf.linalg.einsum("bijc,bijd->bcd", input_tensor, input_tensor)
    input_shape = tf.shape(input_tensor)
    num_locations = tf.cast(input_shape[1] * input_shape[2], tf.float32)
    return result / num_locations


class TutorialStyleContentModel(keras.Model):
    def __init__(self, vgg):
        super().__init__()
        outputs = [vgg.get_layer(name).output for name in STYLE_LAYERS + CONTENT_LAYERS]
        self.vgg = keras.Model([vgg.input], outputs)
        self.vgg.trainable = False

    def call(self, inputs):
        inputs = inputs * 255.0
        preprocessed = keras.applications.vgg19.preprocess_input(inputs)
        outputs = self.vgg(preprocessed)
        style_outputs = [tutorial_gram_matrix(o) for o in outputs[: len(STYLE_LAYERS)]]
        content_outputs = outputs[len(STYLE_LAYERS) :]
        return {
            "content": dict(zip(CONTENT_LAYERS, content_outputs)),
            "style": dict(zip(STYLE_LAYERS, style_outputs)),
        }
