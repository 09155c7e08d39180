"""Portrait-aware stylization (Berezin & Volkova 2019): strong style on the background,
content-preserving style on the person, composited by a soft person mask.

    portrait = PortraitStylizer(load_stylizer(DIR), make_segmenter("tflite"))
    result = portrait.stylize(content, style)            # result.image, result.mask

Content and style are encoded once; the two settings differ only in the SANet
runtime controls (α and the per-level weights W1/W2). Two ways to composite:

* ``feature``: blend the two transformed feature maps by the mask (at relu4_1
  resolution) and decode once — one decoder pass, seams softened by the decoder;
* ``pixel``: decode both and blend the images by the mask (the seed's method) —
  two decoder passes, each region exactly its own setting.

The same mask, saved with ``tfstyle segment``, also serves ``tfstyle optimize
--content-weight-map`` to keep more content on the person in optimisation
transfer.

With Magenta's network (`MagentaStylizer`) the regions differ in strength
only: ``feature`` gives every pixel its own mix of the style vector and the
content's own vector, m·α_person + (1 − m)·α_background, so one transformer
pass makes both regions (`magenta_portrait_image`); ``pixel`` runs two.

Everything after segmentation (`feather`, `portrait_image`) is plain TensorFlow
on tensors, so the SavedModel and TFLite exports run this very code.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf

from tfstyle import controls
from tfstyle.errors import ConfigError
from tfstyle.models.magenta import MagentaStylizer
from tfstyle.models.sanet import Stylizer
from tfstyle.segment import Segmenter
from tfstyle.settings import BLENDS, PortraitSettings
from tfstyle.style_features import StyleFeatures, StyleVector

__all__ = [
    "BLENDS",
    "PortraitResult",
    "PortraitSettings",
    "PortraitStylizer",
    "feather",
    "feather_mask",
    "magenta_portrait_image",
    "portrait_image",
    "region_features",
]


@dataclasses.dataclass
class PortraitResult:
    image: np.ndarray  # [H, W, 3] float32 in [0, 1]
    mask: np.ndarray  # [H, W] the (feathered) person mask used


def feather(mask, amount: float) -> tf.Tensor:
    """Gaussian-soften masks [N, H, W, 1]; σ = amount × the shorter side (0: unchanged).

    Separable, truncated at 4σ and reflect-padded: ``scipy.ndimage.gaussian_filter(mask,
    σ, mode="mirror")``. In TF ops only (MIRROR_PAD and CONV_2D once exported).
    """
    mask = tf.convert_to_tensor(mask, tf.float32)
    if amount <= 0:
        return mask
    shape = tf.shape(mask)
    sigma = amount * tf.cast(tf.minimum(shape[1], shape[2]), tf.float32)
    radius = tf.cast(tf.floor(4.0 * sigma + 0.5), tf.int32)
    taps = tf.cast(tf.range(-radius, radius + 1), tf.float32)
    kernel = tf.exp(-0.5 * tf.square(taps / sigma))
    kernel /= tf.reduce_sum(kernel)
    padded = tf.pad(mask, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    rows = tf.nn.conv2d(padded, tf.reshape(kernel, [-1, 1, 1, 1]), 1, "VALID")
    soft = tf.nn.conv2d(rows, tf.reshape(kernel, [1, -1, 1, 1]), 1, "VALID")
    return tf.clip_by_value(soft, 0.0, 1.0)


def feather_mask(mask: np.ndarray, amount: float) -> np.ndarray:
    """`feather` for one [H, W] mask as NumPy."""
    return feather(np.asarray(mask, np.float32)[None, :, :, None], amount).numpy()[0, :, :, 0]


def portrait_image(
    stylizer: Stylizer, c: StyleFeatures, s: StyleFeatures, mask, settings: PortraitSettings
) -> tf.Tensor:
    """Composited portraits [N, H, W, 3] in [0, 1] for a feathered person mask [N, H, W, 1]."""
    features = region_features(stylizer, c, s, settings)
    height, width = tf.shape(mask)[1], tf.shape(mask)[2]
    if settings.blend == "feature":
        person = features["person"]
        m = controls.mask_at(
            mask,
            tf.shape(person)[1:3] if None in person.shape[1:3] else tuple(person.shape[1:3]),
            tf.shape(person)[0],
        )
        return stylizer.render(m * person + (1.0 - m) * features["background"], height, width)
    return mask * stylizer.render(features["person"], height, width) + (1.0 - mask) * stylizer.render(
        features["background"], height, width
    )


def magenta_portrait_image(
    stylizer: MagentaStylizer, content, style_vector, own_vector, mask, settings: PortraitSettings
) -> tf.Tensor:
    """Composited portraits [N, H, W, 3] from Magenta: strength per region, blended by the mask.

    `style_vector` and `own_vector` (the content's) are [N, 100]; `mask` [N, H, W, 1] feathered.
    """
    if settings.blend == "feature":
        strength = mask * settings.person_alpha + (1.0 - mask) * settings.background_alpha
        vectors, mix = controls.style_mixture([style_vector], strength=strength, own=own_vector)
        return stylizer.transform(content, vectors, mix)
    images = []
    for alpha in (settings.person_alpha, settings.background_alpha):
        vectors, mix = controls.style_mixture([style_vector], strength=alpha, own=own_vector)
        images.append(stylizer.transform(content, vectors, mix))
    return mask * images[0] + (1.0 - mask) * images[1]


def region_features(
    stylizer: Stylizer, c: StyleFeatures, s: StyleFeatures, settings: PortraitSettings
) -> dict:
    """Decoder inputs for the person and background settings, sharing the attention.

    The level weights act only at the merge conv and the merge is affine, so
    α·merge(W1·o4 + W2·up5) + (1−α)·merge(W1·o4' + W2·up5') (primes: the
    content-content levels) equals one merge of the α-mixed, weighted levels:
    both regions reuse one attention pass for (c, s) and one for (c, c).
    """
    cs = stylizer.attended_levels(c, s)
    cc: list = []

    def content_content():  # computed once, and only when a region has α < 1
        if not cc:
            cc.append(stylizer.attended_levels(c, c))
        return cc[0]

    features = {}
    for region, alpha, levels in (
        ("person", settings.person_alpha, settings.person_levels),
        ("background", settings.background_alpha, settings.background_levels),
    ):
        o4, up5 = controls.mix_alpha(cs, content_content, alpha)
        features[region] = stylizer.merge(o4, up5, levels)
    return features


class PortraitStylizer:
    """Segment, feather, stylize both regions and composite, with SANet or Magenta."""

    def __init__(self, stylizer: Stylizer | MagentaStylizer, segmenter: Optional[Segmenter] = None):
        self.stylizer, self.segmenter = stylizer, segmenter

    def stylize(
        self,
        content: np.ndarray,
        style: Optional[np.ndarray] = None,
        *,
        style_features: Optional[StyleFeatures | StyleVector] = None,
        settings: PortraitSettings = PortraitSettings(),
        mask: Optional[np.ndarray] = None,
    ) -> PortraitResult:
        """Stylize one portrait [H, W, 3]; `mask` ([H, W] in [0, 1]) skips segmentation."""
        settings.validate()
        content = np.asarray(content, np.float32)
        if (style is None) == (style_features is None):
            raise ConfigError("pass exactly one of a style image or cached style features")
        if mask is None:
            if self.segmenter is None:
                raise ConfigError("no segmenter and no mask: pass one of them")
            mask = self.segmenter.segment(content)
        mask = feather(np.asarray(mask, np.float32)[None, :, :, None], settings.feather)
        stylizer = self.stylizer
        model = "magenta" if isinstance(stylizer, MagentaStylizer) else "sanet"
        if style_features is not None:
            style_features.check_made_by(model, stylizer.weights_id)
        s = style_features if style_features is not None else stylizer.encode_style(style)
        if isinstance(stylizer, MagentaStylizer):
            if settings.person_levels != PortraitSettings.person_levels or (
                settings.background_levels != PortraitSettings.background_levels
            ):
                raise ConfigError("level weights are SANet's; Magenta's regions differ by strength only")
            assert isinstance(s, StyleVector)
            own = stylizer.predict_vectors(content)
            image = magenta_portrait_image(stylizer, content[None], s.vector, own, mask, settings)
        else:
            assert isinstance(s, StyleFeatures) and isinstance(stylizer, Stylizer)
            image = portrait_image(stylizer, stylizer.encode(content), s, mask, settings)
        return PortraitResult(image=np.asarray(image)[0], mask=np.asarray(mask)[0, :, :, 0])
