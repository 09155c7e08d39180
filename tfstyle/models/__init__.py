"""Keras models: VGG19 encoders, SANet, Magenta's arbitrary stylization network, the hourglass
depth network, SegNet."""
