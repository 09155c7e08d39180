"""Portrait-aware stylization (Berezin & Volkova 2019): strong style on the background,
content-preserving style on the person, composited by a soft person mask.

    portrait = PortraitStylizer(Stylizer.from_weights(DIR), make_segmenter("tflite"))
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
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf

from tfstyle.errors import ConfigError
from tfstyle.models.sanet import StyleFeatures, Stylizer
from tfstyle.segment import Segmenter

BLENDS = ("feature", "pixel")


@dataclasses.dataclass(frozen=True)
class PortraitSettings:
    """Runtime controls for the two regions, blending and feathering.

    Defaults: the background fully stylized; the person at α 0.6 with the
    coarse relu5_1 level turned down (W2 0.3), which keeps faces recognisable.
    `feather` is the Gaussian σ of the mask's softening, as a fraction of the
    image's shorter side.
    """

    person_alpha: float = 0.6
    person_levels: tuple = (1.0, 0.3)
    background_alpha: float = 1.0
    background_levels: tuple = (1.0, 1.0)
    blend: str = "feature"
    feather: float = 0.01

    def validate(self) -> None:
        if self.blend not in BLENDS:
            raise ConfigError(f"unknown blend {self.blend!r}; use feature or pixel")
        for name in ("person_alpha", "background_alpha"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        for name in ("person_levels", "background_levels"):
            if len(getattr(self, name)) != 2:
                raise ConfigError(f"{name} takes two weights W1,W2, got {getattr(self, name)}")
        if self.feather < 0:
            raise ConfigError(f"feather must be >= 0, got {self.feather}")


@dataclasses.dataclass
class PortraitResult:
    image: np.ndarray  # [H, W, 3] float32 in [0, 1]
    mask: np.ndarray  # [H, W] the (feathered) person mask used


def feather_mask(mask: np.ndarray, amount: float) -> np.ndarray:
    """Gaussian-soften a [H, W] mask; σ = amount × the shorter side (0: unchanged)."""
    if amount <= 0:
        return np.asarray(mask, np.float32)
    from scipy.ndimage import gaussian_filter
    sigma = amount * min(mask.shape)
    return np.clip(gaussian_filter(np.asarray(mask, np.float32), sigma, mode="nearest"), 0.0, 1.0)


class PortraitStylizer:
    def __init__(self, stylizer: Stylizer, segmenter: Optional[Segmenter] = None):
        self.stylizer, self.segmenter = stylizer, segmenter

    def stylize(self, content: np.ndarray, style: Optional[np.ndarray] = None, *,
                style_features: Optional[StyleFeatures] = None,
                settings: PortraitSettings = PortraitSettings(),
                mask: Optional[np.ndarray] = None) -> PortraitResult:
        """Stylize one portrait [H, W, 3]; `mask` ([H, W] in [0, 1]) skips segmentation."""
        settings.validate()
        content = np.asarray(content, np.float32)
        if (style is None) == (style_features is None):
            raise ConfigError("pass exactly one of a style image or cached style features")
        if mask is None:
            if self.segmenter is None:
                raise ConfigError("no segmenter and no mask: pass one of them")
            mask = self.segmenter.segment(content)
        mask = feather_mask(mask, settings.feather)
        s = style_features if style_features is not None else self.stylizer.encode_style(style)
        c = self.stylizer.encode(content)
        features = self.region_features(c, s, settings)
        h, w = content.shape[:2]
        if settings.blend == "feature":
            m = tf.image.resize(mask[None, :, :, None], features["person"].shape[1:3], "area")
            blended = m * features["person"] + (1.0 - m) * features["background"]
            image = self._decode(blended, h, w)
        else:
            person, background = (self._decode(features[k], h, w) for k in ("person", "background"))
            image = mask[..., None] * person + (1.0 - mask[..., None]) * background
        return PortraitResult(image=np.clip(image, 0.0, 1.0).astype(np.float32), mask=mask)

    def region_features(self, c: StyleFeatures, s: StyleFeatures, settings: PortraitSettings) -> dict:
        """Decoder inputs for the person and background settings, sharing the attention.

        The level weights act only at the merge conv and the merge is affine, so
        α·merge(W1·o4 + W2·up5) + (1−α)·merge(W1·o4' + W2·up5') (primes: the
        content-content levels) equals one merge of the α-mixed, weighted levels:
        both regions reuse one attention pass for (c, s) and one for (c, c).
        """
        cs = self.stylizer.attended_levels(c, s)
        alphas = (settings.person_alpha, settings.background_alpha)
        cc = self.stylizer.attended_levels(c, c) if min(alphas) < 1.0 else None
        features = {}
        for region, alpha, (w1, w2) in (
                ("person", settings.person_alpha, settings.person_levels),
                ("background", settings.background_alpha, settings.background_levels)):
            o4, up5 = (tf.cast(x, tf.float32) for x in cs)
            if alpha < 1.0:
                o4 = alpha * o4 + (1.0 - alpha) * tf.cast(cc[0], tf.float32)
                up5 = alpha * up5 + (1.0 - alpha) * tf.cast(cc[1], tf.float32)
            features[region] = tf.cast(self.stylizer.merge(w1 * o4, w2 * up5), tf.float32)
        return features

    def _decode(self, features, h, w) -> np.ndarray:
        decoded = tf.cast(self.stylizer.decode(features), tf.float32)
        return np.clip(decoded[0, :h, :w].numpy(), 0.0, 1.0)
