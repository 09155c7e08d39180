"""The one interface every feed-forward network implements: `StyleNetwork`.

    network = tfstyle.load_network("magenta")
    encoded = network.encode_style(painting)           # once per style
    image = network.stylize(photo, encoded=[encoded], strength=0.8)

What is the same for every network is written here once: single image or
batch, the checks of the controls (strength, style weights, masks, level
weights, colour mode) against what the network can do
(`tfstyle.models.registry.NetworkSpec`), colour preservation, cached styles
checked against the weights that made them, and the cache of traced graphs.
A network supplies its stages: `encode_style`, `stylize_batch` (the controls
applied in its own terms) and `portrait_image` (the regions of portrait mode:
SANet mixes features, the normalisation-conditioned networks style vectors).
Nothing outside `tfstyle/models/` asks which network it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Optional

import keras
import numpy as np
import tensorflow as tf

from tfstyle import color, controls
from tfstyle.checks import check_alpha, check_level_weights, convex_weights
from tfstyle.errors import ConfigError
from tfstyle.models.registry import NetworkSpec, network_spec


def weights_fingerprint(model: keras.Model) -> str:
    """A short SHA-256 of a model's weights, in order: cached style features name their encoder
    by it, and ``--precision auto`` caches its decision by the whole network's."""
    import hashlib

    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()[:16]


#: The level weights that leave SANet's two levels as trained (and the only ones other networks take).
PLAIN_LEVELS = (1.0, 1.0)


