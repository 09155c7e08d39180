"""One pipeline from `tfstyle.settings.Settings` to an image → image function.

    pipeline = Pipeline(Settings(model="magenta", styles=("wave.jpg",), strength=0.8))
    result = pipeline(photo)                  # [H, W, 3] float32 in [0, 1], any size in

The network is loaded once (`tfstyle.models.registry.load_network`), the
style(s) read and encoded once, the segmenter and face finder built once when
portrait mode is on. Each call fits the image to ``max_size`` (never enlarged,
as every entry point always did), stylizes it — plainly, or as a portrait with
its regions, faces and crops — and returns the picture at the fitted size.
``tfstyle stylize`` / ``portrait`` / ``video``, folder mode, ``tfstyle.bulk``,
the export programs' Keras side and the Python API are all built on this class.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from tfstyle import image as image_lib
from tfstyle.errors import ConfigError
from tfstyle.settings import Settings


class Pipeline:
    """`Settings` made into a callable: ``pipeline(image) → stylized image``.

    `network` reuses an already loaded network (it must be the one `settings`
    names); `face_finder` and `segmenter` likewise for portrait mode.
    """

    def __init__(self, settings: Settings, *, network=None, segmenter=None, face_finder=None):
        from tfstyle.models.registry import shared_network

        self.settings = settings.validate()
        self.network = network or shared_network(
            settings.model,
            settings.weights,
            settings.precision,
            memory_budget_mb=settings.memory_budget_mb,
            **settings.network_options(),
        )
        if self.network.network_name != settings.model:
            raise ConfigError(f"the pipeline's network is {self.network.network_name}, not {settings.model}")
        self._load: dict[str, Any] = {"max_pixels": settings.max_pixels} if settings.max_pixels else {}
        self.style_images = [self.load_style(s) for s in settings.styles]
        self.encoded = self._encode_styles()
        self.portrait = None
        if settings.portrait is not None:
            from tfstyle.portraits.compose import PortraitStylizer
            from tfstyle.portraits.segment import make_segmenter

            if segmenter is None:
                segmenter = make_segmenter(settings.portrait.segmenter)
            if face_finder is None and settings.portrait.faces:
                from tfstyle.portraits.faces import FaceFinder

                face_finder = FaceFinder()
            self.portrait = PortraitStylizer(self.network, segmenter, face_finder)

    def load_style(self, source) -> np.ndarray:
        """A style image (path, bytes, PIL image or array) fitted to ``max_size``."""
        if isinstance(source, np.ndarray) or hasattr(source, "convert"):
            return self.fit(image_lib.as_array(source), "style")
        return image_lib.load_fitted(source, self.settings.max_size, **self._load)

    def _encode_styles(self) -> Optional[list]:
        """The styles encoded once for every content; None when they depend on each content
        (colour matching to it)."""
        from tfstyle.style_features import load_style

        settings, network = self.settings, self.network
        if settings.style_features:
            encoded = []
            for path in settings.style_features:
                style = load_style(path)
                style.check_made_by(settings.model, "", path)
                encoded.append(style)
            return encoded
        if settings.builtin_styles:
            return [network.encode_style(i) for i in settings.builtin_styles]
        if settings.preserve_color:
            return None
        return [network.encode_style(s) for s in self.style_images]

    # -- images ---------------------------------------------------------------------------
    def fit(self, image: np.ndarray, what: str = "content") -> np.ndarray:
        """`image` fitted so its longer side is at most ``max_size`` (never enlarged)."""
        return image_lib.fit_checked(image, self.settings.max_size, what=what)

    def load(self, source) -> np.ndarray:
        """A content (path, bytes, PIL image or array) as the network will see it."""
        if isinstance(source, np.ndarray) or hasattr(source, "convert"):
            return self.fit(image_lib.as_array(source))
        return image_lib.load_fitted(source, self.settings.max_size, **self._load)

    # -- stylization ----------------------------------------------------------------------
    def __call__(self, image: np.ndarray) -> np.ndarray:
        """The stylized picture [h, w, 3] of a photo [H, W, 3] in [0, 1] of any size: fitted to
        ``max_size`` first; the photo itself is what crop mode cuts its crops from."""
        image = np.asarray(image, np.float32)
        return self.stylize_fitted(self.fit(image), source=image)

    def stylize_fitted(
        self,
        content: np.ndarray,
        *,
        source: Optional[np.ndarray] = None,
        mask: Optional[np.ndarray] = None,
        face_mask: Optional[np.ndarray] = None,
    ) -> np.ndarray:
        """The stylized picture of a content already at its working size (a video frame, a
        loaded image). `mask` / `face_mask` ([H, W] in [0, 1]) replace the segmenter's / the
        face finder's in portrait mode; `source` is the full-resolution photo for crop mode."""
        return self.run(content, source=source, mask=mask, face_mask=face_mask).image

    def run(self, content: np.ndarray, *, source=None, mask=None, face_mask=None):
        """`stylize_fitted` with the masks used: a `tfstyle.portraits.compose.PortraitResult`."""
        from tfstyle.portraits.compose import PortraitResult

        content = np.asarray(content, np.float32)
        settings = self.settings
        if self.portrait is None:
            if mask is not None or face_mask is not None:
                raise ConfigError("a person or face mask needs portrait mode")
            return PortraitResult(image=self._stylize(content), mask=None)
        assert settings.portrait is not None
        crop: dict[str, Any] = {}
        if settings.portrait.person_crop:
            crop = {"person_crop": settings.max_size, "source": source}
        if self.encoded is None:
            raise ConfigError("portrait mode takes no colour preservation")
        return self.portrait.stylize(
            content,
            encoded=self.encoded[0],
            settings=settings.portrait,
            mask=mask,
            face_mask=face_mask,
            **crop,
        )

    def _stylize(self, content: np.ndarray) -> np.ndarray:
        settings = self.settings
        masks = [
            image_lib.load_mask(m, content.shape[:2], option="--mask")
            if not isinstance(m, np.ndarray)
            else image_lib.resize(np.asarray(m, np.float32)[..., None], content.shape[:2])[..., 0]
            for m in settings.masks
        ]
        by_images = self.encoded is None
        return self.network.stylize(
            content,
            self.style_images if by_images else None,
            encoded=None if by_images else self.encoded,
            strength=settings.strength,
            style_weights=None if settings.style_weights is None else list(settings.style_weights),
            masks=masks or None,
            level_weights=settings.level_weights,
            preserve_color=settings.preserve_color,
        )
