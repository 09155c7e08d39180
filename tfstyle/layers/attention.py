"""The style-attentional block of SANet (Park & Lee 2019, §3.2, eq. 1–3), memory-bounded.

For content features Fc [B, Hc, Wc, C] and style features Fs [1 or B, Hs, Ws, C]:

    F = f(mvn(Fc)) → [B, Nc, C]      G = g(mvn(Fs)) → [B, Ns, C]
    S = softmax_over_Ns(F · Gᵀ)       (no 1/√C scaling, as in the reference)
    O = S · h(Fs)  → [B, Nc, C]       out = out_conv(O) + Fc

S has Nc × Ns entries: 1 GiB in float32 at 1024² inputs, 16 GiB at 2048².
Rows of S are independent, so the layer computes O in chunks of content
positions, exactly (each chunk's softmax is over all style positions), with
the chunk size chosen from a memory budget. ``chunk_size=0`` computes S in
one shot with no loop (the form to export to TFLite).
"""

import keras
import tensorflow as tf

from tfstyle.kernels import xla_kernels
from tfstyle.layers.normalization import MeanVarianceNormalization

#: Bytes of attention intermediates per entry of S: float32 logits, their
#: exponentials and the softmax output alive at once.
_BYTES_PER_SCORE = 12


@tf.function(jit_compile=True, reduce_retracing=True)
def _xla_bfloat16_logits(queries, keys):
    return tf.matmul(queries, keys, transpose_b=True, output_type=tf.float32)


@tf.custom_gradient
def _bfloat16_logits(queries, keys):
    """Q·Kᵀ of bfloat16 inputs, accumulated and returned in float32, as one XLA dot (TF's CPU
    kernels have no bfloat16 → float32 matmul); the gradient in float32, cast back."""

    def grad(upstream):
        dq = tf.matmul(upstream, tf.cast(keys, tf.float32))
        dk = tf.matmul(upstream, tf.cast(queries, tf.float32), transpose_a=True)
        dk = tf.cond(
            tf.shape(keys)[0] < tf.shape(dk)[0],  # one style for a batch of contents
            lambda: tf.reduce_sum(dk, 0, keepdims=True),
            lambda: dk,
        )
        return tf.cast(dq, queries.dtype), tf.cast(dk, keys.dtype)

    # the XLA function itself has no gradient for mixed dtypes: the tape must not look inside
    return _xla_bfloat16_logits(tf.stop_gradient(queries), tf.stop_gradient(keys)), grad


def _logits_by_xla(queries, keys) -> bool:
    """Whether `attention_logits` multiplies these inputs as they are, in one XLA dot."""
    return queries.dtype == keys.dtype == tf.bfloat16 and xla_kernels()


def attention_logits(queries, keys):
    """Q·Kᵀ in float32 for [B, Nq, C], [B', Nk, C] (B' ∈ {1, B}), whatever the inputs' dtype.

    bfloat16 inputs are exact in float32, so their product needs no cast: on the CPU it runs as
    XLA's bfloat16 dot with float32 accumulation, 1.9-2.5× faster than casting both to float32
    first (a 1024² relu4_1 chunk: 47 against 114 ms; `benchmarks/cpu_rewrites.py`), the same
    numbers up to summation order (`tfstyle.kernels.xla_kernels`).
    """
    if _logits_by_xla(queries, keys):
        return _bfloat16_logits(queries, keys)
    return tf.matmul(tf.cast(queries, tf.float32), tf.cast(keys, tf.float32), transpose_b=True)


def softmax_attention(queries, keys, values):
    """softmax(Q·Kᵀ over keys)·V for [B, Nq, C], [B', Nk, C], [B', Nk, C] (B' ∈ {1, B}).

    The logits and softmax are computed in float32 whatever the input dtype
    (`attention_logits`); the product with V runs in V's dtype.
    """
    weights = tf.nn.softmax(attention_logits(queries, keys), axis=-1)
    return tf.matmul(tf.cast(weights, values.dtype), values)


