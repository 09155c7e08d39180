"""SANet's runtime controls, written once as TF ops (Park & Lee 2019, §4.4).

All act on transformed features before the decoder, so `SANetStylizer.stylize`,
the portrait compositing, the SavedModel signatures and the TFLite models
share this code:

* content-style trade-off: F = α·F_cs + (1−α)·F_cc, F_cc from the content
  used as its own style (`mix_alpha`);
* style interpolation: F_cs = Σ_k w_k·F_cs,k with convex weights
  (`combine_styles` with `weights`);
* spatial control: F_cs = Σ_k M_k ⊙ F_cs,k, masks at feature resolution
  (`combine_styles` with `masks`);
* per-level weights (Berezin & Volkova 2019): W1·SA(relu4_1) + W2·up(SA(relu5_1))
  before the merge conv (`weight_levels`).

Magenta's network (`tfstyle.models.magenta`) has the same controls on its
style vector instead of features: `style_mixture` turns strength, style
weights and masks into one set of vectors and their per-pixel convex weights.

The checks of user values (`check_alpha`, `convex_weights`,
`check_level_weights`) come from `tfstyle.checks`, so every entry point
refuses the same numbers with the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Optional

import tensorflow as tf

from tfstyle.checks import check_alpha, check_level_weights, convex_weights
from tfstyle.errors import ConfigError
from tfstyle.ops import area_resize

__all__ = [
    "check_alpha",
    "check_level_weights",
    "check_mask_count",
    "combine_styles",
    "convex_weights",
    "mask_at",
    "mix_alpha",
    "style_mixture",
    "weight_levels",
]


def mask_at(mask, size, batch) -> tf.Tensor:
    """A mask [H, W], [N, H, W] or [N, H, W, 1] in [0, 1] → [batch, h, w, 1] by area averaging."""
    mask = tf.convert_to_tensor(mask, tf.float32)
    if mask.shape.rank == 2:
        mask = mask[None]
    if mask.shape.rank == 3:
        mask = mask[..., None]
    return tf.broadcast_to(area_resize(mask, size), [batch, size[0], size[1], 1])


def check_mask_count(masks: Optional[Sequence], count: int) -> None:
    """One mask per style, or none."""
    if masks is not None and len(masks) != count:
        raise ConfigError(f"{len(masks)} masks for {count} styles; give one per style")


def combine_styles(
    per_style: Sequence[tf.Tensor],
    *,
    weights: Optional[Sequence[float]] = None,
    masks: Optional[Sequence] = None,
) -> tf.Tensor:
    """Σ_k M_k ⊙ F_k with masks (resized to the features), else Σ_k w_k·F_k (float32)."""
    features = [tf.cast(f, tf.float32) for f in per_style]
    check_mask_count(masks, len(features))
    if masks is not None:
        size, batch = features[0].shape[1:3], tf.shape(features[0])[0]
        if None in size:
            size = tf.shape(features[0])[1:3]
        return tf.add_n([mask_at(m, size, batch) * f for m, f in zip(masks, features)])
    weights = convex_weights(weights, len(features))
    return tf.add_n([w * f for w, f in zip(weights, features)])


def mix_alpha(styled, content_content: Callable[[], object], alpha):
    """α·F_cs + (1−α)·F_cc, for a tensor or a tuple of tensors (float32).

    `content_content` computes F_cc (the expensive content-with-itself
    attention) and is called only when some α < 1. `alpha` is a Python number
    or a float tensor of shape [] or [N] (one per batch item).
    """
    cast = lambda x: tf.nest.map_structure(lambda t: tf.cast(t, tf.float32), x)  # noqa: E731
    styled = cast(styled)
    if isinstance(alpha, (int, float)):
        if alpha >= 1.0:
            return styled
        cc = cast(content_content())
        return tf.nest.map_structure(lambda s, c: alpha * s + (1.0 - alpha) * c, styled, cc)
    a = tf.reshape(tf.cast(alpha, tf.float32), [-1, 1, 1, 1])

    def mixed():
        cc = cast(content_content())
        return tf.nest.map_structure(lambda s, c: a * s + (1.0 - a) * c, styled, cc)

    return tf.cond(tf.reduce_any(a < 1.0), mixed, lambda: styled)


def weight_levels(o4, up5, level_weights) -> tuple[tf.Tensor, tf.Tensor]:
    """(W1·o4, W2·up5): the two attended levels scaled before the merge conv."""
    w1, w2 = level_weights[0], level_weights[1]
    return tf.cast(w1, o4.dtype) * o4, tf.cast(w2, up5.dtype) * up5


def style_mixture(
    vectors: Sequence[tf.Tensor],
    *,
    weights: Optional[Sequence[float]] = None,
    masks: Optional[Sequence] = None,
    strength=1.0,
    own: Optional[tf.Tensor] = None,
    size=None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Style vectors [B, K, D] and their convex weights [B, 1|H, 1|W, K] for Magenta's transformer.

    `vectors` are K style vectors [B, D]; `weights` mix them globally, `masks`
    (one per style, resized to `size`) spatially. `strength` s (a number, a
    tensor [B], or a map [B, H, W, 1]) interpolates with the content's own
    vector `own` [B, D]: weights become s·w_k and (1 − s) for `own`
    (Ghiasi et al. 2017's identity interpolation), so the weights at every
    pixel still sum to 1. `own` may be None only when strength is the number 1.
    """
    stacked = tf.stack([tf.cast(v, tf.float32) for v in vectors], axis=1)
    count, batch = len(vectors), tf.shape(stacked)[0]
    check_mask_count(masks, count)
    if masks is not None:
        mix = tf.concat([mask_at(m, size, batch) for m in masks], axis=-1)
    else:
        mix = tf.reshape(tf.constant(convex_weights(weights, count), tf.float32), [1, 1, 1, count])
        mix = tf.tile(mix, [batch, 1, 1, 1])
    if isinstance(strength, (int, float)) and strength >= 1.0:
        return stacked, mix
    if own is None:
        raise ConfigError("strength below 1 needs the content's own style vector")
    s = tf.convert_to_tensor(strength, tf.float32)
    if s.shape.rank == 1:
        s = tf.reshape(s, [-1, 1, 1, 1])
    own_mix = tf.broadcast_to(1.0 - s, tf.concat([tf.shape(s * mix)[:3], [1]], 0))
    return tf.concat([stacked, tf.cast(own, tf.float32)[:, None, :]], 1), tf.concat([s * mix, own_mix], -1)
