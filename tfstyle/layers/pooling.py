"""Max pooling that remembers where the maxima were, and unpooling to those places (SegNet).

``pool(x) → (pooled, mask)`` and ``unpool(pooled, mask) → upsampled`` with the
values at their argmax positions and zeros elsewhere (Badrinarayanan et al.
2017, §3), through ``tf.nn.max_pool_with_argmax`` indices and a scatter.
Ties go to the first maximum in row-major window order.

2×2 windows, stride 2. Odd sizes pool with ceil (``same`` padding); the unpool
takes the pre-pool shape from the mask, so outputs match their inputs exactly.

No exported artifact runs SegNet on TFLite (the mobile portrait model takes
the mask as an input), so there is no builtin-op-only form of these layers.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfstyle")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2×2/2 max pooling returning (pooled, (argmax, input shape)).

    The argmax is the flat index per sample (int64, ``(y·W + x)·C + c``).
    """

    def call(self, inputs):
        pooled, argmax = tf.nn.max_pool_with_argmax(inputs, 2, 2, "SAME", include_batch_in_index=False)
        # the argmax carries no size: keep the pre-pool shape alongside
        return pooled, (argmax, tf.shape(inputs, out_type=tf.int64))


@keras.saving.register_keras_serializable(package="tfstyle")
class MaxUnpooling2D(keras.layers.Layer):
    """Puts each pooled value back at its argmax position, zeros elsewhere."""

    def call(self, pooled, mask):
        argmax, shape = mask
        batch = tf.shape(pooled, out_type=tf.int64)[0]
        per_sample = shape[1] * shape[2] * shape[3]
        offsets = tf.reshape(tf.range(batch) * per_sample, [-1, 1, 1, 1])
        flat_index = tf.reshape(argmax + offsets, [-1, 1])
        out = tf.scatter_nd(flat_index, tf.reshape(pooled, [-1]), [batch * per_sample])
        out = tf.reshape(out, shape)
        out.set_shape([None, None, None, pooled.shape[-1]])  # channels survive pool/unpool
        return out
