"""The on-device models, split as apps use them, at fixed sizes (TFLite wants static shapes).

SANet (`MobileModels`):

* ``style_encoder``: ``style`` [1, T, T, 3] → ``style_relu4_1`` [1, T/8, T/8, 512] and
  ``style_relu5_1`` [1, T/16, T/16, 512]. Run once per style; keep the two outputs.
* ``transfer``: ``content`` [1, S, S, 3] + the two style tensors → ``image`` [1, S, S, 3].
* ``portrait``: ``transfer``'s inputs + ``mask`` [1, S, S, 1] (person probability) and
  ``face_mask`` [1, S, S, 1] (the face region in [0, 1]; zeros: none) → ``image``, with
  the person/background/face settings baked in.

Images are float32 RGB in [0, 1]; S and T are multiples of 16. The portrait
model takes the mask as an input instead of running a segmenter inside:
the segmenter phones use (MediaPipe selfie segmentation) needs the custom op
``Convolution2DTransposeBias``, which the builtin-only rule refuses; a SegNet
inside would add 29 M parameters for a mask the app's camera pipeline
(MediaPipe, ML Kit) usually has already; and with a mask input any segmenter
works. Attention runs one-shot (``chunk_size=0``): one BATCH_MATMUL, SOFTMAX,
BATCH_MATMUL per level, no while loop.

Magenta (`MagentaMobileModels`), the TensorFlow Lite example's split:

* ``style_encoder``: ``style`` [1, T, T, 3] → ``style_vector`` [1, 100]. Run it on the
  style, and on the content too for strength below 1.
* ``transfer``: ``content`` [1, S, S, 3] + ``style_vector`` [1, 100] → ``image``. Strength
  is the app's blend of vectors, s·style + (1 − s)·content's (Ghiasi et al. 2017).
* ``portrait``: ``content``, ``style_vector``, ``content_vector`` [1, 100], ``mask`` and
  ``face_mask`` → ``image``: the person, background and face strengths baked in, one
  transformer pass per region (``--blend auto`` is pixel for Magenta).

The face mask is what an app's face landmarker (ML Kit, MediaPipe) gives: fill
the face oval's polygon (MediaPipe Face Mesh indices in `tfstyle.portraits.faces.FACE_OVAL`)
with 1; the model feathers it. All zeros gives the two-region portrait.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from export.common import check_mobile_size
from tfstyle import controls
from tfstyle.image import resize
from tfstyle.kernels import for_tflite
from tfstyle.models.magenta import STYLE_DIM, MagentaStylizer
from tfstyle.models.sanet import CHANNELS, SANetStylizer
from tfstyle.portraits.compose import feather
from tfstyle.portraits.settings import PortraitSettings
from tfstyle.style_features import StyleFeatures, StyleVector


def _image(name, size, channels=3):
    return tf.TensorSpec([1, size, size, channels], tf.float32, name=name)


def _style_specs(style_size):
    return [
        tf.TensorSpec([1, style_size // 8, style_size // 8, CHANNELS], tf.float32, name="style_relu4_1"),
        tf.TensorSpec([1, style_size // 16, style_size // 16, CHANNELS], tf.float32, name="style_relu5_1"),
    ]


class _MobileModels(tf.Module):
    """The three models as tf.functions at fixed sizes; subclasses say what a style is."""

    def __init__(
        self, name, stylizer, size: int, style_size: int, settings: PortraitSettings, style, portrait
    ):
        super().__init__(name=name)
        check_mobile_size("size", size)
        check_mobile_size("style_size", style_size)
        settings.validate()
        self.stylizer, self.size, self.style_size, self.settings = stylizer, size, style_size, settings
        content, mask = _image("content", size), _image("mask", size, channels=1)
        face_mask = _image("face_mask", size, channels=1)
        # TFLite runs its own kernels: the one-op forms, no CPU rewrites (tfstyle.kernels)
        self.style_encoder = tf.function(
            for_tflite(self._style_encoder), input_signature=[_image("style", style_size)]
        )
        self.transfer = tf.function(for_tflite(self._transfer), input_signature=[content, *style])
        self.portrait = tf.function(
            for_tflite(self._portrait), input_signature=[content, *portrait, mask, face_mask]
        )

    def function(self, name: str):
        return getattr(self, name).get_concrete_function()


class MobileModels(_MobileModels):
    """SANet's three models over one `SANetStylizer` (built with ``chunk_size=0``)."""

    def __init__(
        self,
        stylizer: SANetStylizer,
        size: int,
        style_size: int,
        settings: PortraitSettings = PortraitSettings(),
    ):
        style = _style_specs(style_size)
        super().__init__("tfstyle_mobile", stylizer, size, style_size, settings, style, style)

    def _style_encoder(self, style):
        features = self.stylizer.encode(style)
        return {
            "style_relu4_1": tf.cast(features.relu4_1, tf.float32),
            "style_relu5_1": tf.cast(features.relu5_1, tf.float32),
        }

    def _transfer(self, content, style_relu4_1, style_relu5_1):
        fused = self.stylizer.controlled_features(
            self.stylizer.encode(content), [StyleFeatures(style_relu4_1, style_relu5_1)]
        )
        return {"image": self.stylizer.render(fused, self.size, self.size)}

    def _portrait(self, content, style_relu4_1, style_relu5_1, mask, face_mask):
        image = self.stylizer.portrait_image(
            content,
            StyleFeatures(style_relu4_1, style_relu5_1),
            feather(mask, self.settings.feather),
            self.settings,
            feather(face_mask, self.settings.feather),
        )
        return {"image": image}


