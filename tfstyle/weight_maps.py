"""Per-pixel content weights: from depth, and carried down to a VGG layer's resolution.

Kozlovtsev (2019, §4.1): the nearest pixel gets α_max, the farthest α_min,
log-spaced in between; the map reaches the content layer layer by layer —
through a k×k conv as the mean of α over the window, normalised by the number
of in-image positions (not zero-padded); through a pooling layer by average
pooling with the same window.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfstyle.models.vgg import VGG19_BLOCKS, canonical_tap


def depth_to_alpha(depth: np.ndarray, a_min: float, a_max: float) -> np.ndarray:
    """α per pixel: α_max at the nearest depth, α_min at the farthest, log-spaced.

    `depth` is [H, W] with larger = farther (the hourglass' convention).
    """
    if not 0 < a_min <= a_max:
        raise ValueError(f"need 0 < a_min <= a_max, got {a_min}, {a_max}")
    depth = np.asarray(depth, np.float64)
    span = depth.max() - depth.min()
    t = (depth - depth.min()) / span if span > 0 else np.zeros_like(depth)
    return np.exp(np.log(a_max) + t * (np.log(a_min) - np.log(a_max))).astype(np.float32)


def vgg_path(tap: str, flavour: str = "imagenet") -> list[tuple[str, int]]:
    """The ("conv", k) / ("pool", 2) operations from the input image to `tap`."""
    tap = canonical_tap(tap, flavour)
    block, layer = int(tap[4]), int(tap[6])
    path = [("conv", 1)] if flavour == "normalised" else []  # the 1×1 preprocessing conv
    for b in range(1, block + 1):
        convs = VGG19_BLOCKS[b - 1][1] if b < block else layer
        path += [("conv", 3)] * convs
        if b < block:
            path.append(("pool", 2))
    return path


def propagate(weights: np.ndarray, path, *, ceil_pool: bool = False) -> np.ndarray:
    """Carry a [H, W] weight map along `path` (see `vgg_path`).

    TF's SAME average pooling divides by the in-image count, which is the
    edge-normalised window mean; pools are VALID (floor) for the Keras VGG and
    SAME (ceil) for the normalised one.
    """
    x = tf.convert_to_tensor(np.asarray(weights, np.float32)[None, :, :, None])
    for op, k in path:
        if op == "conv":
            if k > 1:
                x = tf.nn.avg_pool2d(x, k, 1, "SAME")
        else:
            x = tf.nn.avg_pool2d(x, k, k, "SAME" if ceil_pool else "VALID")
    return x.numpy()[0, :, :, 0]
