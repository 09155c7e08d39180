"""SANet arbitrary style transfer (Park & Lee, CVPR 2019): transform, decoder, Stylizer.

Checkpoint-compatible with the public PyTorch port (GlebSBrykin/SANET); see
shared/specs/sanet.md for the architecture facts and
`tfstyle.importers.sanet_torch` for converting its published files.

Runtime controls (paper §4.4), all applied to the transformed features before
the decoder:

* content-style trade-off: F = α·F_csc + (1−α)·F_ccc, F_ccc from the content
  used as its own style;
* style interpolation: F_csc = Σ_k w_k·F_csc,k with convex weights;
* spatial control: F_csc = Σ_k M_k ⊙ F_csc,k with masks at feature resolution;
* per-level weights (portrait paper): W1·sanet4_1(...) + W2·up(sanet5_1(...))
  before the merge conv.
"""

from __future__ import annotations

import dataclasses
import io
import os
from typing import Optional, Sequence

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfstyle import color
from tfstyle.errors import ConfigError, ImageError, WeightsError
from tfstyle.files import write_atomic
from tfstyle.layers import NearestUpsampling2D, ReflectionPadding2D, SANetAttention, upsample_nearest
from tfstyle.models.vgg import build_vgg19
from tfstyle.ops import area_resize

CHANNELS = 512
STYLE_TAPS = ("relu4_1", "relu5_1")
TRAINING_TAPS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

#: File names inside a Stylizer weights folder (``tfstyle stylize --weights DIR``).
ENCODER_FILE = "vgg_normalised.weights.h5"
TRANSFORM_FILE = "sanet_transform.weights.h5"
DECODER_FILE = "sanet_decoder.weights.h5"
COLOR_MODES = ("luminance", "histogram")


def default_weights_dir() -> str:
    """Where converted SANet weights live by default: ``$KERAS_HOME/models/tfstyle-sanet``."""
    from tfstyle.weights import cache_dir
    return os.path.join(cache_dir(), "models", "tfstyle-sanet")

def resolve_weights_dir(spec: Optional[str]) -> Optional[str]:
    """The weights folder for a ``--weights`` value: `default_weights_dir()` for none,
    ``None`` (random weights, warned as tests-only) for ``random``, else the value."""
    from tfstyle.weights import RANDOM
    if spec == RANDOM:
        logging.warning("--weights random: the SANet is untrained, so its output is not a "
                        "stylization (use this for tests only)")
        return None
    return spec or default_weights_dir()

# (torch Sequential index of the conv, filters) for the decoder; pads are the
# index before each conv, upsamplings at 3, 16 and 23 (shared/specs/sanet.md).
DECODER_CONVS = ((1, 256), (5, 256), (8, 256), (11, 256), (14, 128), (18, 128), (21, 64),
                 (25, 64), (28, 3))
_DECODER_UPSAMPLE_AFTER = {1, 14, 21}


def upsample_to(features, reference):
    """×2 nearest upsampling of `features`, cropped to `reference`'s H×W.

    relu5_1 is relu4_1 pooled with ceil mode, so its ×2 upsampling is one row
    (column) larger than relu4_1 when relu4_1's height (width) is odd, which
    makes the reference fail for inputs where ceil(H/8) is odd. The extra
    bottom row / right column is the copy of a pooled cell that covered only
    the last row (column) of relu4_1, so cropping it keeps every position
    aligned with the cell it was pooled from.
    """
    up = upsample_nearest(features)
    shape = tf.shape(reference)
    return up[:, :shape[1], :shape[2], :]


