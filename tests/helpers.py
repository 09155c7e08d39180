"""Plain helpers for the tests (fixtures live in conftest.py): test images, PSNR,
trained-scale random SANet weights."""

import pathlib

import numpy as np

DATA = pathlib.Path(__file__).parent / "data"
PORTRAIT = DATA / "grace_hopper.jpg"
PAINTING = DATA / "hokusai_great_wave.jpg"
#: MediaPipe's selfie segmenter, shipped inside the package (tfstyle/data/SOURCES.md)
SELFIE_MODEL = pathlib.Path(__file__).parent.parent / "tfstyle" / "data" / "selfie_segmentation.tflite"


def trained_like(stylizer, seed=2):
    """He-normal convs and a decoder output around 0.5, like tests/reference/torch_sanet.py:
    Keras' default init leaves a random SANet's output near 0, where clipping hides differences."""
    import keras

    rng = np.random.default_rng(seed)
    for layer in stylizer._flatten_layers():
        if isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            fan_in = np.prod(kernel.shape[:3])
            kernel = rng.normal(0, np.sqrt(2 / fan_in), kernel.shape)
            bias = rng.uniform(-0.05, 0.05, bias.shape)
            if layer is stylizer.decoder.layers[-1]:
                kernel, bias = kernel * 0.015, np.full(bias.shape, 0.5)
            layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return stylizer


def psnr(a, b, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB of two images (inf when equal)."""
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(peak**2 / mse))


def cancelling(stylizer, offset: float = 1000.0):
    """The same function as `stylizer` in float32, badly conditioned for bfloat16: the merge
    conv's outputs carry a constant `offset` that the decoder's first conv subtracts again
    (reflection padding keeps a constant constant). bfloat16 keeps 8 bits of mantissa, so
    `offset` + a feature of size ~1 loses the feature's low bits wherever the merge or the
    decoder runs in it: a weight set on which no bfloat16 plan stays within 40 dB."""
    import keras

    merge = stylizer.transform.merge_conv
    kernel, bias = merge.get_weights()
    merge.set_weights([kernel, bias + np.float32(offset)])
    first = next(layer for layer in stylizer.decoder.layers if isinstance(layer, keras.layers.Conv2D))
    kernel, bias = first.get_weights()
    first.set_weights([kernel, (bias - offset * kernel.sum(axis=(0, 1, 2))).astype(np.float32)])
    return stylizer