def chunked_softmax_attention(queries, keys, values, chunk_size):
    """`softmax_attention` over chunks of `chunk_size` query rows (a scalar tensor), exact."""
    num_queries = tf.shape(queries)[1]
    chunk_size = tf.maximum(tf.cast(chunk_size, tf.int32), 1)
    num_chunks = (num_queries + chunk_size - 1) // chunk_size
    # Chunks are written position-major ([rows, B, C]) so TensorArray.concat
    # joins them along the position axis.
    chunks = tf.TensorArray(values.dtype, size=num_chunks, infer_shape=False)
    if not _logits_by_xla(queries, keys):  # cast once here, not once per chunk
        queries, keys = tf.cast(queries, tf.float32), tf.cast(keys, tf.float32)

    def body(i, chunks):
        rows = queries[:, i * chunk_size : (i + 1) * chunk_size]
        out = softmax_attention(rows, keys, values)
        return i + 1, chunks.write(i, tf.transpose(out, [1, 0, 2]))

    _, chunks = tf.while_loop(
        lambda i, _: i < num_chunks, body, [tf.constant(0), chunks], parallel_iterations=1
    )  # one chunk alive at a time
    return tf.transpose(chunks.concat(), [1, 0, 2])


@keras.saving.register_keras_serializable(package="tfstyle")
class SANetAttention(keras.layers.Layer):
    """SANet's style-attentional block; call it as ``layer(content, style)``.

    Args:
      channels: C of the features (512 at relu4_1 and relu5_1).
      chunk_size: content positions per attention chunk; ``None`` derives it
        from `memory_budget_mb`, ``0`` never chunks (one-shot, export-friendly).
      memory_budget_mb: bound on the attention intermediates when chunking
        automatically.
    """

    def __init__(self, channels: int = 512, chunk_size=None, memory_budget_mb: float = 256.0, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.chunk_size = None if chunk_size is None else int(chunk_size)
        self.memory_budget_mb = float(memory_budget_mb)
        conv = lambda name: keras.layers.Conv2D(
            self.channels,
            1,
            name=name,  # noqa: E731
            dtype=self.dtype_policy,
        )
        self.f, self.g, self.h, self.out_conv = conv("f"), conv("g"), conv("h"), conv("out_conv")
        self.norm = MeanVarianceNormalization(dtype=self.dtype_policy)

    def build(self, content_shape, style_shape):
        for conv in (self.f, self.g, self.h, self.out_conv):
            conv.build((None, None, None, self.channels))

    def _chunk_rows(self, batch, style_positions):
        if self.chunk_size:
            return tf.constant(self.chunk_size)
        budget = tf.cast(self.memory_budget_mb * 2**20, tf.float64)
        per_row = tf.cast(batch * style_positions * _BYTES_PER_SCORE, tf.float64)
        return tf.cast(tf.maximum(tf.floor(budget / per_row), 1.0), tf.int32)

    def call(self, content, style):
        c_shape, s_shape = tf.shape(content), tf.shape(style)
        flat = lambda x, shape: tf.reshape(x, [shape[0], shape[1] * shape[2], self.channels])  # noqa
        queries = flat(self.f(self.norm(content)), c_shape)
        keys = flat(self.g(self.norm(style)), s_shape)
        values = flat(self.h(style), s_shape)  # raw style features, as in the reference
        if self.chunk_size == 0:
            attended = softmax_attention(queries, keys, values)
        else:
            rows = self._chunk_rows(c_shape[0], s_shape[1] * s_shape[2])
            attended = chunked_softmax_attention(queries, keys, values, rows)
        attended = tf.reshape(attended, c_shape)
        return self.out_conv(attended) + content

    def compute_output_shape(self, content_shape, style_shape):
        return content_shape

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "chunk_size": self.chunk_size,
            "memory_budget_mb": self.memory_budget_mb,
        }
