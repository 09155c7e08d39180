"""SANet arbitrary style transfer (Park & Lee, CVPR 2019): transform, decoder, Stylizer.

Checkpoint-compatible with the public PyTorch port (GlebSBrykin/SANET): layer
names follow its state dict, and `tfstyle.importers.sanet_torch` converts its
published files. The runtime controls (α, style interpolation, masks, level
weights) are `tfstyle.controls`; weight folders are `tfstyle.models.sanet_weights`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Optional

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfstyle import color, controls
from tfstyle.errors import ConfigError
from tfstyle.layers import NearestUpsampling2D, ReflectionPadding2D, SANetAttention, upsample_like
from tfstyle.models.vgg import build_vgg19
from tfstyle.ops import area_resize
from tfstyle.style_features import StyleFeatures
from tfstyle.tiling import levels, run_levels

CHANNELS = 512
#: The parts a precision plan sets one by one (`Stylizer(precision_plan=...)`):
#: the VGG19 encoder's five blocks (``encoder1`` = the input conv and block 1,
#: ``encoder5`` = conv5_1), the two attention blocks (projections,
#: normalisation, attention product), the merge conv, the decoder's hidden convs
#: and its output conv.
ENCODER_PARTS = ("encoder1", "encoder2", "encoder3", "encoder4", "encoder5")
PARTS = (*ENCODER_PARTS, "attention", "merge", "decoder", "output")
STYLE_TAPS = ("relu4_1", "relu5_1")
TRAINING_TAPS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

# (index of the conv in the published PyTorch Sequential, filters) for the
# decoder; each conv has a reflection pad at the index before it, and ×2
# nearest upsamplings follow the convs at 1, 14 and 21 (indices 3, 16, 23).
DECODER_CONVS = ((1, 256), (5, 256), (8, 256), (11, 256), (14, 128), (18, 128), (21, 64), (25, 64), (28, 3))
_DECODER_UPSAMPLE_AFTER = {1, 14, 21}


@keras.saving.register_keras_serializable(package="tfstyle")
class SANetTransform(keras.Model):
    """Two SANet blocks (relu4_1, relu5_1) merged by a reflect-padded 3×3 conv.

    ``transform(c4, s4, c5, s5, level_weights=(W1, W2))`` → [B, H4, W4, 512].
    Layer names follow the published state dict (``sanet4_1.f``, ``merge_conv``).
    """

    def __init__(self, channels: int = CHANNELS, chunk_size=None, memory_budget_mb: float = 256.0, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.chunk_size, self.memory_budget_mb = channels, chunk_size, memory_budget_mb
        block = dict(
            channels=channels,
            chunk_size=chunk_size,
            memory_budget_mb=memory_budget_mb,
            dtype=self.dtype_policy,
        )
        self.sanet4_1 = SANetAttention(name="sanet4_1", **block)
        self.sanet5_1 = SANetAttention(name="sanet5_1", **block)
        self.merge_pad = ReflectionPadding2D(1, dtype=self.dtype_policy)
        self.merge_conv = keras.layers.Conv2D(channels, 3, name="merge_conv", dtype=self.dtype_policy)

    def build(self, input_shape=None):
        features = (None, None, None, self.channels)
        for block in (self.sanet4_1, self.sanet5_1):
            block.build(features, features)
        self.merge_conv.build(features)
        self.built = True

    def levels(self, c4, s4, c5, s5):
        """The two attended levels at relu4_1 resolution: (sanet4_1 out, upsampled sanet5_1 out)."""
        o4 = self.sanet4_1(c4, s4)
        return o4, upsample_like(self.sanet5_1(c5, s5), o4)

    def merge(self, o4, up5, level_weights=(1.0, 1.0)):
        return self.merge_conv(self.merge_pad(tf.add(*controls.weight_levels(o4, up5, level_weights))))

    def call(self, c4, s4, c5, s5, level_weights=(1.0, 1.0)):
        o4, up5 = self.levels(c4, s4, c5, s5)
        return self.merge(o4, up5, level_weights)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "chunk_size": self.chunk_size,
            "memory_budget_mb": self.memory_budget_mb,
        }


def build_decoder(dtype=None, name: str = "sanet_decoder") -> keras.Model:
    """The mirrored decoder: relu4_1 features [B, h, w, 512] → image [B, 8h, 8w, 3] (linear output).

    Conv layers are named ``conv{index}`` after their index in the published
    PyTorch Sequential. 3,505,219 parameters.
    """
    inputs = keras.Input((None, None, CHANNELS), name="features")
    x = inputs
    for index, filters in DECODER_CONVS:
        x = ReflectionPadding2D(1, name=f"pad{index - 1}", dtype=dtype)(x)
        last = filters == 3
        x = keras.layers.Conv2D(
            filters, 3, name=f"conv{index}", dtype=dtype, activation=None if last else "relu"
        )(x)
        if index in _DECODER_UPSAMPLE_AFTER:
            x = NearestUpsampling2D(2, name=f"up{index + 2}", dtype=dtype)(x)
    return keras.Model(inputs, x, name=name)


@keras.saving.register_keras_serializable(package="tfstyle")
class Stylizer(keras.Model):
    """SANet encoder (normalised VGG19, frozen) + transform + decoder.

    Load published/converted weights with
    `tfstyle.models.sanet_weights.load_stylizer`; ``Stylizer()`` is random
    (tests, training from scratch). Calling the model, ``stylizer([content,
    style])``, returns the raw decoder output [B, H', W', 3] (H' = 8·ceil(H/8));
    `stylize` is the inference API with runtime controls, returning images
    clipped to [0, 1] at input size.

    Args:
      chunk_size, memory_budget_mb: see `SANetAttention`.
      max_style_positions: cap on relu4_1 style positions (off by default):
        larger style features are resized to fit, trading exactness for
        memory; logged when it happens.
      training_taps: also expose relu1_1..relu3_1 (for the training losses).
      precision_plan: ``{part: dtype policy}`` for parts in `PARTS` that run at
        another precision than the model's ``dtype`` (`tfstyle.precision.stylizer_dtypes`).
      strip_rows: run the local parts (the encoder up to relu4_1, the whole
        decoder) in strips of this many full-resolution rows
        (`tfstyle.tiling`): the same numbers in a fraction of the memory.
        ``None`` derives it from `memory_budget_mb`; ``0`` never splits. An
        image of fewer than five strips runs whole (at 1024² strips cost 10 %
        and saved nothing), and so does a chain of fewer than three.
    """

    def __init__(
        self,
        chunk_size=None,
        memory_budget_mb: float = 256.0,
        max_style_positions: Optional[int] = None,
        training_taps: bool = False,
        precision_plan: Optional[dict] = None,
        strip_rows: Optional[int] = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        unknown = set(precision_plan or {}) - set(PARTS)
        if unknown:
            raise ConfigError(
                f"unknown precision plan part(s) {sorted(unknown)}; parts are {', '.join(PARTS)}"
            )
        self.precision_plan = dict(precision_plan or {})
        self.strip_rows = None if strip_rows is None else int(strip_rows)
        self.chunk_size, self.memory_budget_mb = chunk_size, memory_budget_mb
        self.max_style_positions, self.training_taps = max_style_positions, training_taps
        policy = self.dtype_policy
        # Functional sub-models own their weights once constructed; the
        # subclassed transform creates them in `build`.
        self.encoder = build_vgg19(
            TRAINING_TAPS if training_taps else STYLE_TAPS,
            weights=None,
            flavour="normalised",
            dtype=policy,
            name="vgg_normalised",
        )
        self.transform = SANetTransform(
            CHANNELS, chunk_size, memory_budget_mb, dtype=policy, name="transform"
        )
        self.decoder = build_decoder(dtype=policy)
        self._graphs: dict = {}
        #: fingerprint of the encoder weights, set when they are loaded from a file
        #: (`sanet_weights`); stamped on encoded styles and checked on cached ones
        self.weights_id = ""
        self._parts = self._group_parts()
        for part, policy in self.precision_plan.items():
            for layer in self.part_layers(part):
                layer.dtype_policy = policy
        self.build()

    def part_layers(self, part: str) -> list:
        """The layers (sub-layers included) of one part of `PARTS`."""
        return self._parts[part]

    def _group_parts(self) -> dict:
        """Each part of `PARTS` → its layers, sub-layers included (built once: stages ask often)."""
        output_pad, output_conv = self.decoder.layers[-2:]
        groups: dict = {part: [] for part in ENCODER_PARTS}
        for layer in self.encoder.layers[1:]:  # conv0 (the input conv) joins block 1
            block = max(1, int(next(ch for ch in layer.name if ch.isdigit())))  # pad3_2 → 3
            groups[f"encoder{block}"].append(layer)
        groups.update(
            {
                "attention": [self.transform.sanet4_1, self.transform.sanet5_1],
                "merge": [self.transform.merge_pad, self.transform.merge_conv],
                "decoder": list(self.decoder.layers[1:-2]),
                "output": [output_pad, output_conv],
            }
        )
        return {
            part: [sub for layer in layers for sub in layer._flatten_layers()]
            for part, layers in groups.items()
        }

    def part_dtype(self, part: str) -> str:
        """The compute dtype of one part of `PARTS`."""
        return self.part_layers(part)[-1].compute_dtype

    def build(self, input_shape=None):
        if not self.transform.built:
            self.transform.build()
        self.built = True

    def _graph(self, name, fn, channels, extra=(), part="encoder1"):
        """`fn` as a tf.function over [N, H, W, channels] inputs of any size.

        Inference runs as graphs rather than eager Keras calls: the graph
        executor frees each activation after its last use, where an eager
        functional call holds all of them to the end (4.6 → ~1.5 GiB at 1024²).
        Inside a function being traced (an export), `fn` is inlined instead, so
        static shapes stay static. Feature inputs arrive in `part`'s compute dtype.
        """
        if tf.inside_function():
            return fn
        if name not in self._graphs:

            def spec(c):
                return tf.TensorSpec([None, None, None, c], tf.float32 if c == 3 else self.part_dtype(part))

            signature = [spec(c) for c in channels] + list(extra)
            self._graphs[name] = tf.function(fn, input_signature=signature, reduce_retracing=True)
        return self._graphs[name]

    def _cast(self, x, part="attention"):
        return tf.cast(x, self.part_dtype(part))

    # -- Keras model API ----------------------------------------------------
    def call(self, inputs):
        content, style = inputs
        c, s = self.encoder(content), self.encoder(style)
        return self.decoder(self.transform(c["relu4_1"], s["relu4_1"], c["relu5_1"], s["relu5_1"]))

    def get_config(self):
        return {
            **super().get_config(),
            "chunk_size": self.chunk_size,
            "memory_budget_mb": self.memory_budget_mb,
            "max_style_positions": self.max_style_positions,
            "training_taps": self.training_taps,
            "precision_plan": self.precision_plan,
            "strip_rows": self.strip_rows,
        }

    # -- stages ---------------------------------------------------------------
    def encode(self, images) -> StyleFeatures:
        """Encode [N, H, W, 3] images in [0, 1] (at least 32 px a side) to relu4_1/relu5_1."""
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank == 3:
            images = images[None]
        rows = self._strip_rows(images.shape[2])
        if rows and not tf.inside_function() and images.shape[1] > 4 * rows:  # ≥ 5 strips
            head, rest = self._encoder_split()
            relu4_1 = self._cast(run_levels(head, images, rows), "encoder5")  # exact
            features = self._graph("encode_rest", rest, [int(relu4_1.shape[-1])], part="encoder5")(relu4_1)
        else:
            features = self._graph("encode", lambda x: self.encoder(x), [3], part="encoder1")(images)
        return StyleFeatures(features["relu4_1"], features["relu5_1"], encoder=self.weights_id)

    def _strip_rows(self, width) -> int:
        """Strip height for the local ends: `strip_rows`, or (``None``) the rows whose full-resolution
        64-channel activations (input, padded copy, output; float32) fit `memory_budget_mb`."""
        if self.strip_rows is not None or width is None:
            return self.strip_rows or 0
        return max(16, int(self.memory_budget_mb * 2**20 // (int(width) * 64 * 4 * 3)))

    def _encoder_split(self):
        """(the encoder up to relu4_1 as `tiling.levels` chains, block 5 as a function → {tap: features})."""
        layers = self.encoder.layers[1:]  # after the input layer
        cut = [layer.name for layer in layers].index("relu4_1") + 1

        def rest(relu4_1):
            x, taps = relu4_1, {"relu4_1": relu4_1}
            for layer in layers[cut:]:
                x = layer(x)
                if layer.name in STYLE_TAPS:
                    taps[layer.name] = x
            return taps

        return levels(layers[:cut]), rest

    def encode_style(self, images) -> StyleFeatures:
        """Style features to cache: compute once, reuse for many contents (`StyleFeatures.save`)."""
        return self.cap_style(self.encode(images))

    def cap_style(self, features: StyleFeatures) -> StyleFeatures:
        """Resize style features above `max_style_positions` relu4_1 positions (inexact, logged)."""
        cap = self.max_style_positions
        h, w = features.relu4_1.shape[1:3]
        if not cap or h * w <= cap:
            return features
        scale = (cap / (h * w)) ** 0.5
        size4 = (max(2, int(h * scale)), max(2, int(w * scale)))
        size5 = ((size4[0] + 1) // 2, (size4[1] + 1) // 2)
        logging.info(
            "style features %dx%d exceed max_style_positions=%d: resized to %dx%d "
            "(attention is no longer exact)",
            w,
            h,
            cap,
            size4[1],
            size4[0],
        )

        def resize(x, size):
            return tf.cast(area_resize(tf.cast(x, tf.float32), size), x.dtype)

        return dataclasses.replace(
            features, relu4_1=resize(features.relu4_1, size4), relu5_1=resize(features.relu5_1, size5)
        )

    def attended_levels(self, content: StyleFeatures, style: StyleFeatures):
        """The two attended levels (relu4_1 output, upsampled relu5_1 output): the
        expensive part of the transform, independent of the level weights."""
        levels = self._graph(
            "levels",
            lambda c4, s4, c5, s5: self.transform.levels(c4, s4, c5, s5),
            [CHANNELS] * 4,
            part="attention",
        )
        return levels(
            self._cast(content.relu4_1),
            self._cast(style.relu4_1),
            self._cast(content.relu5_1),
            self._cast(style.relu5_1),
        )

    def merge(self, o4, up5, level_weights=(1.0, 1.0)) -> tf.Tensor:
        """The merge conv over W1·o4 + W2·up5 (float32 out)."""
        merge = self._graph("merge", lambda a, b: self.transform.merge(a, b), [CHANNELS] * 2, part="merge")
        o4, up5 = controls.weight_levels(o4, up5, level_weights)
        return tf.cast(merge(self._cast(o4, "merge"), self._cast(up5, "merge")), tf.float32)

    def transformed(
        self, content: StyleFeatures, style: StyleFeatures, level_weights=(1.0, 1.0)
    ) -> tf.Tensor:
        """F_cs: the merged SANet features for content and style features (float32)."""
        transform = self._graph(
            "transform",
            lambda c4, s4, c5, s5, w: self.transform(c4, s4, c5, s5, (w[0], w[1])),
            [CHANNELS] * 4,
            extra=[tf.TensorSpec([2], self.part_dtype("attention"))],
            part="attention",
        )
        out = transform(
            self._cast(content.relu4_1),
            self._cast(style.relu4_1),
            self._cast(content.relu5_1),
            self._cast(style.relu5_1),
            tf.constant(level_weights, self.part_dtype("attention")),
        )
        return tf.cast(out, tf.float32)

    def decode(self, features) -> tf.Tensor:
        """Decoder output (linear, not clipped, float32) for transformed features."""
        features = self._cast(features, "decoder")
        rows = self._strip_rows(None if features.shape[2] is None else 8 * features.shape[2])
        if rows and not tf.inside_function() and 8 * features.shape[1] > 4 * rows:  # ≥ 5 strips
            out = run_levels(levels(self.decoder.layers[1:]), features, rows)  # exact
        else:
            out = self._graph("decode", lambda x: self.decoder(x), [CHANNELS], part="decoder")(features)
        return tf.cast(out, tf.float32)

    def controlled_features(
        self,
        content: StyleFeatures,
        styles: Sequence[StyleFeatures],
        *,
        alpha=1.0,
        style_weights: Optional[Sequence[float]] = None,
        masks=None,
        level_weights=(1.0, 1.0),
    ) -> tf.Tensor:
        """The decoder's input with the runtime controls of `tfstyle.controls` applied.

        `alpha` is a number, or a float tensor [N] inside exported graphs.
        """
        controls.check_mask_count(masks, len(styles))  # before the attention, not after
        per_style = [self.transformed(content, s, level_weights) for s in styles]
        fused = controls.combine_styles(per_style, weights=style_weights, masks=masks)
        return controls.mix_alpha(fused, lambda: self.transformed(content, content, level_weights), alpha)

    def render(self, features, height, width) -> tf.Tensor:
        """Decoded images [N, height, width, 3] clipped to [0, 1]."""
        return tf.clip_by_value(self.decode(features)[:, :height, :width], 0.0, 1.0)

    # -- inference API --------------------------------------------------------
    def stylize(
        self,
        content,
        style=None,
        *,
        style_features=None,
        alpha: float = 1.0,
        style_weights: Optional[Sequence[float]] = None,
        masks=None,
        level_weights=(1.0, 1.0),
        preserve_color: Optional[str] = None,
    ) -> np.ndarray:
        """Stylize content image(s) with one or more styles.

        Args:
          content: [H, W, 3] or [N, H, W, 3] float in [0, 1].
          style: one style image [H, W, 3] or a list of them.
          style_features: cached `StyleFeatures` (one or a list) instead of `style`.
          alpha: content-style trade-off in [0, 1] (1 = full style).
          style_weights: convex weights for several styles (default equal).
          masks: one mask [H, W] (or [N, H, W]) in [0, 1] per style, at content
            size; output = Σ_k mask_k · style_k's features.
          level_weights: (W1, W2) for the relu4_1 and relu5_1 blocks.
          preserve_color: ``"luminance"`` (transfer on luminance, keep the
            content's chroma) or ``"histogram"`` (match each style's colour
            histogram to the content first); needs style images.
        Returns:
          [N, H, W, 3] (or [H, W, 3]) float32 in [0, 1] at the content's size.
        """
        content = np.asarray(content, np.float32)
        single = content.ndim == 3
        content = content[None] if single else content
        alpha = controls.check_alpha(alpha)
        level_weights = controls.check_level_weights(level_weights)
        features = self._style_features(style, style_features, preserve_color, content)
        controls.convex_weights(style_weights, len(features))
        model_content = color.network_content(content, preserve_color)
        fused = self.controlled_features(
            self.encode(model_content),
            features,
            alpha=alpha,
            style_weights=style_weights,
            masks=masks,
            level_weights=level_weights,
        )
        out = color.restore_batch(self.render(fused, *content.shape[1:3]).numpy(), content, preserve_color)
        return out[0] if single else out

    def _style_features(self, style, style_features, preserve_color, content) -> list:
        if (style is None) == (style_features is None):
            raise ConfigError("pass exactly one of style images or cached style features")
        color.check_mode(preserve_color)
        if style_features is not None:
            if preserve_color:
                raise ConfigError("colour preservation needs the style images, not cached features")
            feats = style_features if isinstance(style_features, (list, tuple)) else [style_features]
            for f in feats:
                f.check_made_by("sanet", self.weights_id)
            return [self.cap_style(f) for f in feats]
        styles = style if isinstance(style, (list, tuple)) else [style]
        return [self.encode_style(s) for s in color.match_styles(styles, content[0], preserve_color)]
