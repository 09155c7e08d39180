"""Portrait-aware stylization (Berezin & Volkova 2019): strong style on the background,
content-preserving style on the person and gentler still on the faces, composited by
soft masks.

    portrait = PortraitStylizer(tfstyle.load_network("magenta"), make_segmenter("tflite"), FaceFinder())
    result = portrait.stylize(content, style)            # result.image, result.mask

Content and style are encoded once; the regions differ only in the network's
runtime controls, and how a network makes its regions is its own business
(`tfstyle.models.base.StyleNetwork.portrait_image`: SANet mixes the regions'
features and decodes once, or decodes each; Magenta and the built-in styles mix
style vectors). This module segments, finds faces, feathers the masks, runs the
crops (the person's box, the faces' box, each stylized again at the network's
full resolution) and composites.

The same mask, saved with ``tfstyle segment``, also serves ``tfstyle optimize
--content-weight-map`` to keep more content on the person in optimisation
transfer. `feather` and `composite` are plain TensorFlow on tensors, so the
SavedModel and TFLite exports run this very code.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf
from absl import logging

from tfstyle.errors import ConfigError
from tfstyle.portraits.segment import Segmenter
from tfstyle.portraits.settings import BLENDS, PortraitSettings, check_network_settings

__all__ = [
    "BLENDS",
    "PortraitResult",
    "PortraitSettings",
    "PortraitStylizer",
    "feather",
    "composite",
    "feather_mask",
]


@dataclasses.dataclass
class PortraitResult:
    image: np.ndarray  # [H, W, 3] float32 in [0, 1]
    mask: Optional[np.ndarray]  # [H, W] the (feathered) person mask used (None: not a portrait)
    face_mask: Optional[np.ndarray] = None  # [H, W] the (feathered) face mask, if faces were used


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


def composite(parts: dict, mask, face_mask=None):
    """Person over background by `mask`, then the face over both by `face_mask` (all [N, h, w, ·])."""
    out = mask * parts["person"] + (1.0 - mask) * parts["background"]
    return out if face_mask is None else face_mask * parts["face"] + (1.0 - face_mask) * out


#: The person crop's margin on each side, as a fraction of the person's box (crop mode).
CROP_MARGIN = 0.1
#: Where the feathered face mask counts as a face's (its feathered edge included), when the
#: face crop tells faces apart.
FACE_SUPPORT = 1e-3


def person_box(mask: np.ndarray, margin: float = CROP_MARGIN) -> Optional[tuple[int, int, int, int]]:
    """(y0, x0, y1, x1) around the mask's pixels above 0.5, grown by `margin` of the box's size on
    each side and clipped to the image; None when the mask holds no person."""
    rows, cols = np.nonzero(np.asarray(mask) > 0.5)
    if rows.size == 0:
        return None
    y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    dy, dx = int(round(margin * (y1 - y0))), int(round(margin * (x1 - x0)))
    height, width = np.shape(mask)[:2]
    return max(0, y0 - dy), max(0, x0 - dx), min(height, y1 + dy), min(width, x1 + dx)


def faces_mask(faces: list, shape, settings: PortraitSettings) -> np.ndarray:
    """The union [H, W] of `faces`' `settings.face_parts` (zeros when there is no face)."""
    from tfstyle.portraits.faces import feature_masks

    if not faces:
        return np.zeros(tuple(shape[:2]), np.float32)
    masks = feature_masks(faces, shape, settings.face_parts)
    return np.max(np.stack(list(masks.values())), axis=0)