@keras.saving.register_keras_serializable(package="tfstyle")
class SANetTransform(keras.Model):
    """Two SANet blocks (relu4_1, relu5_1) merged by a reflect-padded 3×3 conv.

    ``transform(c4, s4, c5, s5, level_weights=(W1, W2))`` → [B, H4, W4, 512].
    Layer names follow the published state dict (``sanet4_1.f``, ``merge_conv``).
    """

    def __init__(self, channels: int = CHANNELS, chunk_size=None, memory_budget_mb: float = 256.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.channels, self.chunk_size, self.memory_budget_mb = channels, chunk_size, memory_budget_mb
        block = dict(channels=channels, chunk_size=chunk_size, memory_budget_mb=memory_budget_mb,
                     dtype=self.dtype_policy)
        self.sanet4_1 = SANetAttention(name="sanet4_1", **block)
        self.sanet5_1 = SANetAttention(name="sanet5_1", **block)
        self.merge_pad = ReflectionPadding2D(1, dtype=self.dtype_policy)
        self.merge_conv = keras.layers.Conv2D(channels, 3, name="merge_conv", dtype=self.dtype_policy)
        self.build()

    def build(self, input_shape=None):
        dummy = tf.zeros([1, 4, 4, self.channels])
        self.levels(dummy, dummy, dummy[:, :2, :2], dummy[:, :2, :2])
        self.merge_conv.build((None, None, None, self.channels))
        self.built = True

    def levels(self, c4, s4, c5, s5):
        """The two attended levels at relu4_1 resolution: (sanet4_1 out, upsampled sanet5_1 out)."""
        o4 = self.sanet4_1(c4, s4)
        return o4, upsample_to(self.sanet5_1(c5, s5), o4)

    def merge(self, o4, up5, level_weights=(1.0, 1.0)):
        w1, w2 = level_weights
        return self.merge_conv(self.merge_pad(w1 * o4 + w2 * up5))

    def call(self, c4, s4, c5, s5, level_weights=(1.0, 1.0)):
        return self.merge(*self.levels(c4, s4, c5, s5), level_weights)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "chunk_size": self.chunk_size,
                "memory_budget_mb": self.memory_budget_mb}


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
        x = keras.layers.Conv2D(filters, 3, name=f"conv{index}", dtype=dtype,
                                activation=None if last else "relu")(x)
        if index in _DECODER_UPSAMPLE_AFTER:
            x = NearestUpsampling2D(2, name=f"up{index + 2}", dtype=dtype)(x)
    return keras.Model(inputs, x, name=name)


@dataclasses.dataclass
class StyleFeatures:
    """Encoded style images: relu4_1 and relu5_1 features, reusable across contents."""

    relu4_1: tf.Tensor
    relu5_1: tf.Tensor

    def save(self, path: str) -> None:
        """Write to an ``.npz`` file atomically."""
        buffer = io.BytesIO()
        np.savez(buffer, relu4_1=np.asarray(self.relu4_1, np.float32),
                 relu5_1=np.asarray(self.relu5_1, np.float32), format=np.array("tfstyle-sanet-1"))
        write_atomic(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str) -> "StyleFeatures":
        try:
            with np.load(path) as data:
                if str(data.get("format", "")) != "tfstyle-sanet-1":
                    raise ValueError("not a tfstyle style-features file")
                return cls(tf.constant(data["relu4_1"]), tf.constant(data["relu5_1"]))
        except FileNotFoundError:
            raise ImageError(f"{path}: no such style-features file; write one with "
                             f"--save-style-features") from None
        except (ValueError, KeyError, OSError) as e:
            raise ImageError(f"{path}: cannot read style features ({e}); re-create it with "
                             f"--save-style-features") from None


