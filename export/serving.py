"""The TF Serving module: any `tfstyle.models.base.StyleNetwork` (SANet, Magenta), and
optionally a SegNet, behind explicit signatures.

Every signature is batched along dimension 0 (REST ``instances`` become that
batch). TF Serving rejects a request that leaves out any input of a signature
("input size does not match signature", tensorflow/serving#719), so the
optional settings live in a second signature instead of optional inputs:

==================  =========================================================  ======================
signature           inputs                                                     outputs
==================  =========================================================  ======================
serving_default     content_bytes, style_bytes: string [N] (JPEG/PNG/WebP)     image_bytes: string [N]
stylize_bytes       the same + alpha: float32 [N], max_size: int32 [N]         image_bytes (PNG)
portrait            content_bytes, style_bytes                                 image_bytes, mask_bytes
portrait_faces      content_bytes, style_bytes, face_mask_bytes (PNG, white = face)  image_bytes, mask_bytes
stylize             content: uint8 [N,H,W,3], style: uint8 [N or 1,h,w,3],     image: uint8 [N,H,W,3]
                    alpha: float32 [N]
encode_style        style: uint8 [N,h,w,3]                                     the encoded style: SANet
                                                                               relu4_1, relu5_1; Magenta
                                                                               style_vector [N, 100]
stylize_with_style  content: uint8, the encoded style (from encode_style),     image: uint8
                    alpha: float32 [N]
==================  =========================================================  ======================

Names ending in ``_bytes`` make TF Serving's REST API base64-encode them
(``{"b64": ...}``). Each encoded image is decoded, fitted so its longer side is
at most ``max_size`` (never enlarged, as ``tfstyle stylize --max-size``), and
stylized on its own, so a batch may mix sizes. Bad requests fail with an
``InvalidArgument`` error that names the input and the fix.

What differs per network (the encoded style's tensors, the controls, the
portrait regions) is the network's own (`StyleNetwork.encoded_signature`,
`stylize_batch`, `portrait_image`); this module holds the signatures and checks.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import keras
import tensorflow as tf

from export.common import ExportError
from tfstyle.image import MIN_SIDE, fit_tensor
from tfstyle.kernels import for_serving
from tfstyle.models.base import PLAIN_LEVELS
from tfstyle.portraits.compose import feather
from tfstyle.portraits.segment import segnet_person_probability
from tfstyle.portraits.settings import PortraitSettings

#: File signatures accepted by the ``*_bytes`` inputs (tf.io.decode_image's formats).
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
_FORMATS = "JPEG, PNG, WebP, GIF or BMP"


@dataclasses.dataclass(frozen=True)
class ServingOptions:
    """Defaults and request limits baked into the exported graphs."""

    alpha: float = 1.0  # serving_default's and portrait's content-style trade-off
    max_size: int = 1024  # longer side the *_bytes signatures fit images to
    max_size_limit: int = 2048  # largest max_size (and tensor side) a request may ask for
    max_input_pixels: int = 50_000_000  # refuse larger decoded images
    segment_max_side: int = 512  # SegNet input size, as SegNetSegmenter

    def validate(self) -> None:
        if not 0.0 <= self.alpha <= 1.0:
            raise ExportError(f"--alpha must be in [0, 1], got {self.alpha}")
        if not MIN_SIDE <= self.max_size <= self.max_size_limit:
            raise ExportError(
                f"--max_size must be in [{MIN_SIDE}, max_size_limit="
                f"{self.max_size_limit}], got {self.max_size}"
            )


def _bytes_spec(name):
    return tf.TensorSpec([None], tf.string, name=name)


def _image_spec(name):
    return tf.TensorSpec([None, None, None, 3], tf.uint8, name=name)


_ALPHA = tf.TensorSpec([None], tf.float32, name="alpha")


def to_uint8(images):
    """[0, 1] floats → uint8, rounding half away from zero like `tfstyle.image.to_uint8`."""
    return tf.cast(tf.round(tf.clip_by_value(images, 0.0, 1.0) * 255.0), tf.uint8)


class StylizeServing(tf.Module):
    """The exported module; `signatures()` is what ``tf.saved_model.save`` needs.

    Args:
      network: a `StyleNetwork` (weights loaded), e.g. from `tfstyle.load_network`.
      segnet: a two-class SegNet for the ``portrait`` signature; without one
        the signature is left out.
      settings: portrait settings (`PortraitSettings`).
      options: `ServingOptions`.
    """

    def __init__(
        self,
        network,
        segnet: Optional[keras.Model] = None,
        settings: PortraitSettings = PortraitSettings(),
        options: ServingOptions = ServingOptions(),
    ):
        super().__init__(name="tfstyle")
        settings.validate()
        options.validate()
        self.network, self.segnet = network, segnet
        self._settings, self._options = settings, options
        encoded = network.encoded_signature()
        self._encoded_names = list(encoded)
        self.encode_style = tf.function(
            for_serving(self._encode_style), input_signature=[_image_spec("style")]
        )
        self.stylize_with_style = tf.function(
            for_serving(self._stylize_with_style),
            input_signature=[_image_spec("content"), *encoded.values(), _ALPHA],
        )
        if segnet is not None:  # saving traces every tf.function attribute: only with a SegNet
            pair = [_bytes_spec("content_bytes"), _bytes_spec("style_bytes")]
            self.portrait = tf.function(for_serving(self._portrait), input_signature=pair)
            self.portrait_faces = tf.function(
                for_serving(self._portrait_faces), input_signature=[*pair, _bytes_spec("face_mask_bytes")]
            )

    def signatures(self) -> dict:
        signatures = {
            name: getattr(self, name).get_concrete_function()
            for name in ("serving_default", "stylize_bytes", "stylize", "encode_style", "stylize_with_style")
        }
        if self.segnet is not None:
            signatures["portrait"] = self.portrait.get_concrete_function()
            signatures["portrait_faces"] = self.portrait_faces.get_concrete_function()
        return signatures

    # -- signatures ---------------------------------------------------------
    @tf.function(input_signature=[_bytes_spec("content_bytes"), _bytes_spec("style_bytes")])
    @for_serving
    def serving_default(self, content_bytes, style_bytes):
        count = tf.shape(content_bytes)[0]
        return self.stylize_bytes(
            content_bytes,
            style_bytes,
            tf.fill([count], tf.constant(self._options.alpha, tf.float32)),
            tf.fill([count], tf.constant(self._options.max_size, tf.int32)),
        )

    @tf.function(
        input_signature=[
            _bytes_spec("content_bytes"),
            _bytes_spec("style_bytes"),
            _ALPHA,
            tf.TensorSpec([None], tf.int32, name="max_size"),
        ]
    )
    @for_serving
    def stylize_bytes(self, content_bytes, style_bytes, alpha, max_size):
        checks = [
            self._check_batch(content_bytes, style_bytes, alpha, max_size),
            self._check_alpha(alpha),
            self._check_max_size(max_size),
        ]
        with tf.control_dependencies(checks):
            content_bytes = tf.identity(content_bytes)

        def one(request):
            content, style, a, size = request
            content, style = self._decode_fitted(content, style, size)
            image = self._stylize(content, self._encode(style), a[None])
            return tf.io.encode_png(to_uint8(image)[0])

        images = tf.map_fn(
            one,
            (content_bytes, style_bytes, alpha, max_size),
            fn_output_signature=tf.string,
            parallel_iterations=1,
        )
        return {"image_bytes": images}

    @tf.function(input_signature=[_image_spec("content"), _image_spec("style"), _ALPHA])
    @for_serving
    def stylize(self, content, style, alpha):
        checks = [
            self._check_pixels(content, "content"),
            self._check_pixels(style, "style"),
            self._check_alpha(alpha),
            self._check_styles(content, style, "style"),
            self._check_batch(content, alpha),
        ]
        with tf.control_dependencies(checks):
            content = _to_float(content)
        image = self._stylize(content, self._encode(_to_float(style)), alpha)
        return {"image": to_uint8(image)}

    def _encode_style(self, style):
        with tf.control_dependencies([self._check_pixels(style, "style")]):
            return self.network.encoded_tensors(self._encode(_to_float(style)))

    def _stylize_with_style(self, content, *tensors_and_alpha):
        *tensors, alpha = tensors_and_alpha
        checks = [
            self._check_pixels(content, "content"),
            self._check_alpha(alpha),
            self._check_batch(content, alpha),
            self._check_styles(content, tensors[0], self._encoded_names[0]),
        ]
        with tf.control_dependencies(checks):
            content = _to_float(content)
        encoded = self.network.encoded_from_tensors(dict(zip(self._encoded_names, tensors)))
        return {"image": to_uint8(self._stylize(content, encoded, alpha))}

    def _portrait(self, content_bytes, style_bytes, face_mask_bytes=None):
        with tf.control_dependencies([self._check_batch(content_bytes, style_bytes)]):
            content_bytes = tf.identity(content_bytes)
        size = self._options.max_size

        def one(request):
            content, style = self._decode_fitted(request[0], request[1], size)
            mask = segnet_person_probability(self.segnet, content, self._options.segment_max_side)
            mask = feather(mask, self._settings.feather)
            faces = None
            if face_mask_bytes is not None:  # the client's face mask, at any size: to the content's
                face = tf.io.decode_image(request[2], channels=1, expand_animations=False)
                face = tf.image.resize(tf.cast(face, tf.float32)[None] / 255.0, tf.shape(content)[1:3])
                faces = feather(face, self._settings.feather)
            image = self._portrait_image(content, style, mask, faces)
            return (tf.io.encode_png(to_uint8(image)[0]), tf.io.encode_png(to_uint8(mask)[0]))

        requests = (content_bytes, style_bytes)
        if face_mask_bytes is not None:
            requests += (face_mask_bytes,)
        images, masks = tf.map_fn(
            one, requests, fn_output_signature=(tf.string, tf.string), parallel_iterations=1
        )
        return {"image_bytes": images, "mask_bytes": masks}

    def _portrait_faces(self, content_bytes, style_bytes, face_mask_bytes):
        """`portrait` with the client's face mask (PNG, white = face): the third region."""
        return self._portrait(content_bytes, style_bytes, face_mask_bytes)

    # -- the network's own pieces ----------------------------------------------
    def _encode(self, style):
        return self.network.encode_style(style)

    def _portrait_image(self, content, style, mask, face_mask=None):
        return self.network.portrait_image(content, self._encode(style), mask, self._settings, face_mask)

    def _stylize(self, content, style, alpha):
        """Images [N, H, W, 3] in [0, 1] with the network's controls (`StyleNetwork.stylize_batch`)."""
        return self.network.stylize_batch(
            content, [style], strength=alpha, style_weights=None, masks=None, level_weights=PLAIN_LEVELS
        )

    def _decode_fitted(self, content, style, max_size):
        """Both images of one request, decoded and fitted to `max_size` (never enlarged)."""
        return (
            fit_tensor(self._decode(content, "content_bytes"), max_size),
            fit_tensor(self._decode(style, "style_bytes"), max_size),
        )

    def _decode(self, data, name):
        """Encoded bytes → [1, H, W, 3] float32 in [0, 1], after format and size checks."""
        padded = data + b"\0" * 12
        looks_like_image = tf.strings.substr(padded, 0, 4) == b"RIFF"
        looks_like_image &= tf.strings.substr(padded, 8, 4) == b"WEBP"
        for magic in _MAGIC:
            looks_like_image |= tf.strings.substr(padded, 0, len(magic)) == magic
        check = tf.debugging.Assert(
            looks_like_image,
            [
                f"{name}: not a {_FORMATS} file; send the file bytes, in REST JSON as "
                f"{{b64: base64 of the file}}"
            ],
        )
        with tf.control_dependencies([check]):
            image = tf.io.decode_image(data, channels=3, expand_animations=False)
        image = tf.ensure_shape(image, [None, None, 3])[None]
        with tf.control_dependencies([self._check_pixels(image, name)]):
            return _to_float(image)

    def _check_pixels(self, images, name):
        """Shorter side ≥ MIN_SIDE and at most max_input_pixels; tensors (not files) also
        at most max_size_limit on the longer side."""
        shape = tf.shape(images)
        limit = self._options
        checks = [
            tf.debugging.Assert(
                tf.reduce_min(shape[1:3]) >= MIN_SIDE,
                [
                    f"{name}: an image is smaller than {MIN_SIDE} px on its shorter side; send a "
                    f"larger image. Height, width:",
                    shape[1],
                    shape[2],
                ],
            ),
            tf.debugging.Assert(
                shape[1] * shape[2] <= limit.max_input_pixels,
                [
                    f"{name}: an image has more than {limit.max_input_pixels} pixels; downscale it "
                    f"before sending. Height, width:",
                    shape[1],
                    shape[2],
                ],
            ),
        ]
        if not name.endswith("_bytes"):
            checks.append(
                tf.debugging.Assert(
                    tf.reduce_max(shape[1:3]) <= limit.max_size_limit,
                    [
                        f"{name}: an image is larger than {limit.max_size_limit} px on its longer side; "
                        f"downscale it before sending. Height, width:",
                        shape[1],
                        shape[2],
                    ],
                )
            )
        return tf.group(*checks)

    def _check_max_size(self, max_size):
        low, high = MIN_SIDE, self._options.max_size_limit
        return tf.debugging.Assert(
            tf.reduce_all((max_size >= low) & (max_size <= high)),
            [f"max_size must be between {low} and {high} pixels; got", max_size],
        )

    @staticmethod
    def _check_alpha(alpha):
        return tf.debugging.Assert(
            tf.reduce_all((alpha >= 0.0) & (alpha <= 1.0)),
            ["alpha must be in [0, 1] (1 = full style); got", alpha],
        )

    @staticmethod
    def _check_batch(first, *others):
        count = tf.shape(first)[0]
        same = [tf.equal(tf.shape(x)[0], count) for x in others]
        return tf.debugging.Assert(
            tf.reduce_all(tf.stack(same)), ["every input needs the same batch size (one entry per image)"]
        )

    @staticmethod
    def _check_styles(content, style, name):
        styles = tf.shape(style)[0]
        return tf.debugging.Assert(
            (styles == 1) | (styles == tf.shape(content)[0]),
            [f"{name}: give one style for the whole batch or one per content image"],
        )


def _to_float(images):
    return tf.cast(images, tf.float32) / 255.0
