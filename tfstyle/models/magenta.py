"""Magenta's arbitrary image stylization network (Ghiasi et al. 2017), any input size.

Two networks, as in the TensorFlow Lite style-transfer example:

* the **style predictor**, MobileNetV2 (Sandler et al. 2018, Table 2) with
  batch norm folded into the convolutions, a global average pool and a 1×1
  conv to a 100-d style vector S (Ghiasi et al. 2017, §3.1, the bottleneck);
* the **transformer**, Johnson et al.'s contract / residual ×5 / expand
  network at width ¼ (8, 16, 32 channels), reflect-padded convolutions and
  conditional instance normalisation (Dumoulin et al. 2017, eq. 5) whose
  scale γ and offset β are affine functions of S (the ``style_params`` 1×1
  convolutions of the published graph), sigmoid output.

Layer names are the published graph's TF scopes with ``/`` → ``.``, so
`tfstyle.importers.magenta_onnx` maps every weight by name. Unlike the
published fixed-size files (256² style, 384² content) these models take any
size: stride-2 convolutions use TensorFlow's SAME padding, and each ×2
upsampling is cropped to the matching contract stage (`upsample_like`).

Runtime controls act on S, which every γ and β depend on affinely, so mixing
style vectors with convex weights equals mixing the normalisation parameters
(`tfstyle.controls.style_mixture`): strength (Magenta's identity
interpolation with the content's own vector), style interpolation, spatial
masks (a weight map per style, area-resized to each layer), and the portrait
regions, all in one transformer pass.

Longer than the ~350-line norm: two networks (predictor, transformer), their
shared norm layer and the stylizer that joins them belong together.
"""

from __future__ import annotations

from typing import Optional

import keras
import tensorflow as tf

from tfstyle import controls
from tfstyle.layers import ReflectionPadding2D, upsample_like
from tfstyle.layers.upsampling import upsample_nearest
from tfstyle.models.base import StyleNetwork
from tfstyle.ops import area_resize
from tfstyle.style_features import StyleVector
from tfstyle.tiling import Step, levels, run_levels

#: Length of the style vector S (the bottleneck of Ghiasi et al. 2017, §3.1).
STYLE_DIM = 100
#: ε of the conditional instance norm (the graph's ``StyleNorm/batchnorm/add/y``).
EPSILON = 1e-5
#: Side the predictor was trained at: style images are resized so their shorter side is this.
STYLE_SIZE = 256
#: (scope, kernel, stride, filters) of the transformer's contract stage (conv + bias + ReLU).
CONTRACT = (("conv1", 9, 1, 8), ("conv2", 3, 2, 16), ("conv3", 3, 2, 32))
RESIDUAL_BLOCKS = 5
#: (scope, kernel, ×upsampling, filters) of the expand stage (conv + StyleNorm + ReLU; sigmoid last).
EXPAND = (("conv1", 3, 2, 16), ("conv2", 3, 2, 8), ("conv3", 9, 1, 3))
#: MobileNetV2 inverted residuals (expansion t, channels c, repeats n, first stride s), Table 2.
MOBILENET_V2 = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def layer_name(scope: str) -> str:
    """Keras layer name of a published TF scope: ``a/b/conv1`` → ``a.b.conv1``."""
    return scope.replace("/", ".")


