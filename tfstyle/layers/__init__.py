"""Small reusable Keras layers, each with ``get_config``."""

from tfstyle.layers.attention import SANetAttention
from tfstyle.layers.inception import InceptionBlock
from tfstyle.layers.normalization import MeanVarianceNormalization
from tfstyle.layers.pooling import MaxPoolingWithArgmax2D, MaxUnpooling2D
from tfstyle.layers.padding import CropLike, PadToMultiple, ReflectionPadding2D
from tfstyle.layers.preprocessing import CaffePreprocess
from tfstyle.layers.upsampling import NearestUpsampling2D, upsample_nearest

__all__ = ["CaffePreprocess", "CropLike", "PadToMultiple", "InceptionBlock", "MaxPoolingWithArgmax2D", "MaxUnpooling2D", "MeanVarianceNormalization",
           "NearestUpsampling2D", "ReflectionPadding2D", "SANetAttention", "upsample_nearest"]
