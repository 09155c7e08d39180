"""Small reusable Keras layers, each with ``get_config``."""

from tfstyle.layers.attention import SANetAttention
from tfstyle.layers.inception import InceptionBlock
from tfstyle.layers.normalization import MeanVarianceNormalization
from tfstyle.layers.padding import CropLike, PadToMultiple, ReflectionPadding2D
from tfstyle.layers.preprocessing import CaffePreprocess

__all__ = ["CaffePreprocess", "CropLike", "PadToMultiple", "InceptionBlock", "MeanVarianceNormalization", "ReflectionPadding2D", "SANetAttention"]
