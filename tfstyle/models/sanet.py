"""SANet arbitrary style transfer (Park & Lee, CVPR 2019): transform, decoder, SANetStylizer.

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
import tensorflow as tf
from absl import logging

from tfstyle import controls
from tfstyle.errors import ConfigError
from tfstyle.layers import NearestUpsampling2D, ReflectionPadding2D, SANetAttention, upsample_like
from tfstyle.models.base import StyleNetwork
from tfstyle.models.vgg import build_vgg19
from tfstyle.ops import area_resize
from tfstyle.style_features import StyleFeatures
from tfstyle.tiling import levels, run_chain, run_levels

CHANNELS = 512
#: The parts a precision plan sets one by one (`SANetStylizer(precision_plan=...)`):
#: the VGG19 encoder's five blocks (``encoder1`` = the input conv and block 1,
#: ``encoder5`` = conv5_1), the two attention blocks (projections,
#: normalisation, attention product), the merge conv, the decoder's hidden convs
#: and its output conv.
ENCODER_PARTS = ("encoder1", "encoder2", "encoder3", "encoder4", "encoder5")
PARTS = (*ENCODER_PARTS, "attention", "merge", "decoder", "output")
STYLE_TAPS = ("relu4_1", "relu5_1")
#: The attended levels: both (the paper's multi-level model, the published weights) or relu4_1
#: alone (the paper's single-level model, Park & Lee 2019 Table 1 and the Fig. 7 ablation).
MULTI_LEVEL, SINGLE_LEVEL = ("relu4_1", "relu5_1"), ("relu4_1",)
LEVEL_CHOICES = (MULTI_LEVEL, SINGLE_LEVEL)
TRAINING_TAPS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

# (index of the conv in the published PyTorch Sequential, filters) for the
# decoder; each conv has a reflection pad at the index before it, and ×2
# nearest upsamplings follow the convs at 1, 14 and 21 (indices 3, 16, 23).
DECODER_CONVS = ((1, 256), (5, 256), (8, 256), (11, 256), (14, 128), (18, 128), (21, 64), (25, 64), (28, 3))
_DECODER_UPSAMPLE_AFTER = {1, 14, 21}


@keras.saving.register_keras_serializable(package="tfstyle")
class SANetTransform(keras.Model):
    """Two SANet blocks (relu4_1, relu5_1) merged by a reflect-padded 3×3 conv; or, with
    ``levels=("relu4_1",)``, the relu4_1 block alone, its output going straight to the decoder
    (the paper's single-level model: no relu5_1 block, nothing to merge).

    ``transform(c4, s4, c5, s5, level_weights=(W1, W2))`` → [B, H4, W4, 512] (the single-level
    model ignores c5, s5 and W2). Layer names follow the published state dict (``sanet4_1.f``,
    ``merge_conv``).
    """

    def __init__(
        self,
        channels: int = CHANNELS,
        chunk_size=None,
        memory_budget_mb: float = 256.0,
        levels=MULTI_LEVEL,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.levels_used = check_levels(levels)
        self.channels, self.chunk_size, self.memory_budget_mb = channels, chunk_size, memory_budget_mb
        block = dict(
            channels=channels,
            chunk_size=chunk_size,
            memory_budget_mb=memory_budget_mb,
            dtype=self.dtype_policy,
        )
        self.sanet4_1 = SANetAttention(name="sanet4_1", **block)
        self.sanet5_1 = self.merge_pad = self.merge_conv = None
        if self.multi_level:
            self.sanet5_1 = SANetAttention(name="sanet5_1", **block)
            self.merge_pad = ReflectionPadding2D(1, dtype=self.dtype_policy)
            self.merge_conv = keras.layers.Conv2D(channels, 3, name="merge_conv", dtype=self.dtype_policy)

    @property
    def multi_level(self) -> bool:
        return self.levels_used == MULTI_LEVEL

    def build(self, input_shape=None):
        features = (None, None, None, self.channels)
        self.sanet4_1.build(features, features)
        if self.sanet5_1 is not None and self.merge_conv is not None:
            self.sanet5_1.build(features, features)
            self.merge_conv.build(features)
        self.built = True

    def levels(self, c4, s4, c5, s5):
        """The attended levels at relu4_1 resolution: (sanet4_1 out, upsampled sanet5_1 out);
        the single-level model's second is zeros."""
        o4 = self.sanet4_1(c4, s4)
        if self.sanet5_1 is None:
            return o4, tf.zeros_like(o4)
        return o4, upsample_like(self.sanet5_1(c5, s5), o4)

    def merge(self, o4, up5, level_weights=(1.0, 1.0)):
        if self.merge_conv is None or self.merge_pad is None:  # relu4_1 alone: W1 still scales it
            return controls.weight_levels(o4, up5, level_weights)[0]
        merged = tf.add(*controls.weight_levels(o4, up5, level_weights))
        return run_chain([self.merge_pad, self.merge_conv], merged)  # float32: row halves, as the encoder

    def call(self, c4, s4, c5, s5, level_weights=(1.0, 1.0)):
        o4, up5 = self.levels(c4, s4, c5, s5)
        return self.merge(o4, up5, level_weights)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "chunk_size": self.chunk_size,
            "memory_budget_mb": self.memory_budget_mb,
            "levels": list(self.levels_used),
        }