class StyleNetwork(keras.Model):
    """Base of `SANetStylizer`, `MagentaStylizer` and `BuiltinStylizer`.

    `weights_id` is a fingerprint of the weights that encode styles, set when they
    are loaded from a file, stamped on encoded styles and checked on cached ones.
    """

    #: the `tfstyle.models.registry.NETWORKS` key
    network_name: ClassVar[str] = ""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._graphs: dict = {}
        self.weights_id = ""
        #: the precision it was loaded at and why (`tfstyle.precision.Choice`; None when built directly)
        self.precision_choice: Any = None

    @property
    def spec(self) -> NetworkSpec:
        return network_spec(self.network_name)

    @classmethod
    def load(cls, folder: Optional[str], *, precision: str = "auto", **options) -> StyleNetwork:
        """The network with the weights of `folder` (random for None) at a precision word:
        ``auto`` is measured on these weights where bfloat16 is native (`tfstyle.models.probe`),
        the other words are fixed plans (`tfstyle.precision`)."""
        from tfstyle import precision as precision_lib

        if precision_lib.is_measured(precision, cls.network_name):
            from tfstyle.models.probe import load_measured

            return load_measured(cls, folder, **options)
        plan = precision_lib.fixed_plan(precision, cls.network_name)
        network = cls.load_at(folder, plan, **options)
        network.precision_choice = precision_lib.Choice(precision, plan)
        return network

    @classmethod
    def load_at(cls, folder: Optional[str], plan, **options) -> StyleNetwork:
        """The network with the weights of `folder` (random for None) built at `plan`
        (a `tfstyle.precision.Plan`)."""
        raise NotImplementedError

    def architecture(self) -> dict:
        """Constructor options that fix this network's architecture (a weights folder tells them;
        a twin built without a folder must be told): none by default."""
        return {}

    def _graph(self, name: str, fn, signature):
        """`fn` as a tf.function of `signature`, traced once per network and name.

        Inference runs as graphs rather than eager Keras calls: the graph
        executor frees each activation after its last use, where an eager
        functional call holds all of them to the end (SANet at 1024²: 4.6 →
        ~1.5 GiB). Inside a function being traced (an export), `fn` is inlined
        instead, so static shapes stay static.
        """
        if tf.inside_function():
            return fn
        if name not in self._graphs:
            self._graphs[name] = tf.function(fn, input_signature=signature, reduce_retracing=True)
        return self._graphs[name]

    # -- what each network supplies --------------------------------------------------
    def encode_style(self, images) -> Any:
        """An encoded style to cache and reuse for many contents (it has ``save``)."""
        raise NotImplementedError

    def stylize_batch(
        self,
        content: np.ndarray,
        styles: list,
        *,
        strength,
        style_weights: Optional[Sequence[float]],
        masks,
        level_weights: tuple,
    ) -> tf.Tensor:
        """Images [N, H, W, 3] in [0, 1] for content [N, H, W, 3] and encoded `styles`,
        the controls checked."""
        raise NotImplementedError

    def portrait_image(self, content, encoded, mask, settings, face_mask=None) -> tf.Tensor:
        """Portraits [N, H, W, 3] in [0, 1]: each region of `settings` (a `PortraitSettings`) at
        its own controls, composited by the feathered person `mask` [N, H, W, 1] and the
        optional face mask. TF ops only: the SavedModel and TFLite exports trace it."""
        raise NotImplementedError

    def encoded_signature(self) -> dict:
        """The tensors of an encoded style, by name (`tf.TensorSpec` with a batch dimension): the
        inputs and outputs of the exported cached-style signatures."""
        raise NotImplementedError

    def encoded_tensors(self, encoded) -> dict:
        """An encoded style as the float32 tensors of `encoded_signature`."""
        raise NotImplementedError

    def encoded_from_tensors(self, tensors: dict):
        """An encoded style from the tensors of `encoded_signature` (checked in the graph)."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------
    def region_controls(self, settings, region: str) -> dict:
        """`stylize` keyword arguments for one portrait region (``person``, ``background``, ``face``)."""
        controls = {"strength": getattr(settings, f"{region}_alpha")}
        if self.spec.level_weights:
            controls["level_weights"] = tuple(getattr(settings, f"{region}_levels"))
        return controls

    def check_controls(self, *, strength=1.0, level_weights=None, preserve_color=None) -> None:
        """Refuse, in one line, a control this network does not have."""
        spec = self.spec
        if not spec.identity and strength != 1.0:
            raise ConfigError(
                f"strength {strength}: the {spec.name} network has no content-as-style identity to "
                "blend with; leave strength at 1"
            )
        if level_weights is not None and not spec.level_weights and tuple(level_weights) != PLAIN_LEVELS:
            raise ConfigError(f"level weights are SANet's; the {spec.name} network has one level")
        color.check_mode(preserve_color, spec.color_modes)

    def encoded_styles(self, content: np.ndarray, style, encoded, preserve_color) -> list:
        """The styles to apply to `content` [H, W, 3]: `encoded` (checked against these weights)
        or `style` image(s) encoded here, colour-matched to the content first when asked."""
        if (style is None) == (encoded is None):
            raise ConfigError("pass exactly one of style images or encoded styles")
        if encoded is not None:
            encoded = list(encoded) if isinstance(encoded, (list, tuple)) else [encoded]
            if preserve_color and self.spec.style_images:
                raise ConfigError("colour preservation needs the style images, not encoded styles")
            return [self.check_encoded(e) for e in encoded]
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        if not self.spec.style_images:  # its styles are numbers (the built-in styles)
            return [self.encode_style(s) for s in styles]
        return [self.encode_style(s) for s in color.match_styles(styles, content, preserve_color)]

    def check_encoded(self, encoded):
        """`encoded` when these weights made it (else a one-line error)."""
        encoded.check_made_by(self.network_name, self.weights_id)
        return encoded

    def stylize(
        self,
        content,
        style=None,
        *,
        encoded=None,
        strength: float = 1.0,
        style_weights: Optional[Sequence[float]] = None,
        masks=None,
        level_weights: Optional[Sequence[float]] = None,
        preserve_color: Optional[str] = None,
    ) -> np.ndarray:
        """Stylize content image(s) with one or more styles.

        Args:
          content: [H, W, 3] or [N, H, W, 3] float in [0, 1], at least 32 px a side.
          style: a style image [H, W, 3] or a list of them; for the built-in network, style
            numbers 0..25.
          encoded: `encode_style` results (one or a list) instead of `style`.
          strength: the content-style trade-off in [0, 1], 1 = full style (SANet's α,
            Park & Lee 2019 §4.4; Magenta's identity interpolation, Ghiasi et al. 2017).
          style_weights: convex weights for several styles (default equal).
          masks: one mask [H, W] (or [N, H, W]) in [0, 1] per style, at content size.
          level_weights: SANet's (W1, W2) for its relu4_1 and relu5_1 levels.
          preserve_color: ``"luminance"`` or ``"histogram"`` (needs style images).
        Returns:
          [N, H, W, 3] (or [H, W, 3]) float32 in [0, 1] at the content's size.
        """
        content = np.asarray(content, np.float32)
        single = content.ndim == 3
        content = content[None] if single else content
        strength = check_alpha(strength, "strength")
        levels = check_level_weights(PLAIN_LEVELS if level_weights is None else level_weights)
        self.check_controls(strength=strength, level_weights=levels, preserve_color=preserve_color)
        styles = self.encoded_styles(content[0], style, encoded, preserve_color)
        convex_weights(style_weights, len(styles))
        controls.check_mask_count(masks, len(styles))
        out = self.stylize_batch(
            color.network_content(content, preserve_color),
            styles,
            strength=strength,
            style_weights=style_weights,
            masks=masks,
            level_weights=levels,
        )
        out = color.restore_batch(np.asarray(out), content, preserve_color)
        return out[0] if single else out
