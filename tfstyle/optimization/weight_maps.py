"""Per-pixel content weights: from depth, and carried down to a VGG layer's resolution.

Kozlovtsev (2019, §4.1): the nearest pixel gets α_max, the farthest α_min,
log-spaced in between; the map reaches the content layer layer by layer —
through a k×k conv as the mean of α over the window, normalised by the number
of in-image positions (not zero-padded); through a pooling layer by average
pooling with the same window.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfstyle.errors import ConfigError


def depth_to_alpha(depth: np.ndarray, a_min: float, a_max: float) -> np.ndarray:
    """α per pixel: α_max at the nearest depth, α_min at the farthest, log-spaced.

    `depth` is [H, W] with larger = farther (the hourglass' convention).
    """
    if not (math.isfinite(a_min) and math.isfinite(a_max) and 0 < a_min <= a_max):
        raise ConfigError(f"depth content weights need 0 < A_MIN <= A_MAX, got {a_min},{a_max}")
    depth = np.asarray(depth, np.float64)
    span = depth.max() - depth.min()
    t = (depth - depth.min()) / span if span > 0 else np.zeros_like(depth)
    return np.exp(np.log(a_max) + t * (np.log(a_min) - np.log(a_max))).astype(np.float32)


def encoder_path(encoder, tap: str, flavour: str = "imagenet") -> list[tuple]:
    """The ("conv", k) / ("pool", k, ceil) operations from `encoder`'s input to `tap`,
    read off the built encoder's layers (so they never disagree with it)."""
    import keras

    from tfstyle.models.vgg import tap_layer_name

    target = tap_layer_name(tap, flavour)
    path: list[tuple] = []
    for layer in encoder.layers:
        if isinstance(layer, keras.layers.Conv2D):
            path.append(("conv", int(layer.kernel_size[0])))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            path.append(("pool", int(layer.pool_size[0]), layer.padding == "same"))
        if layer.name == target:
            return path
    raise ValueError(f"{encoder.name} has no layer {target}")


def propagate(weights: np.ndarray, path) -> np.ndarray:
    """Carry a [H, W] weight map along `path` (see `encoder_path`).

    TF's SAME average pooling divides by the in-image count, which is the
    edge-normalised window mean; a pooling layer averages over its own window,
    with ceil (SAME) or floor (VALID) output size as the layer has.
    """
    x = tf.convert_to_tensor(np.asarray(weights, np.float32)[None, :, :, None])
    for op, k, *ceil in path:
        if op == "conv":
            if k > 1:
                x = tf.nn.avg_pool2d(x, k, 1, "SAME")
        else:
            x = tf.nn.avg_pool2d(x, k, k, "SAME" if ceil[0] else "VALID")
    return x.numpy()[0, :, :, 0]
