"""Pure tensor functions shared by losses and layers (depend only on TensorFlow)."""

import tensorflow as tf

#: eps inside the std of AdaIN/SANet's calc_mean_std (pytorch-AdaIN function.py).
MEAN_STD_EPS = 1e-5


def gram_matrix(features: tf.Tensor, centred: bool = False) -> tf.Tensor:
    """Gram matrix of [N, H, W, C] features, normalised by H·W → [N, C, C].

    G_ij = (1 / HW) Σ_k F_ik F_jk (Gatys et al. 2016, eq. 3, with the
    1/HW normalisation so values do not grow with image size). `centred`:
    each channel's mean over positions taken away first, G_ij = (1 / HW) Σ_k
    (F_ik − μ_i)(F_jk − μ_j): the features' covariance, blind to their means.
    """
    features = tf.convert_to_tensor(features)
    if centred:
        features = features - tf.reduce_mean(features, axis=[1, 2], keepdims=True)
    shape = tf.shape(features)
    positions = tf.cast(shape[1] * shape[2], features.dtype)
    return tf.einsum("nhwc,nhwd->ncd", features, features) / positions


def channel_mean_std(features: tf.Tensor, eps: float = MEAN_STD_EPS):
    """Per sample and channel mean and std over H·W: two [N, 1, 1, C] tensors.

    The variance is the unbiased (N−1) estimate and std = sqrt(var + eps), as
    in AdaIN/SANet's ``calc_mean_std``.
    """
    features = tf.convert_to_tensor(features)
    mean, var = tf.nn.moments(features, axes=[1, 2], keepdims=True)
    shape = tf.shape(features)
    count = tf.cast(shape[1] * shape[2], features.dtype)
    unbiased = var * count / tf.maximum(count - 1.0, 1.0)
    return mean, tf.sqrt(unbiased + eps)


def mean_variance_norm(features: tf.Tensor, eps: float = MEAN_STD_EPS) -> tf.Tensor:
    """(x − mean) / std per sample and channel (SANet's ``mean_variance_norm``)."""
    mean, std = channel_mean_std(features, eps)
    return (features - mean) / std


def area_resize(masks, size) -> tf.Tensor:
    """Masks [N, H, W, C] → [N, h, w, C] by area averaging; `size` is (h, w) or an int tensor.

    Whole factors become an average pool: the same numbers, and AVERAGE_POOL_2D
    once exported to TFLite, where ResizeArea is not a builtin op.
    """
    masks = tf.convert_to_tensor(masks, tf.float32)
    static = tf.get_static_value(size)
    mh, mw = masks.shape[1:3]
    if static is not None and None not in (mh, mw):
        h, w = (int(v) for v in static)
        if mh % h == 0 and mw % w == 0:
            factor = (mh // h, mw // w)
            return tf.nn.avg_pool2d(masks, factor, factor, "VALID")
    return tf.image.resize(masks, size, method="area")
