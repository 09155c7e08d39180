"""The depth-aware parts of the optimisation objective (Liu et al. 2017; Kozlovtsev 2019).

`depth_options` turns the user's depth settings into what `GatysTransfer.run`
takes: extra objective terms (the depth loss) and a per-pixel content weight
map (from the content's depth, or from a given grayscale map).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Optional

import numpy as np
import tensorflow as tf

from tfstyle import weights as weights_lib
from tfstyle.checks import check_finite
from tfstyle.errors import ConfigError
from tfstyle.optimization.objective import Term
from tfstyle.optimization.weight_maps import depth_to_alpha


class DepthTerm(Term):
    """Depth loss of Liu et al. 2017: 1/(H·W)·Σ (D(x) − D(x_c))², D a frozen depth network.

    The image is average-pooled by `downscale` first (the seed thesis halves it
    to fit memory), and fed to D as what D was trained on: RGB in [0, 1].
    """

    name = "depth"

    def __init__(self, depth_model, content: np.ndarray, weight: float, downscale: int = 2):
        self.model, self.weight, self.downscale = depth_model, weight, int(downscale)
        self.target = self.depth(tf.constant(content[None], tf.float32))

    def depth(self, image):
        if self.downscale > 1:
            image = tf.nn.avg_pool2d(image, self.downscale, self.downscale, "VALID")
        return tf.cast(self.model(image), tf.float32)

    def __call__(self, image, features):
        return tf.reduce_mean(tf.square(self.depth(image) - self.target))


@dataclasses.dataclass(frozen=True)
class DepthOptions:
    """Depth settings of one optimisation run.

    Attributes:
      depth_weight: γ of the depth loss (0: none).
      content_weights: (A_MIN, A_MAX) for depth-weighted content, or ``None``.
      depth_weights: the hourglass: a ``.weights.h5`` path, ``random`` (tests),
        or ``None`` (required when a depth term is asked for).
      downscale: average-pooling factor before the depth network.
      content_weight_map: a [H, W] weight map at the content's size instead
        of `content_weights`.
    """

    depth_weight: float = 0.0
    content_weights: Optional[tuple[float, float]] = None
    depth_weights: Optional[str] = None
    downscale: int = 2
    content_weight_map: Optional[np.ndarray] = None

    @property
    def needs_depth(self) -> bool:
        return self.depth_weight > 0 or self.content_weights is not None

    def validate(self, with_map: bool = False) -> None:
        """Refuse bad numbers; `with_map`: a content weight map is also given."""
        check_finite(self.depth_weight, "--depth-weight", low=0.0)
        if self.downscale < 1:
            raise ConfigError(f"--depth-downscale must be >= 1, got {self.downscale}")
        if self.content_weights is not None:
            if len(self.content_weights) != 2:
                raise ConfigError("--depth-content-weights takes two numbers, A_MIN,A_MAX")
            if with_map or self.content_weight_map is not None:
                raise ConfigError("pass --depth-content-weights or --content-weight-map, not both")
            depth_to_alpha(np.zeros((1, 1)), *self.content_weights)  # 0 < A_MIN <= A_MAX


def load_depth_model(value: Optional[str]):
    """The hourglass for a ``--depth-weights`` value (``random`` for tests)."""
    from tfstyle.models.depth import build_hourglass

    return build_hourglass(weights_lib.resolve_weights(value, weights_lib.HOURGLASS))


def depth_options(
    options: DepthOptions, content: np.ndarray
) -> tuple[Callable[[np.ndarray], list] | tuple, Optional[np.ndarray]]:
    """(extra objective terms for `GatysTransfer.run`, content weight map) for `options`."""
    options.validate()
    weight_map = options.content_weight_map
    if not options.needs_depth:
        return (), weight_map
    model = load_depth_model(options.depth_weights)
    if options.content_weights is not None:
        depth = model(content[None]).numpy()[0, :, :, 0]
        weight_map = depth_to_alpha(depth, *options.content_weights)
    if options.depth_weight > 0:

        def terms(level_content):
            return [DepthTerm(model, level_content, options.depth_weight, options.downscale)]

        return terms, weight_map
    return (), weight_map