def _vector(name):
    return tf.TensorSpec([1, STYLE_DIM], tf.float32, name=name)


class MagentaMobileModels(_MobileModels):
    """Magenta's three models over one `MagentaStylizer` (see the module docstring)."""

    def __init__(
        self,
        stylizer: MagentaStylizer,
        size: int,
        style_size: int,
        settings: PortraitSettings = PortraitSettings(),
    ):
        style, content = _vector("style_vector"), _vector("content_vector")
        super().__init__(
            "tfstyle_magenta_mobile", stylizer, size, style_size, settings, [style], [style, content]
        )

    def _style_encoder(self, style):
        return {"style_vector": self.stylizer.predict_vectors(style, size=None)}

    def _transfer(self, content, style_vector):
        vectors, mix = controls.style_mixture([style_vector])
        return {"image": self.stylizer.transform(content, vectors, mix)}

    def _portrait(self, content, style_vector, content_vector, mask, face_mask):
        image = self.stylizer.portrait_image(
            content,
            StyleVector(style_vector),
            feather(mask, self.settings.feather),
            self.settings,
            feather(face_mask, self.settings.feather),
            own_vector=content_vector,
        )
        return {"image": image}


def person_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """A soft head-and-shoulders blob [size, size] in [0, 1] at a random place: the
    calibration stand-in for a segmenter's output."""
    y, x = np.mgrid[0:size, 0:size] / size
    cx, cy = rng.uniform(0.35, 0.65), rng.uniform(0.3, 0.5)
    head = ((x - cx) / 0.15) ** 2 + ((y - cy) / 0.2) ** 2
    body = ((x - cx) / 0.35) ** 2 + ((y - 1.0) / 0.45) ** 2
    return np.clip(1.5 - np.minimum(head, body), 0.0, 1.0).astype(np.float32)


def face_blob(size: int, rng: np.random.Generator) -> np.ndarray:
    """A face-oval ellipse [size, size] in {0, 1} at a random place: the calibration stand-in
    for an app's face mask."""
    y, x = np.mgrid[0:size, 0:size] / size
    cx, cy = rng.uniform(0.4, 0.6), rng.uniform(0.3, 0.45)
    return ((((x - cx) / 0.1) ** 2 + ((y - cy) / 0.13) ** 2) <= 1.0).astype(np.float32)


def representative_inputs(models: MobileModels, images: list, name: str, seed: int = 0):
    """Calibration inputs for `name`, as {input name: array}, from images [H, W, 3].

    Each image is a content once, and the next image (cyclically) its style;
    style features come from the float32 encoder.
    """
    rng = np.random.default_rng(seed)
    square = lambda image, side: resize(image, (side, side))[None]  # noqa: E731
    for i, image in enumerate(images):
        style = square(images[(i + 1) % len(images)], models.style_size)
        if name == "style_encoder":
            yield {"style": style}
            continue
        inputs = {
            "content": square(image, models.size),
            **{k: v.numpy() for k, v in models.style_encoder(tf.constant(style)).items()},
        }
        if name == "portrait" and "content_vector" in [spec.name for spec in models.portrait.input_signature]:
            own = square(image, models.style_size)
            inputs["content_vector"] = models.style_encoder(tf.constant(own))["style_vector"].numpy()
        if name == "portrait":
            inputs["mask"] = person_mask(models.size, rng)[None, :, :, None]
            inputs["face_mask"] = face_blob(models.size, rng)[None, :, :, None]
        yield inputs