@keras.saving.register_keras_serializable(package="tfstyle")
class StyleNorm(keras.layers.Layer):
    """Conditional instance norm: γ(S)·(x − μ)/√(σ² + ε) + β(S) (Dumoulin et al. 2017, eq. 5).

    ``call(x, vectors, mix)``: `vectors` [B, K, 100] are K style vectors and
    `mix` [B, h, w, K] their convex weights, [B, 1, 1, K] for one weight per
    image or a map (area-resized to x) for spatial control. Because γ and β
    are affine in S, Σ_k m_k·γ(S_k) = γ(Σ_k m_k·S_k).
    """

    def __init__(self, channels: int, style_dim: int = STYLE_DIM, epsilon: float = EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.style_dim, self.epsilon = int(channels), int(style_dim), float(epsilon)

    def build(self, input_shape=None, vectors_shape=None, mix_shape=None):
        kernel = (self.style_dim, self.channels)
        self.gamma_kernel = self.add_weight(shape=kernel, initializer="glorot_uniform", name="gamma_kernel")
        self.gamma_bias = self.add_weight(shape=(self.channels,), initializer="ones", name="gamma_bias")
        self.beta_kernel = self.add_weight(shape=kernel, initializer="glorot_uniform", name="beta_kernel")
        self.beta_bias = self.add_weight(shape=(self.channels,), initializer="zeros", name="beta_bias")
        self.built = True

    def call(self, x, vectors, mix):
        size = tuple(x.shape[1:3]) if None not in x.shape[1:3] else tf.shape(x)[1:3]
        gamma, beta = self.parameters(vectors, self.resized_mix(mix, size))
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return self.normalize(x, gamma, beta, mean, variance)

    def resized_mix(self, mix, size):
        """`mix` at this layer's resolution `size` (a spatial map is area-resized; [B, 1, 1, K] is kept)."""
        if mix.shape[1] != 1 or mix.shape[2] != 1:
            mix = area_resize(tf.cast(mix, tf.float32), size)
        return tf.cast(mix, self.compute_dtype)

    def parameters(self, vectors, mix):
        """γ and β [B, h|1, w|1, C] for style `vectors` [B, K, 100] mixed by `mix` (already resized)."""
        vectors = tf.cast(vectors, self.compute_dtype)
        gamma = tf.einsum("bkd,dc->bkc", vectors, self.gamma_kernel) + self.gamma_bias
        beta = tf.einsum("bkd,dc->bkc", vectors, self.beta_kernel) + self.beta_bias
        return tf.einsum("bhwk,bkc->bhwc", mix, gamma), tf.einsum("bhwk,bkc->bhwc", mix, beta)

    def normalize(self, x, gamma, beta, mean, variance):
        """Eq. 5 with the statistics given (`call` computes them; strips pass the whole image's)."""
        scale = gamma * tf.math.rsqrt(variance + tf.cast(self.epsilon, x.dtype))
        return x * scale + (beta - mean * scale)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "style_dim": self.style_dim,
            "epsilon": self.epsilon,
        }


def build_predictor(dtype=None, name: str = "style_predictor") -> keras.Model:
    """Style images [B, H, W, 3] in [0, 1] (any size ≥ 32) → style vectors [B, 100]. 2.38 M parameters."""
    inputs = keras.Input((None, None, 3), name="style_image")

    def conv(x, filters, kernel, stride, scope, activation="relu6"):
        layer = keras.layers.Conv2D(filters, kernel, stride, "same", name=layer_name(scope), dtype=dtype)
        x = layer(x)
        return keras.layers.ReLU(6.0, dtype=dtype)(x) if activation else x

    x = conv(inputs, 32, 3, 2, "MobilenetV2/Conv")
    channels, index = 32, 0
    for expansion, filters, repeats, first_stride in MOBILENET_V2:
        for repeat in range(repeats):
            block = "MobilenetV2/expanded_conv" + (f"_{index}" if index else "")
            stride = first_stride if repeat == 0 else 1
            h = conv(x, channels * expansion, 1, 1, f"{block}/expand") if expansion != 1 else x
            h = keras.layers.DepthwiseConv2D(
                3, stride, "same", name=layer_name(f"{block}/depthwise"), dtype=dtype
            )(h)
            h = keras.layers.ReLU(6.0, dtype=dtype)(h)
            h = conv(h, filters, 1, 1, f"{block}/project", activation=None)
            x = keras.layers.Add(dtype=dtype)([x, h]) if stride == 1 and channels == filters else h
            channels, index = filters, index + 1
    x = conv(x, 1280, 1, 1, "MobilenetV2/Conv_1")
    x = keras.layers.GlobalAveragePooling2D(keepdims=True, dtype=dtype)(x)
    x = conv(x, STYLE_DIM, 1, 1, "mobilenet_conv/Conv", activation=None)
    outputs = keras.layers.Reshape((STYLE_DIM,), dtype=dtype)(x)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="tfstyle")
