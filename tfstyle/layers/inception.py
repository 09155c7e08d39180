"""The inception block of Chen et al.'s relative-depth hourglass (NIPS 2016)."""

from collections.abc import Sequence

import keras


@keras.saving.register_keras_serializable(package="tfstyle")
class InceptionBlock(keras.layers.Layer):
    """Four branches concatenated on channels: 1×1 → c1, and for each kernel k
    1×1 → `reduce` then k×k → `channels`; every conv followed by BatchNorm
    without scale/shift and ReLU (``inception_new.lua``). Output: c1 + 3·channels.
    """

    def __init__(self, c1: int, reduce: int, channels: int, kernels: Sequence[int] = (3, 5, 7), **kwargs):
        super().__init__(**kwargs)
        self.c1, self.reduce, self.channels = int(c1), int(reduce), int(channels)
        self.kernels = tuple(int(k) for k in kernels)
        if len(self.kernels) != 3:
            raise ValueError(f"an inception block has three k×k branches, got kernels {kernels}")

        def unit(filters, size, name):
            return [
                keras.layers.Conv2D(
                    filters, size, padding="same", name=f"{name}_conv", dtype=self.dtype_policy
                ),
                keras.layers.BatchNormalization(
                    center=False,
                    scale=False,
                    epsilon=1e-5,
                    momentum=0.9,
                    name=f"{name}_bn",
                    dtype=self.dtype_policy,
                ),
                keras.layers.ReLU(dtype=self.dtype_policy),
            ]

        self.branches = [unit(self.c1, 1, "b0")]
        for i, k in enumerate(self.kernels, start=1):
            self.branches.append(unit(self.reduce, 1, f"b{i}_reduce") + unit(self.channels, k, f"b{i}"))
        self.concat = keras.layers.Concatenate(dtype=self.dtype_policy)

    def build(self, input_shape):
        for branch in self.branches:
            shape = input_shape
            for layer in branch:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)

    def call(self, inputs, training=None):
        outputs = []
        for branch in self.branches:
            x = inputs
            for layer in branch:
                x = (
                    layer(x, training=training)
                    if isinstance(layer, keras.layers.BatchNormalization)
                    else layer(x)
                )
            outputs.append(x)
        return self.concat(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.c1 + 3 * self.channels)

    def get_config(self):
        return {
            **super().get_config(),
            "c1": self.c1,
            "reduce": self.reduce,
            "channels": self.channels,
            "kernels": list(self.kernels),
        }