class PortraitStylizer:
    """Segment, find faces, feather, stylize each region and composite, with any `StyleNetwork`
    whose spec has ``portrait``.

    With a `face_finder` (`tfstyle.portraits.faces.FaceFinder`) the faces' `settings.face_parts`
    form a third region with its own settings; where no face is found, the face
    stage is skipped (logged) and the portrait has two regions.
    """

    def __init__(self, network, segmenter: Optional[Segmenter] = None, face_finder=None):
        self.network, self.segmenter, self.face_finder = network, segmenter, face_finder

    def face_mask(self, content: np.ndarray, settings: PortraitSettings) -> Optional[np.ndarray]:
        """The union [H, W] of the found faces' `settings.face_parts`, or None (no finder, no face)."""
        if self.face_finder is None:
            return None
        faces = self.face_finder.find(content)
        if not faces:
            logging.info("no face found: the portrait keeps two regions (person, background)")
            return None
        return faces_mask(faces, content.shape, settings)

    def stylize(
        self,
        content: np.ndarray,
        style: Optional[np.ndarray] = None,
        *,
        encoded=None,
        settings: PortraitSettings = PortraitSettings(),
        mask: Optional[np.ndarray] = None,
        face_mask: Optional[np.ndarray] = None,
        person_crop: int = 0,
        source: Optional[np.ndarray] = None,
    ) -> PortraitResult:
        """Stylize one portrait [H, W, 3] by a style image or a style `encoded` once; `mask`
        ([H, W] in [0, 1]) skips segmentation, `face_mask` ([H, W]) the face finder.
        `person_crop` > 0: crop mode, the person stylized again at that working side (taken
        from `source`, the photo at full resolution, when given)."""
        settings.validate()
        check_network_settings(self.network.spec, settings)
        content = np.asarray(content, np.float32)
        if (style is None) == (encoded is None):
            raise ConfigError("pass exactly one of a style image or an encoded style")
        if mask is None:
            if self.segmenter is None:
                raise ConfigError("no segmenter and no mask: pass one of them")
            mask = self.segmenter.segment(content)
        mask = feather(np.asarray(mask, np.float32)[None, :, :, None], settings.feather)
        if face_mask is None:
            face_mask = self.face_mask(content, settings)
        faces = None
        if face_mask is not None:
            faces = feather(np.asarray(face_mask, np.float32)[None, :, :, None], settings.feather)
        network = self.network
        s = network.check_encoded(encoded) if encoded is not None else network.encode_style(style)
        image = network.portrait_image(content[None], s, mask, settings, faces)
        face = None if faces is None else np.asarray(faces)[0, :, :, 0]
        result = PortraitResult(image=np.asarray(image)[0], mask=np.asarray(mask)[0, :, :, 0], face_mask=face)
        if person_crop:
            self._paste_person_crop(result, content, s, settings, source, person_crop)
        if settings.face_crop and result.face_mask is not None:  # after the person crop: measured better
            self._paste_face_crop(result, content, s, settings, source, settings.face_crop_side)
        return result

    @staticmethod
    def _paste(result: PortraitResult, box, fragment, mask) -> None:
        """Lay `fragment` (stylized at any size) over `result.image` in `box`, weighted by `mask`."""
        from tfstyle.image import resize

        y0, x0, y1, x1 = box
        fragment = resize(np.asarray(fragment, np.float32), (y1 - y0, x1 - x0))
        m = mask[y0:y1, x0:x1, None]
        image = np.array(result.image)  # writable
        image[y0:y1, x0:x1] = m * fragment + (1.0 - m) * image[y0:y1, x0:x1]
        result.image = image

    def _crop(self, content, source, box, work_side: int) -> np.ndarray:
        """Rows/columns `box` of `content`, cut from `source` (same picture, any resolution) and
        fitted to `work_side`."""
        from tfstyle.image import fit

        y0, x0, y1, x1 = box
        source = content if source is None else np.asarray(source, np.float32)
        sy, sx = source.shape[0] / content.shape[0], source.shape[1] / content.shape[1]
        crop = source[int(y0 * sy) : int(np.ceil(y1 * sy)), int(x0 * sx) : int(np.ceil(x1 * sx))]
        return fit(crop, work_side, upscale=True)

    def _paste_face_crop(self, result: PortraitResult, content, style, settings, source, work_side: int):
        """Face crop (`PortraitSettings.face_crop`): each face on its own (each separate part of the
        face mask), its box plus 25 % cut from `source` and fitted to `work_side`
        (`PortraitSettings.face_crop_side`), stylized at the face's setting alone and laid over
        the result with that face's feathered mask: every face meets the network's strokes at
        the same scale however small or large it is in the frame, and faces far apart in a group
        photo do not share one large box. In place. Measured: benchmarks/portrait_quality.py
        (BENCHMARKS.md, "Faces: identity")."""
        import scipy.ndimage

        assert result.face_mask is not None
        labels, count = scipy.ndimage.label(result.face_mask > FACE_SUPPORT)
        for index in range(1, count + 1):
            face_mask = np.where(labels == index, result.face_mask, 0.0)
            box = person_box(face_mask, margin=0.25)
            if box is None:  # only feather: a sliver of another face's edge
                continue
            crop = self._crop(content, source, box, work_side)
            controls = self.network.region_controls(settings, "face")
            self._paste(result, box, self.network.stylize(crop, encoded=style, **controls), face_mask)

    def _paste_person_crop(
        self, result: PortraitResult, content, style, settings, source, work_side: int
    ) -> bool:
        """Crop mode (Berezin & Volkova 2019): the person's box, cut from `source` (the full-resolution
        photo, else `content`) and resized so its longer side is `work_side`, is stylized on its own
        (person and face settings; its own face search at that resolution), brought back to the
        box's size and laid over the result with the feathered mask. In place; False when the
        mask holds no person."""
        assert result.mask is not None
        box = person_box(result.mask)
        if box is None:
            logging.info("crop mode: no person in the mask; the frame is kept as stylized")
            return False
        crop = self._crop(content, source, box, work_side)
        # the faces' box is cropped from `source` afterwards, in the frame (−59 % against −41 % when
        # the person crop's own face crop is the last word: benchmarks/portrait_quality.py)
        person_only = dataclasses.replace(
            settings,
            background_alpha=settings.person_alpha,
            face_crop=False,
            **({"background_levels": settings.person_levels} if self.network.spec.level_weights else {}),
        )
        inner = self.stylize(crop, encoded=style, settings=person_only, mask=np.ones(crop.shape[:2]))
        self._paste(result, box, inner.image, result.mask)
        return True