class MagentaTransformer(keras.Model):
    """Content [B, H, W, 3] in [0, 1] + style vectors and mix → image [B, H, W, 3] in (0, 1).

    ``transformer(content, vectors [B, K, 100], mix [B, 1|h, 1|w, K])``. 0.18 M parameters.
    """

    def __init__(self, style_dim: int = STYLE_DIM, **kwargs):
        super().__init__(**kwargs)
        self.style_dim = style_dim
        dtype = self.dtype_policy

        def conv(scope, kernel, stride, filters, bias=True):
            return keras.layers.Conv2D(
                filters, kernel, stride, use_bias=bias, name=layer_name(scope), dtype=dtype
            )

        def norm(scope, filters):
            return StyleNorm(filters, style_dim, name=layer_name(f"{scope}/StyleNorm"), dtype=dtype)

        self.pad3 = ReflectionPadding2D(1, dtype=dtype)
        self.pad9 = ReflectionPadding2D(4, dtype=dtype)
        self.contract_convs = [conv(f"transformer/contract/{s}", k, st, f) for s, k, st, f in CONTRACT]
        width = CONTRACT[-1][3]
        residual = [
            f"transformer/residual/residual{b}/conv{i}" for b in range(1, RESIDUAL_BLOCKS + 1) for i in (1, 2)
        ]
        self.residual_convs = [conv(s, 3, 1, width, bias=False) for s in residual]
        self.residual_norms = [norm(s, width) for s in residual]
        expand = [(f"transformer/expand/{s}/conv", k, f) for s, k, _, f in EXPAND]
        self.expand_convs = [conv(s, k, 1, f, bias=False) for s, k, f in expand]
        self.expand_norms = [norm(s, f) for s, _, f in expand]

    def named_layers(self) -> list:
        """Every layer with weights, each named after its published TF scope."""
        return [
            *self.contract_convs,
            *self.residual_convs,
            *self.residual_norms,
            *self.expand_convs,
            *self.expand_norms,
        ]

    def _pad(self, x, kernel):
        return self.pad9(x) if kernel == 9 else self.pad3(x)

    def build(self, input_shape=None):
        channels = 3
        for layer in self.contract_convs:
            layer.build((None, None, None, channels))
            channels = layer.filters
        for layer, norm in zip(self.residual_convs, self.residual_norms):
            layer.build((None, None, None, channels))
            norm.build()
        for layer, norm in zip(self.expand_convs, self.expand_norms):
            layer.build((None, None, None, channels))
            norm.build()
            channels = layer.filters
        self.built = True

    def call(self, content, vectors, mix):
        x = tf.cast(content, self.compute_dtype)
        stages = []
        for layer, (_, kernel, _, _) in zip(self.contract_convs, CONTRACT):
            stages.append(x)
            x = tf.nn.relu(layer(self._pad(x, kernel)))
        x = self._residual(x, vectors, mix)
        for i, (layer, norm, (_, kernel, up, _)) in enumerate(
            zip(self.expand_convs, self.expand_norms, EXPAND)
        ):
            if up > 1:
                x = upsample_like(x, stages.pop())
            x = norm(layer(self._pad(x, kernel)), vectors, mix)
            x = tf.nn.sigmoid(x) if i == len(EXPAND) - 1 else tf.nn.relu(x)
        return x

    def _residual(self, x, vectors, mix):
        convs, norms = self.residual_convs, self.residual_norms
        for i in range(0, len(convs), 2):
            h = tf.nn.relu(norms[i](convs[i](self.pad3(x)), vectors, mix))
            x = x + norms[i + 1](convs[i + 1](self.pad3(h)), vectors, mix)
        return x

    def call_in_strips(self, content, vectors, mix, strip_rows: int):
        """`call` with the full- and half-resolution stages in exact row strips (`tfstyle.tiling`).

        Instance norm needs the whole image's statistics, so each expand stage
        runs in two passes: its convolution in strips (the narrow pre-norm map
        is kept whole), the statistics of that map, then the normalisation in
        strips fused into the next stage. The quarter-resolution residual
        blocks run whole. Eager only; equals `call` to float rounding.
        """
        x = tf.cast(content, self.compute_dtype)
        sizes = [tuple(int(n) for n in x.shape[1:3])]
        contract: list = []
        for layer, (_, kernel, _, _) in zip(self.contract_convs, CONTRACT):
            contract += [Step.pad(kernel // 2), layer, Step.pointwise(tf.nn.relu)]
            h, w = sizes[-1]
            sizes.append(((h - 1) // layer.strides[0] + 1, (w - 1) // layer.strides[0] + 1))
        x = run_levels(levels(contract), x, strip_rows)
        x = self._residual(x, vectors, mix)
        stage_sizes = sizes[1:3]  # the outputs of contract conv1 and conv2: upsampling targets
        normalize: list = []
        for i, (layer, norm, (_, kernel, up, _)) in enumerate(
            zip(self.expand_convs, self.expand_norms, EXPAND)
        ):
            steps = list(normalize)
            if up > 1:
                height, width = stage_sizes.pop()
                steps += [Step("up", upsample_nearest), Step.crop(height, width)]
            steps += [Step.pad(kernel // 2), layer]
            x = run_levels(levels(steps), x, strip_rows)  # pass 1: the pre-norm map, whole
            activation = tf.nn.sigmoid if i == len(EXPAND) - 1 else tf.nn.relu
            normalize = [Step.by_rows(self._norm_rows(norm, activation, x, vectors, mix))]  # pass 2
        return normalize[0].fn(x, 0, int(x.shape[1]))  # the 3-channel output norm, whole

    @staticmethod
    def _norm_rows(norm: StyleNorm, activation, x, vectors, mix):
        """Rows [a, b) of ``activation(norm(x))`` with the whole `x`'s statistics."""
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        mix = norm.resized_mix(mix, tuple(int(n) for n in x.shape[1:3]))
        spatial = mix.shape[1] != 1

        def rows(y, a, b):
            gamma, beta = norm.parameters(vectors, mix[:, a:b] if spatial else mix)
            return activation(norm.normalize(y, gamma, beta, mean, variance))

        return rows

    def get_config(self):
        return {**super().get_config(), "style_dim": self.style_dim}


class ConditionedNetwork(StyleNetwork):
    """A transformer whose conditional instance norms take style vectors (Dumoulin et al. 2017,
    eq. 5): the runtime controls are convex mixtures of vectors (`controls.style_mixture`),
    so strength, style weights, masks and the portrait regions cost one pass each.
    Magenta's network and the 26 built-in styles share this."""

    #: length of a style vector
    vector_dim = STYLE_DIM

    def own_vectors(self, content) -> Optional[tf.Tensor]:
        """The content's own style vectors [N, D] (what strength < 1 blends towards), or None."""
        return None

    def transform(self, content, vectors, mix) -> tf.Tensor:
        raise NotImplementedError

    def encoded_signature(self) -> dict:
        return {"style_vector": tf.TensorSpec([None, self.vector_dim], tf.float32, name="style_vector")}

    def encoded_tensors(self, encoded: StyleVector) -> dict:
        return {"style_vector": tf.cast(encoded.vector, tf.float32)}

    def encoded_from_tensors(self, tensors: dict) -> StyleVector:
        return StyleVector(tensors["style_vector"], model=self.network_name)

    def stylize_batch(self, content, styles, *, strength, style_weights, masks, level_weights) -> tf.Tensor:
        content = tf.convert_to_tensor(content, tf.float32)
        batch = content.shape[0] if content.shape[0] is not None else tf.shape(content)[0]
        own = None if isinstance(strength, (int, float)) and strength >= 1 else self.own_vectors(content)
        stacked, mix = controls.style_mixture(
            [tf.broadcast_to(tf.cast(e.vector, tf.float32), [batch, e.vector.shape[-1]]) for e in styles],
            weights=style_weights,
            masks=masks,
            strength=strength,
            own=own,
            size=content.shape[1:3],
        )
        return self.transform(content, stacked, mix)

    def portrait_image(self, content, encoded, mask, settings, face_mask=None, own_vector=None) -> tf.Tensor:
        """Regions by strength: ``pixel`` blending (``auto``) runs one pass per region and
        blends the images by the masks; ``feature`` gives every pixel its own strength,
        m·α_person + (1 − m)·α_background, in one pass. `own_vector` [N, D]: the content's
        vector when it was computed elsewhere (the TFLite portrait model takes it as an input)."""
        from tfstyle.portraits.compose import composite
        from tfstyle.portraits.settings import REGIONS

        content = tf.convert_to_tensor(content, tf.float32)
        own = self.own_vectors(content) if own_vector is None else own_vector
        vector = tf.cast(encoded.vector, tf.float32)
        alphas = {region: getattr(settings, f"{region}_alpha") for region in REGIONS}
        blend = self.spec.auto_blend if settings.blend == "auto" else settings.blend
        if blend == "feature":
            strength = composite(alphas, mask, face_mask)
            vectors, mix = controls.style_mixture([vector], strength=strength, own=own)
            return self.transform(content, vectors, mix)
        images = {}
        for region in REGIONS if face_mask is not None else REGIONS[:2]:
            vectors, mix = controls.style_mixture([vector], strength=alphas[region], own=own)
            images[region] = self.transform(content, vectors, mix)
        return composite(images, mask, face_mask)


@keras.saving.register_keras_serializable(package="tfstyle")
class MagentaStylizer(ConditionedNetwork):
    """Style predictor + transformer with the runtime controls; ``MagentaStylizer()`` is random.

    Load the real weights with ``tfstyle.load_network("magenta")`` (`MagentaStylizer.load`).
    ``stylizer([content, style])`` returns the transformer's output for the
    predicted style; `stylize` (the `StyleNetwork` interface) is the inference API.
    """

    network_name = "magenta"

    def __init__(self, memory_budget_mb: float = 256.0, strip_rows: Optional[int] = None, **kwargs):
        super().__init__(**kwargs)
        #: bounds the transformer's full-resolution activations: larger images run in strips
        self.memory_budget_mb = float(memory_budget_mb)
        #: strip height in full-resolution rows; ``None``: from the budget, ``0``: never split
        self.strip_rows = None if strip_rows is None else int(strip_rows)
        self.predictor = build_predictor(dtype=self.dtype_policy)
        self.transformer = MagentaTransformer(dtype=self.dtype_policy, name="transformer")
        self.transformer.build()
        self.built = True

    @classmethod
    def load_at(  # type: ignore[override]
        cls, folder, plan, *, memory_budget_mb: float = 256.0
    ) -> MagentaStylizer:
        from tfstyle.models.magenta_weights import load_magenta

        return load_magenta(folder, dtype=plan.dtype, memory_budget_mb=memory_budget_mb)

    def get_config(self):
        budget = {"memory_budget_mb": self.memory_budget_mb, "strip_rows": self.strip_rows}
        return {**super().get_config(), **budget}

    def call(self, inputs):
        content, style = inputs
        vectors = self.predictor(style)[:, None, :]
        return self.transformer(content, vectors, tf.ones_like(vectors[:, :, :1])[:, :, None, :])

    # -- stages ---------------------------------------------------------------
    def predict_vectors(self, images, size: Optional[int] = STYLE_SIZE) -> tf.Tensor:
        """Style vectors [N, 100] (float32) of images [N, H, W, 3] in [0, 1].

        Images are first resized so their shorter side is `size` (the
        predictor's training size); ``size=None`` uses them as they are.
        """
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank == 3:
            images = images[None]
        if size:
            images = resize_shorter_side(images, size)
        spec = [tf.TensorSpec([None, None, None, 3], tf.float32)]
        predict = self._graph("predict", lambda x: self.predictor(x), spec)
        return tf.cast(predict(images), tf.float32)

    def encode_style(self, images, size: Optional[int] = STYLE_SIZE) -> StyleVector:
        """A style vector to cache (`StyleVector.save`) and reuse for many contents."""
        return StyleVector(self.predict_vectors(images, size), encoder=self.weights_id)

    def own_vectors(self, content) -> tf.Tensor:
        return self.predict_vectors(content)

    def transform(self, content, vectors, mix) -> tf.Tensor:
        """Transformer output [N, H, W, 3] in (0, 1) for vectors [N, K, 100] and mix [N, h, w, K]."""
        mix = tf.convert_to_tensor(mix, tf.float32)
        spatial = mix.shape[1] != 1 or mix.shape[2] != 1
        spec = [
            tf.TensorSpec([None, None, None, 3], tf.float32),
            tf.TensorSpec([None, None, STYLE_DIM], tf.float32),
            tf.TensorSpec([None, None, None, None] if spatial else [None, 1, 1, None], tf.float32),
        ]
        content = tf.convert_to_tensor(content, tf.float32)
        rows = self._strip_rows(content.shape[2])
        if rows and not tf.inside_function() and content.shape[1] > 4 * rows:  # ≥ 5 strips, as SANet
            vectors = tf.convert_to_tensor(vectors, tf.float32)
            return tf.cast(self.transformer.call_in_strips(content, vectors, mix, rows), tf.float32)
        name = "transform_map" if spatial else "transform"
        run = self._graph(name, lambda c, v, m: self.transformer(c, v, m), spec)
        return tf.cast(run(content, vectors, mix), tf.float32)

    def _strip_rows(self, width) -> int:
        """Strip height: `strip_rows`, or (``None``) the rows whose widest full-resolution stage
        (the last upsampling's 16 channels, their padded copy, the 8-channel conv output and its
        normalised copy: 48 float32 values a pixel) fits `memory_budget_mb`."""
        if self.strip_rows is not None or width is None:
            return self.strip_rows or 0
        return max(16, int(self.memory_budget_mb * 2**20 // (int(width) * 48 * 4)))


def resize_shorter_side(images: tf.Tensor, size: int) -> tf.Tensor:
    """Resize [N, H, W, 3] so the shorter side is `size` (antialiased bilinear; aspect kept)."""
    shape = tf.cast(tf.shape(images)[1:3], tf.float32)
    scale = size / tf.reduce_min(shape)
    target = tf.cast(tf.round(shape * scale), tf.int32)
    return tf.image.resize(images, target, method="bilinear", antialias=True)
