"""Every loss as a plain function of tensors.

Shapes: features are [N, H, W, C], images [N, H, W, 3]; every loss returns a
scalar float32 averaged over the batch. Inputs in another float dtype
(bfloat16 features from a mixed-precision encoder) are cast to float32 first.

Example::

    phi = encoder(image)["relu4_2"]
    loss = content_loss(phi, content_target)
"""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

from tfstyle.ops import channel_mean_std, gram_matrix, mean_variance_norm
from tfstyle.optimization.settings import TV_VARIANTS


def _f32(x) -> tf.Tensor:
    return tf.cast(x, tf.float32)


def content_loss(features, target, weight_map: Optional[tf.Tensor] = None) -> tf.Tensor:
    """1/(C·H·W) · ‖Φ − Φc‖²_F (Gatys et al. 2016, eq. 1, size-normalised).

    Args:
      features, target: [N, H, W, C] (target may have batch 1).
      weight_map: optional per-pixel weights [N or 1, H, W, 1] at the
        features' resolution; the squared error at each position is scaled by
        it before the mean (Kozlovtsev 2019, depth-weighted content loss).

    Example::

        content_loss(tf.ones([1, 4, 4, 8]), tf.zeros([1, 4, 4, 8]))  # → 1.0
    """
    sq = tf.square(_f32(features) - _f32(target))
    if weight_map is not None:
        sq = sq * _f32(weight_map)
    return tf.reduce_mean(tf.reduce_mean(sq, axis=[1, 2, 3]))


def style_loss(features, target_gram, centred: bool = False) -> tf.Tensor:
    """1/C² · ‖G(Φ) − Gs‖²_F for one layer (Gatys et al. 2016, eq. 4 with eq. 3's G/HW).

    Args:
      features: [N, H, W, C]; target_gram: [N or 1, C, C] from `gram_matrix` (with the
        same `centred`).
    """
    diff = gram_matrix(_f32(features), centred) - _f32(target_gram)
    return tf.reduce_mean(tf.reduce_mean(tf.square(diff), axis=[1, 2]))


def total_variation(image, variant: str = "squared", beta: float = 2.0) -> tf.Tensor:
    """Total variation of [N, H, W, C] images, mean over positions.

    * ``squared``:  mean(Δx²) + mean(Δy²)  (the smoothness term of Johnson et al. 2016)
    * ``absolute``: mean|Δx| + mean|Δy|   (anisotropic TV, Rudin et al. 1992)
    * ``power``:    mean over the (H−1)×(W−1) grid of (Δx² + Δy²)^(β/2)
      (Mahendran & Vedaldi 2015, eq. 5, the V^β regulariser)

    with Δx = x[:, i, j+1] − x[:, i, j] and Δy = x[:, i+1, j] − x[:, i, j].
    """
    image = _f32(image)
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    if variant == "squared":
        return tf.reduce_mean(tf.square(dx)) + tf.reduce_mean(tf.square(dy))
    if variant == "absolute":
        return tf.reduce_mean(tf.abs(dx)) + tf.reduce_mean(tf.abs(dy))
    if variant == "power":
        sq = tf.square(dx[:, :-1, :, :]) + tf.square(dy[:, :, :-1, :])
        # tiny offset keeps the gradient of x^(β/2) finite at 0 for β < 2
        return tf.reduce_mean(tf.pow(sq + 1e-12, beta / 2.0))
    raise ValueError(f"unknown total variation variant {variant!r}; use one of {TV_VARIANTS}")


def mean_std_style_loss(features, target) -> tf.Tensor:
    """SANet/AdaIN style loss for one layer: MSE(μ, μs) + MSE(σ, σs) (Park & Lee 2019, eq. 6).

    Means and stds per sample and channel with the unbiased variance and
    eps 1e-5 (see `tfstyle.ops.channel_mean_std`).
    """
    mean, std = channel_mean_std(_f32(features))
    target_mean, target_std = channel_mean_std(_f32(target))
    return tf.reduce_mean(tf.square(mean - target_mean)) + tf.reduce_mean(tf.square(std - target_std))


def mvn_content_loss(features, target) -> tf.Tensor:
    """SANet content loss for one layer: MSE(mvn(Φ), mvn(Φc)) (Park & Lee 2019, eq. 5)."""
    return tf.reduce_mean(tf.square(mean_variance_norm(_f32(features)) - mean_variance_norm(_f32(target))))


def gather_pair_depths(depth, pairs):
    """z_A − z_B for each pair: depth [N, H, W, 1], pairs int [N, P, 4] as (yA, xA, yB, xB) → [N, P]."""
    depth = _f32(depth)[..., 0]
    pairs = tf.cast(pairs, tf.int32)
    z_a = tf.gather_nd(depth, pairs[..., 0:2], batch_dims=1)
    z_b = tf.gather_nd(depth, pairs[..., 2:4], batch_dims=1)
    return z_a - z_b


def ranking_loss(depth, pairs, labels, valid=None) -> tf.Tensor:
    """Pairwise ranking loss of Chen et al. 2016 (eq. 1), averaged over the valid pairs.

    r = +1 (A farther), −1 (A closer): log(1 + exp(−r·(z_A − z_B)));
    r = 0 (equal): (z_A − z_B)².

    Args:
      depth: predictions [N, H, W, 1] (larger = farther).
      pairs: int [N, P, 4] pixel coordinates (yA, xA, yB, xB).
      labels: [N, P] in {−1, 0, +1}; valid: optional [N, P] mask for padding.
    """
    diff = gather_pair_depths(depth, pairs)
    labels = _f32(labels)
    per_pair = tf.where(tf.equal(labels, 0.0), tf.square(diff), tf.nn.softplus(-labels * diff))
    weights = tf.ones_like(per_pair) if valid is None else _f32(valid)
    return tf.reduce_sum(per_pair * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)
