"""tfstyle: neural style transfer for TensorFlow/Keras, aware of portraits and depth."""

__version__ = "0.1.0"
