"""Channel statistics layers matching AdaIN/SANet's ``calc_mean_std`` / ``mean_variance_norm``."""

import keras

from tfstyle.ops import MEAN_STD_EPS, mean_variance_norm


@keras.saving.register_keras_serializable(package="tfstyle")
class MeanVarianceNormalization(keras.layers.Layer):
    """(x − μ) / σ per sample and channel over H·W; σ² unbiased, σ = sqrt(σ² + eps)."""

    def __init__(self, epsilon: float = MEAN_STD_EPS, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        return mean_variance_norm(inputs, self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
