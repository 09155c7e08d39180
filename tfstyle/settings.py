"""The one settings object of the pipeline (`tfstyle.pipeline.Pipeline`), with no TensorFlow.

Every entry point — ``tfstyle stylize`` / ``portrait`` / ``video``, folder mode,
``python -m tfstyle.bulk``, the export programs and the Python API — fills one
`Settings` and hands it to the pipeline, so the same photo with the same options
gives the same picture everywhere. `Settings.validate` refuses, in one line and
before anything loads, numbers out of range and options the chosen network does
not have (its `tfstyle.models.registry.NetworkSpec`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from tfstyle.checks import check_alpha, check_finite, check_level_weights, convex_weights
from tfstyle.errors import ConfigError
from tfstyle.models.registry import check_builtin_styles, network_spec
from tfstyle.portraits.settings import PortraitSettings, check_network_settings

#: The default longer side of the images the network sees.
DEFAULT_MAX_SIZE = 1024
#: The default bound on the large intermediates (SANet's attention chunks, strips).
DEFAULT_MEMORY_BUDGET_MB = 256.0
PLAIN_LEVELS = (1.0, 1.0)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What to stylize with and how: network, style(s), controls, portrait mode, resources.

    Styles are given one way: `styles` (image paths, file bytes or arrays),
    `style_features` (``.npz`` files of encoded styles) or `builtin_styles`
    (indices 0-25; the ``builtin`` network). `masks` are one per style (paths or
    arrays, resized to each content). `portrait` turns portrait mode on.
    """

    model: str = "sanet"
    weights: Optional[str] = None
    precision: str = "auto"
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB
    styles: tuple = ()
    style_features: tuple = ()
    builtin_styles: tuple = ()
    #: the content-style trade-off in [0, 1] (SANet's α, Magenta's strength)
    strength: float = 1.0
    style_weights: Optional[tuple] = None
    masks: tuple = ()
    level_weights: tuple = PLAIN_LEVELS
    preserve_color: Optional[str] = None
    max_size: int = DEFAULT_MAX_SIZE
    max_pixels: Optional[int] = None
    max_style_positions: Optional[int] = None
    portrait: Optional[PortraitSettings] = None

    @property
    def style_count(self) -> int:
        return len(self.styles) + len(self.style_features) + len(self.builtin_styles)

    def network_options(self) -> dict[str, Any]:
        """The network's own loader options that are set (`NetworkSpec.options`)."""
        return {"max_style_positions": self.max_style_positions} if self.max_style_positions else {}

    def validate(self) -> Settings:
        """Refuse what cannot work, in one line; returns self."""
        spec = network_spec(self.model)
        given = sum(map(bool, (self.styles, self.style_features, self.builtin_styles)))
        if given != 1:
            raise ConfigError("give the style one way: style images, encoded style files or built-in styles")
        if bool(self.builtin_styles) != (not spec.style_images):
            if self.builtin_styles:
                raise ConfigError(
                    f"built-in styles run the builtin network, not {self.model}; drop the model"
                )
            raise ConfigError(f"the {self.model} network takes built-in styles (0 to 25), not style images")
        if self.builtin_styles:
            check_builtin_styles(self.builtin_styles)
        strength = check_alpha(self.strength, "strength")
        if strength != 1.0 and not spec.identity:
            raise ConfigError(
                f"strength {strength}: the {spec.name} network has no content-as-style identity "
                "to blend with; leave it at 1"
            )
        levels = check_level_weights(self.level_weights)
        if levels != PLAIN_LEVELS and not spec.level_weights:
            raise ConfigError(f"level weights are a SANet control; the {spec.name} network has one level")
        if self.max_style_positions is not None and "max_style_positions" not in spec.options:
            raise ConfigError(f"max_style_positions is a SANet control; drop it with {spec.name}")
        check_finite(self.memory_budget_mb, "memory budget (MB)", low=0.0, low_open=True)
        if self.memory_budget_mb != DEFAULT_MEMORY_BUDGET_MB and not spec.memory_budget:
            raise ConfigError(f"the {spec.name} network runs whole; drop the memory budget")
        if self.preserve_color is not None and self.preserve_color not in spec.color_modes:
            raise ConfigError(
                f"preserve_color {self.preserve_color!r}: the {spec.name} network keeps colours by "
                f"{' or '.join(spec.color_modes)}"
            )
        count = self.style_count
        convex_weights(None if self.style_weights is None else list(self.style_weights), count)
        if self.masks and len(self.masks) != count:
            raise ConfigError(f"{len(self.masks)} masks for {count} styles; give one per style")
        if self.portrait is not None:
            self.check_portrait(self.portrait)
        return self

    def check_portrait(self, portrait: PortraitSettings) -> None:
        portrait.validate()
        check_network_settings(network_spec(self.model), portrait)
        if self.style_count != 1 or self.preserve_color or self.masks:
            raise ConfigError("portrait mode takes one style, no colour preservation and no style masks")
