"""Small reusable Keras layers, each with ``get_config``."""

from tfstyle.layers.padding import ReflectionPadding2D
from tfstyle.layers.preprocessing import CaffePreprocess

__all__ = ["ReflectionPadding2D", "CaffePreprocess"]
