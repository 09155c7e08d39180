"""Max pooling that remembers where the maxima were, and unpooling to those places (SegNet).

Two implementations of the same contract — ``pool(x) → (pooled, mask)`` and
``unpool(pooled, mask) → upsampled`` with the values at their argmax
positions and zeros elsewhere:

* `MaxPoolingWithArgmax2D` / `MaxUnpooling2D` use ``tf.nn.max_pool_with_argmax``
  indices and a scatter (exact, any platform TF runs on);
* ``builtin_only=True`` derives the mask as ``x == upsample(maxpool(x))`` and
  unpools by ``upsample(pooled) * mask``: only MAX_POOL_2D,
  RESIZE_NEAREST_NEIGHBOR, EQUAL and MUL, which TFLite runs without Flex ops.
  It agrees with the argmax form wherever each window's maximum is unique
  (with ties it keeps every tied position).

2×2 windows, stride 2. Odd sizes pool with ceil (``same`` padding); the unpool
takes the pre-pool shape from the mask, so outputs match their inputs exactly.
"""

import keras
import tensorflow as tf


def _upsample2(x, shape):
    """×2 nearest upsampling cropped to `shape`'s H×W."""
    up = tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)
    return up[:, :shape[1], :shape[2], :]


@keras.saving.register_keras_serializable(package="tfstyle")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2×2/2 max pooling returning (pooled, mask); see the module docstring for `builtin_only`.

    With ``builtin_only=False`` the mask is the flat argmax index per sample
    (int64, ``(y·W + x)·C + c``); otherwise a 0/1 tensor at input size.
    """

    def __init__(self, builtin_only: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.builtin_only = bool(builtin_only)

    def call(self, inputs):
        if self.builtin_only:
            pooled = tf.nn.max_pool2d(inputs, 2, 2, "SAME")
            mask = tf.cast(tf.equal(inputs, _upsample2(pooled, tf.shape(inputs))), inputs.dtype)
            return pooled, mask
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
        return tf.reshape(out, shape)

    def get_config(self):
        return {**super().get_config(), "builtin_only": self.builtin_only}
