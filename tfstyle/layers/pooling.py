"""Max pooling that remembers where the maxima were, and unpooling to those places (SegNet).

Two implementations of the same contract — ``pool(x) → (pooled, mask)`` and
``unpool(pooled, mask) → upsampled`` with the values at their argmax
positions and zeros elsewhere:

* `MaxPoolingWithArgmax2D` / `MaxUnpooling2D` use ``tf.nn.max_pool_with_argmax``
  indices and a scatter (exact, any platform TF runs on);
* ``builtin_only=True`` computes the same first-maximum mask from builtin
  TFLite ops only — SPACE_TO_DEPTH, REDUCE_MAX, ARG_MAX, ONE_HOT,
  DEPTH_TO_SPACE — and unpools by ``upsample(pooled) * mask``.

Why not the shorter ``mask = (x == upsample(maxpool(x)))``: after a ReLU many
windows are all zeros, a four-way tie; that mask marks all four positions and
the unpooling then copies the decoder's (non-zero) value into each of them,
where SegNet puts it in one. Both forms here break ties alike (the first
maximum in row-major window order, as ``tf.nn.max_pool_with_argmax`` does).

2×2 windows, stride 2. Odd sizes pool with ceil (``same`` padding); the unpool
takes the pre-pool shape from the mask, so outputs match their inputs exactly.
"""

import keras
import tensorflow as tf


def _upsample2(x, shape):
    """×2 nearest upsampling cropped to `shape`'s H×W."""
    up = tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)
    return up[:, :shape[1], :shape[2], :]


def _pool_with_onehot_mask(x):
    """2×2/2 ceil-mode max pooling and a one-hot mask of each window's first maximum."""
    shape = tf.shape(x)
    channels = x.shape[-1]
    lowest = x.dtype.min
    x = tf.pad(x, [[0, 0], [0, shape[1] % 2], [0, shape[2] % 2], [0, 0]], constant_values=lowest)
    padded = tf.shape(x)
    windows = tf.reshape(tf.nn.space_to_depth(x, 2),  # depth index = (dy·2 + dx)·C + c
                         [padded[0], padded[1] // 2, padded[2] // 2, 4, channels])
    pooled = tf.reduce_max(windows, axis=3)
    first = tf.one_hot(tf.argmax(windows, axis=3), 4, axis=3, dtype=x.dtype)
    mask = tf.nn.depth_to_space(
        tf.reshape(first, [padded[0], padded[1] // 2, padded[2] // 2, 4 * channels]), 2)
    return pooled, mask[:, :shape[1], :shape[2], :]


@keras.saving.register_keras_serializable(package="tfstyle")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2×2/2 max pooling returning (pooled, mask); see the module docstring for `builtin_only`.

    With ``builtin_only=False`` the mask is the flat argmax index per sample
    (int64, ``(y·W + x)·C + c``) with the input's shape; otherwise a one-hot
    0/1 tensor at input size.
    """

    def __init__(self, builtin_only: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.builtin_only = bool(builtin_only)

    def call(self, inputs):
        if self.builtin_only:
            return _pool_with_onehot_mask(inputs)
        pooled, argmax = tf.nn.max_pool_with_argmax(inputs, 2, 2, "SAME",
                                                    include_batch_in_index=False)
        # the argmax carries no size: keep the pre-pool shape alongside (as a zero tensor
        # of the input's shape would cost memory, pack H, W into a small int tensor)
        return pooled, (argmax, tf.shape(inputs, out_type=tf.int64))

    def get_config(self):
        return {**super().get_config(), "builtin_only": self.builtin_only}


@keras.saving.register_keras_serializable(package="tfstyle")
class MaxUnpooling2D(keras.layers.Layer):
    """Puts each pooled value back at its argmax position, zeros elsewhere."""

    def __init__(self, builtin_only: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.builtin_only = bool(builtin_only)

    def call(self, pooled, mask):
        if self.builtin_only:
            return _upsample2(pooled, tf.shape(mask)) * mask
        argmax, shape = mask
        batch = tf.shape(pooled, out_type=tf.int64)[0]
        per_sample = shape[1] * shape[2] * shape[3]
        offsets = tf.reshape(tf.range(batch) * per_sample, [-1, 1, 1, 1])
        flat_index = tf.reshape(argmax + offsets, [-1, 1])
        out = tf.scatter_nd(flat_index, tf.reshape(pooled, [-1]), [batch * per_sample])
        out = tf.reshape(out, shape)
        out.set_shape([None, None, None, pooled.shape[-1]])  # channels survive pool/unpool
        return out

    def get_config(self):
        return {**super().get_config(), "builtin_only": self.builtin_only}
