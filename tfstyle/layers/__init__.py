"""Small reusable Keras layers, each with ``get_config``."""

from tfstyle.layers.attention import SANetAttention
from tfstyle.layers.inception import InceptionBlock
from tfstyle.layers.normalization import MeanVarianceNormalization
from tfstyle.layers.padding import CropLike, PadToMultiple, ReflectionPadding2D
from tfstyle.layers.pooling import MaxPoolingWithArgmax2D, MaxUnpooling2D
from tfstyle.layers.preprocessing import CaffePreprocess
from tfstyle.layers.upsampling import NearestUpsampling2D, upsample_like, upsample_nearest

__all__ = [
    "CaffePreprocess",
    "CropLike",
    "InceptionBlock",
    "MaxPoolingWithArgmax2D",
    "MaxUnpooling2D",
    "MeanVarianceNormalization",
    "NearestUpsampling2D",
    "PadToMultiple",
    "ReflectionPadding2D",
    "SANetAttention",
    "upsample_like",
    "upsample_nearest",
]