@keras.saving.register_keras_serializable(package="tfstyle")
class Stylizer(keras.Model):
    """SANet encoder (normalised VGG19, frozen) + transform + decoder.

    Build with `Stylizer.from_weights(DIR)` for published/converted weights,
    or ``Stylizer()`` for random weights (tests, training from scratch).
    Calling the model, ``stylizer([content, style])``, returns the raw decoder
    output [B, H', W', 3] (H' = 8·ceil(H/8)); `stylize` is the inference API
    with runtime controls, returning images clipped to [0, 1] at input size.

    Args:
      chunk_size, memory_budget_mb: see `SANetAttention`.
      max_style_positions: cap on relu4_1 style positions (off by default):
        larger style features are resized to fit, trading exactness for
        memory; logged when it happens.
      training_taps: also expose relu1_1..relu3_1 (for the training losses).
    """

    def __init__(self, chunk_size=None, memory_budget_mb: float = 256.0,
                 max_style_positions: Optional[int] = None, training_taps: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.chunk_size, self.memory_budget_mb = chunk_size, memory_budget_mb
        self.max_style_positions, self.training_taps = max_style_positions, training_taps
        policy = self.dtype_policy
        self.encoder = build_vgg19(TRAINING_TAPS if training_taps else STYLE_TAPS, weights=None,
                                   flavour="normalised", dtype=policy, name="vgg_normalised")
        self.transform = SANetTransform(CHANNELS, chunk_size, memory_budget_mb, dtype=policy,
                                        name="transform")
        self.decoder = build_decoder(dtype=policy)
        self.built = True  # every sub-model creates its weights on construction
        self._graphs = {}

    def _graph(self, name, fn, channels, extra=()):
        """`fn` as a tf.function over [N, H, W, channels] inputs of any size.

        Inference runs as graphs rather than eager Keras calls: the graph
        executor frees each activation after its last use, where an eager
        functional call holds all of them to the end (4.6 → ~1.5 GiB at 1024²).
        Inside a function being traced (an export), `fn` is inlined instead, so
        static shapes stay static.
        """
        if tf.inside_function():
            return fn
        if name not in self._graphs:
            spec = lambda c, dtype: tf.TensorSpec([None, None, None, c], dtype)  # noqa: E731
            signature = [spec(c, tf.float32 if c == 3 else self.compute_dtype) for c in channels]
            signature += list(extra)
            self._graphs[name] = tf.function(fn, input_signature=signature, reduce_retracing=True)
        return self._graphs[name]

    # -- weights ----------------------------------------------------------
    @classmethod
    def from_weights(cls, directory: Optional[str], **kwargs) -> "Stylizer":
        """A Stylizer with the three weight files of `directory` (or random for ``None``)."""
        model = cls(**kwargs)
        if directory is not None:
            model.load_weights_dir(directory)
        return model

    def load_weights_dir(self, directory: str) -> None:
        files = {ENCODER_FILE: self._full_encoder(), TRANSFORM_FILE: self.transform,
                 DECODER_FILE: self.decoder}
        missing = [name for name in files if not os.path.isfile(os.path.join(directory, name))]
        if missing:
            raise WeightsError(f"{directory}: missing {', '.join(missing)}; convert the published "
                               f"SANet files with 'tfstyle weights import-sanet' or pass --weights DIR")
        for name, model in files.items():
            path = os.path.join(directory, name)
            try:
                model.load_weights(path)
            except Exception as e:
                raise WeightsError(f"{path}: cannot load ({' '.join(str(e).split())[:160]}); "
                                   f"re-create it with 'tfstyle weights import-sanet'") from None
        if files[ENCODER_FILE] is not self.encoder:
            self._copy_encoder_from(files[ENCODER_FILE])

    def save_weights_dir(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        encoder = self._full_encoder()
        if encoder is not self.encoder:
            for layer in self.encoder.layers:
                if layer.weights:
                    encoder.get_layer(layer.name).set_weights(layer.get_weights())
        encoder.save_weights(os.path.join(directory, ENCODER_FILE))
        self.transform.save_weights(os.path.join(directory, TRANSFORM_FILE))
        self.decoder.save_weights(os.path.join(directory, DECODER_FILE))

    def _full_encoder(self) -> keras.Model:
        """The encoder with every relu tap: the layout of ``vgg_normalised.weights.h5``."""
        if self.training_taps:
            return self.encoder
        return build_vgg19(TRAINING_TAPS, weights=None, flavour="normalised", dtype=self.dtype_policy)

    def _copy_encoder_from(self, full: keras.Model) -> None:
        for layer in self.encoder.layers:
            if layer.weights:
                layer.set_weights(full.get_layer(layer.name).get_weights())

    # -- Keras model API ----------------------------------------------------
    def call(self, inputs):
        content, style = inputs
        c, s = self.encoder(content), self.encoder(style)
        return self.decoder(self.transform(c["relu4_1"], s["relu4_1"], c["relu5_1"], s["relu5_1"]))

    def get_config(self):
        return {**super().get_config(), "chunk_size": self.chunk_size,
                "memory_budget_mb": self.memory_budget_mb,
                "max_style_positions": self.max_style_positions, "training_taps": self.training_taps}

    # -- inference API ------------------------------------------------------
    def encode(self, images) -> StyleFeatures:
        """Encode [N, H, W, 3] images in [0, 1] (at least 32 px a side) to relu4_1/relu5_1."""
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank == 3:
            images = images[None]
        encode = self._graph("encode", lambda x: self.encoder(x), [3])
        features = encode(images)
        return StyleFeatures(features["relu4_1"], features["relu5_1"])

    def encode_style(self, images) -> StyleFeatures:
        """Style features to cache: compute once, reuse for many contents (`StyleFeatures.save`)."""
        return self._cap_style(self.encode(images))

    def _cap_style(self, features: StyleFeatures) -> StyleFeatures:
        cap = self.max_style_positions
        h, w = features.relu4_1.shape[1:3]
        if not cap or h * w <= cap:
            return features
        scale = (cap / (h * w)) ** 0.5
        size4 = (max(2, int(h * scale)), max(2, int(w * scale)))
        size5 = ((size4[0] + 1) // 2, (size4[1] + 1) // 2)
        logging.info("style features %dx%d exceed max_style_positions=%d: resized to %dx%d "
                     "(attention is no longer exact)", w, h, cap, size4[1], size4[0])
        resize = lambda x, size: tf.cast(tf.image.resize(tf.cast(x, tf.float32), size, "area"),  # noqa
                                         x.dtype)
        return StyleFeatures(resize(features.relu4_1, size4), resize(features.relu5_1, size5))

    def transformed(self, content: StyleFeatures, style: StyleFeatures,
                    level_weights=(1.0, 1.0)) -> tf.Tensor:
        """F_cs: the merged SANet features for content and style features."""
        transform = self._graph(
            "transform", lambda c4, s4, c5, s5, w: self.transform(c4, s4, c5, s5, (w[0], w[1])),
            [CHANNELS] * 4, extra=[tf.TensorSpec([2], self.compute_dtype)])
        cast = lambda x: tf.cast(x, self.compute_dtype)  # noqa: E731
        return transform(cast(content.relu4_1), cast(style.relu4_1), cast(content.relu5_1),
                         cast(style.relu5_1), tf.constant(level_weights, self.compute_dtype))

    def attended_levels(self, content: StyleFeatures, style: StyleFeatures):
        """The two attended levels (relu4_1 output, upsampled relu5_1 output): the
        expensive part of the transform, independent of the level weights."""
        levels = self._graph("levels", lambda c4, s4, c5, s5: self.transform.levels(c4, s4, c5, s5),
                             [CHANNELS] * 4)
        cast = lambda x: tf.cast(x, self.compute_dtype)  # noqa: E731
        return levels(cast(content.relu4_1), cast(style.relu4_1), cast(content.relu5_1),
                      cast(style.relu5_1))

    def merge(self, o4, up5) -> tf.Tensor:
        """The merge conv over an already weighted sum of levels (W1·o4 + W2·up5 given as o4, up5)."""
        merge = self._graph("merge", lambda a, b: self.transform.merge(a, b), [CHANNELS] * 2)
        return merge(tf.cast(o4, self.compute_dtype), tf.cast(up5, self.compute_dtype))

    def decode(self, features) -> tf.Tensor:
        """Decoder output (linear, not clipped) for transformed features."""
        decode = self._graph("decode", lambda x: self.decoder(x), [CHANNELS])
        return decode(tf.cast(features, self.compute_dtype))

    def stylize(self, content, style=None, *, style_features=None, alpha: float = 1.0,
                style_weights: Optional[Sequence[float]] = None, masks=None,
                level_weights=(1.0, 1.0), preserve_color: Optional[str] = None) -> np.ndarray:
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
          [N, H, W, 3] float32 in [0, 1] at the content's size.
        """
        content = np.asarray(content, np.float32)
        single = content.ndim == 3
        content = content[None] if single else content
        styles, features = self._style_inputs(style, style_features, preserve_color, content)
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"alpha must be in [0, 1], got {alpha}")
        weights = self._convex(style_weights, len(features))
        if masks is not None and len(masks) != len(features):
            raise ConfigError(f"{len(masks)} masks for {len(features)} styles; give one per style")
        model_content = color.luminance(content) if preserve_color == "luminance" else content
        c = self.encode(model_content)
        fused = self.controlled_features(c, features, alpha=alpha, style_weights=weights,
                                         masks=masks, level_weights=level_weights)
        decoded = tf.cast(self.decode(fused), tf.float32)
        h, w = content.shape[1:3]
        out = np.clip(decoded[:, :h, :w].numpy(), 0.0, 1.0)
        if preserve_color == "luminance":
            out = np.stack([color.restore_content_color(o, c_) for o, c_ in zip(out, content)])
        return out[0] if single else out

    def controlled_features(self, content: StyleFeatures, styles: Sequence[StyleFeatures], *,
                            alpha: float = 1.0, style_weights: Optional[Sequence[float]] = None,
                            masks=None, level_weights=(1.0, 1.0)) -> tf.Tensor:
        """The decoder's input with the runtime controls applied (float32 [N, h, w, 512]).

        Σ_k M_k·F(c, s_k) with masks, else Σ_k w_k·F(c, s_k); then
        α·F + (1−α)·F(c, c) (Park & Lee 2019, §4.4).
        """
        weights = self._convex(style_weights, len(styles))
        per_style = [self.transformed(content, f, level_weights) for f in styles]
        if masks is not None:
            size, batch = per_style[0].shape[1:3], content.relu4_1.shape[0]
            fused = tf.add_n([_mask_at(m, size, batch) * tf.cast(f, tf.float32)
                              for m, f in zip(masks, per_style)])
        else:
            fused = tf.add_n([w * tf.cast(f, tf.float32) for w, f in zip(weights, per_style)])
        if alpha < 1.0:
            content_content = tf.cast(self.transformed(content, content, level_weights), tf.float32)
            fused = alpha * fused + (1.0 - alpha) * content_content
        return fused

    def _style_inputs(self, style, style_features, preserve_color, content):
        if (style is None) == (style_features is None):
            raise ConfigError("pass exactly one of style images or cached style features")
        if preserve_color not in (None, *COLOR_MODES):
            raise ConfigError(f"unknown preserve_color {preserve_color!r}; use luminance or histogram")
        if style_features is not None:
            if preserve_color:
                raise ConfigError("colour preservation needs the style images, not cached features")
            feats = style_features if isinstance(style_features, (list, tuple)) else [style_features]
            return None, [self._cap_style(f) for f in feats]
        styles = style if isinstance(style, (list, tuple)) else [style]
        styles = [np.asarray(s, np.float32) for s in styles]
        if preserve_color == "luminance":
            styles = [color.match_luminance(s, content[0]) for s in styles]
        elif preserve_color == "histogram":
            styles = [color.match_histograms(s, content[0]) for s in styles]
        return styles, [self.encode_style(s) for s in styles]

    @staticmethod
    def _convex(style_weights, count):
        if style_weights is None:
            return [1.0 / count] * count
        if len(style_weights) != count:
            raise ConfigError(f"{len(style_weights)} style weights for {count} styles; give one each")
        if min(style_weights) < 0 or sum(style_weights) <= 0:
            raise ConfigError(f"style weights must be >= 0 with a positive sum, got {style_weights}")
        total = float(sum(style_weights))
        return [w / total for w in style_weights]


def _mask_at(mask, size, batch):
    """A mask [H, W] or [N, H, W] in [0, 1] → [N, h, w, 1] at feature size (area average)."""
    mask = tf.convert_to_tensor(mask, tf.float32)
    if mask.shape.rank == 2:
        mask = mask[None]
    return tf.broadcast_to(area_resize(mask[..., None], size), [batch, *size, 1])