def check_levels(levels) -> tuple:
    """`levels` as one of `LEVEL_CHOICES`, else one line naming them."""
    levels = tuple(levels)
    if levels not in LEVEL_CHOICES:
        raise ConfigError(f"SANet levels {','.join(levels)}: use relu4_1,relu5_1 (multi-level) or relu4_1")
    return levels


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


# registered under its first name, so .keras files saved before the rename still load
@keras.saving.register_keras_serializable(package="tfstyle", name="Stylizer")
class SANetStylizer(StyleNetwork):
    """SANet encoder (normalised VGG19, frozen) + transform + decoder.

    Load published/converted weights with ``tfstyle.load_network("sanet")``
    (`SANetStylizer.load`); ``SANetStylizer()`` is random (tests, training from
    scratch). Calling the model, ``stylizer([content, style])``, returns the raw
    decoder output [B, H', W', 3] (H' = 8·ceil(H/8)); `stylize` (the
    `StyleNetwork` interface) returns images clipped to [0, 1] at input size.

    Args:
      chunk_size, memory_budget_mb: see `SANetAttention`.
      max_style_positions: cap on relu4_1 style positions (off by default):
        larger style features are resized to fit, trading exactness for
        memory; logged when it happens.
      training_taps: also expose relu1_1..relu3_1 (for the training losses).
      precision_plan: ``{part: dtype policy}`` for parts in `PARTS` that run at
        another precision than the model's ``dtype`` (`tfstyle.precision.Plan`).
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
        levels=MULTI_LEVEL,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.levels = check_levels(levels)
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
            CHANNELS, chunk_size, memory_budget_mb, levels=self.levels, dtype=policy, name="transform"
        )
        self.decoder = build_decoder(dtype=policy)
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
                "attention": [b for b in (self.transform.sanet4_1, self.transform.sanet5_1) if b is not None],
                "merge": [m for m in (self.transform.merge_pad, self.transform.merge_conv) if m is not None],
                "decoder": list(self.decoder.layers[1:-2]),
                "output": [output_pad, output_conv],
            }
        )
        return {
            part: [sub for layer in layers for sub in layer._flatten_layers()]
            for part, layers in groups.items()
        }

    def part_dtype(self, part: str) -> str:
        """The compute dtype of one part of `PARTS` (the single-level model's empty merge: the
        attention's)."""
        layers = self.part_layers(part) or self.part_layers("attention")
        return layers[-1].compute_dtype

    def build(self, input_shape=None):
        if not self.transform.built:
            self.transform.build()
        self.built = True

    def _stage(self, name, fn, channels, extra=(), part="encoder1"):
        """`fn` as a graph (`StyleNetwork._graph`) over [N, H, W, channels] inputs of any size;
        feature inputs arrive in `part`'s compute dtype, images in float32."""

        def spec(c):
            return tf.TensorSpec([None, None, None, c], tf.float32 if c == 3 else self.part_dtype(part))

        return self._graph(name, fn, [spec(c) for c in channels] + list(extra))

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
            "levels": list(self.levels),
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
            features = self._stage("encode_rest", rest, [int(relu4_1.shape[-1])], part="encoder5")(relu4_1)
        else:
            encoder = self.encoder.layers[1:]  # run_chain: one image's float32 convs as a batch of row halves
            features = self._stage(
                "encode", lambda x: run_chain(encoder, x, STYLE_TAPS), [3], part="encoder1"
            )(images)
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
            return {"relu4_1": relu4_1, **run_chain(layers[cut:], relu4_1, STYLE_TAPS[1:])}

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
        levels = self._stage(
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
        merge = self._stage("merge", lambda a, b: self.transform.merge(a, b), [CHANNELS] * 2, part="merge")
        o4, up5 = controls.weight_levels(o4, up5, level_weights)
        return tf.cast(merge(self._cast(o4, "merge"), self._cast(up5, "merge")), tf.float32)

    def transformed(
        self, content: StyleFeatures, style: StyleFeatures, level_weights=(1.0, 1.0)
    ) -> tf.Tensor:
        """F_cs: the merged SANet features for content and style features (float32)."""
        transform = self._stage(
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
            decoder = self.decoder.layers[1:]
            out = self._stage("decode", lambda x: run_chain(decoder, x), [CHANNELS], part="decoder")(features)
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

    # -- the StyleNetwork interface -----------------------------------------------
    network_name = "sanet"

    @classmethod
    def load_at(cls, folder, plan, **options) -> SANetStylizer:
        from tfstyle.models.sanet_weights import load_sanet

        return load_sanet(folder, **plan.network_kwargs(), **options)

    def architecture(self) -> dict:
        return {"levels": self.levels}

    def check_encoded(self, encoded):
        return self.cap_style(super().check_encoded(encoded))

    def encoded_signature(self) -> dict:
        return {tap: tf.TensorSpec([None, None, None, CHANNELS], tf.float32, name=tap) for tap in STYLE_TAPS}

    def encoded_tensors(self, encoded: StyleFeatures) -> dict:
        return {
            "relu4_1": tf.cast(encoded.relu4_1, tf.float32),
            "relu5_1": tf.cast(encoded.relu5_1, tf.float32),
        }

    def encoded_from_tensors(self, tensors: dict) -> StyleFeatures:
        relu4_1, relu5_1 = tensors["relu4_1"], tensors["relu5_1"]
        shape4, shape5 = tf.shape(relu4_1), tf.shape(relu5_1)
        check = tf.debugging.Assert(
            tf.reduce_all(tf.equal(shape5[:3], tf.concat([shape4[:1], (shape4[1:3] + 1) // 2], 0))),
            [
                "relu5_1 must have the batch of relu4_1 and half its height and width "
                "(rounded up); pass both outputs of encode_style unchanged. Shapes:",
                shape4,
                shape5,
            ],
        )
        with tf.control_dependencies([check]):
            return StyleFeatures(tf.identity(relu4_1), relu5_1)

    def stylize_batch(self, content, styles, *, strength, style_weights, masks, level_weights) -> tf.Tensor:
        content = tf.convert_to_tensor(content, tf.float32)
        fused = self.controlled_features(
            self.encode(content),
            styles,
            alpha=strength,
            style_weights=style_weights,
            masks=masks,
            level_weights=level_weights,
        )
        if None in content.shape[1:3]:  # inside an exported graph
            return self.render(fused, tf.shape(content)[1], tf.shape(content)[2])
        return self.render(fused, *content.shape[1:3])

    def portrait_image(self, content, encoded, mask, settings, face_mask=None) -> tf.Tensor:
        """Regions by SANet's runtime controls, sharing one attention pass (`region_features`);
        ``feature`` blending mixes the regions' decoder inputs by the masks and decodes once,
        ``pixel`` decodes each region and blends the images."""
        from tfstyle.portraits.compose import composite
        from tfstyle.portraits.settings import REGIONS

        content = tf.convert_to_tensor(content, tf.float32)
        regions = REGIONS if face_mask is not None else REGIONS[:2]
        features = self.region_features(self.encode(content), encoded, settings, regions)
        height, width = tf.shape(mask)[1], tf.shape(mask)[2]
        blend = self.spec.auto_blend if settings.blend == "auto" else settings.blend
        if blend == "feature":
            person = features["person"]
            size = tf.shape(person)[1:3] if None in person.shape[1:3] else tuple(person.shape[1:3])
            at = lambda m: None if m is None else controls.mask_at(m, size, tf.shape(person)[0])  # noqa: E731
            return self.render(composite(features, at(mask), at(face_mask)), height, width)
        images = {region: self.render(f, height, width) for region, f in features.items()}
        return composite(images, mask, face_mask)

    def region_features(self, c: StyleFeatures, s: StyleFeatures, settings, regions) -> dict:
        """Decoder inputs for the regions' settings (person, background, face), sharing the attention.

        The level weights act only at the merge conv and the merge is affine, so
        α·merge(W1·o4 + W2·up5) + (1−α)·merge(W1·o4' + W2·up5') (primes: the
        content-content levels) equals one merge of the α-mixed, weighted levels:
        every region reuses one attention pass for (c, s) and one for (c, c).
        """
        cs = self.attended_levels(c, s)
        cc: list = []

        def content_content():  # computed once, and only when a region has α < 1
            if not cc:
                cc.append(self.attended_levels(c, c))
            return cc[0]

        features = {}
        for region in regions:
            o4, up5 = controls.mix_alpha(cs, content_content, getattr(settings, f"{region}_alpha"))
            features[region] = self.merge(o4, up5, getattr(settings, f"{region}_levels"))
        return features
