"""Keras models: VGG19 encoders, SANet, the hourglass depth network, SegNet."""
