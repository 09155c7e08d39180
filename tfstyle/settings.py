"""Settings of the pipelines as plain dataclasses, and the checks of user numbers.

Nothing here imports TensorFlow: the command line builds its parser (defaults,
choices) from these and refuses bad values before any model is loaded.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Optional

from tfstyle.errors import ConfigError
from tfstyle.models.vgg_taps import canonical_tap

TV_VARIANTS = ("squared", "absolute", "power")
#: Largest style image relative to the result (OptimizeConfig.style_scale).
MAX_STYLE_SCALE = 4.0
#: SANet's colour-preservation modes.
COLOR_MODES = ("luminance", "histogram")


def check_finite(
    value: float,
    name: str,
    *,
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_open: bool = False,
) -> float:
    """`value` as a float if finite and within [low, high] (or (low, high] with `low_open`)."""
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    if not math.isfinite(value) or too_low or (high is not None and value > high):
        bound = "" if low is None else (f" > {low:g}" if low_open else f" >= {low:g}")
        if high is not None:
            bound = f" in [{low:g}, {high:g}]"
        raise ConfigError(f"{name} must be a finite number{bound}, got {value}")
    return value


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """`alpha` as a float in [0, 1], else `ConfigError`."""
    alpha = float(alpha)
    if not math.isfinite(alpha) or not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1] (1 = full style), got {alpha}")
    return alpha


def check_level_weights(level_weights: Sequence[float], name: str = "level weights") -> tuple[float, float]:
    """(W1, W2): two finite, non-negative numbers."""
    values = tuple(float(w) for w in level_weights)
    if len(values) != 2:
        raise ConfigError(f"{name} take two numbers W1,W2, got {list(values)}")
    if not all(math.isfinite(w) and w >= 0 for w in values):
        raise ConfigError(f"{name} must be finite and >= 0, got {list(values)}")
    return values[0], values[1]


def convex_weights(style_weights: Optional[Sequence[float]], count: int) -> list[float]:
    """Style weights normalised to sum to 1 (equal when ``None``)."""
    if style_weights is None:
        return [1.0 / count] * count
    if len(style_weights) != count:
        raise ConfigError(f"{len(style_weights)} style weights for {count} styles; give one each")
    if not all(math.isfinite(w) and w >= 0 for w in style_weights) or sum(style_weights) <= 0:
        raise ConfigError(
            f"style weights must be finite and >= 0 with a positive sum, got {list(style_weights)}"
        )
    total = float(sum(style_weights))
    return [w / total for w in style_weights]


# Layer presets: (content layers, style layers).
PRESETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # Gatys, Ecker & Bethge 2016, §2-3: content conv4_2, style conv1_1..conv5_1
    # (ReLU outputs), style layers weighted equally (w_l = 1/5).
    "gatys2016": (("relu4_2",), ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")),
    # TensorFlow's "Neural style transfer" tutorial.
    "tf-tutorial": (
        ("block5_conv2",),
        ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"),
    ),
}
INITS = ("content", "noise", "style")
OPTIMIZERS = ("adam", "lbfgs")


@dataclasses.dataclass
class OptimizeConfig:
    """Settings of one optimisation run; every layer and weight is overridable.

    The default weights suit the ``imagenet`` VGG19 (features on the caffe
    [0, 255] scale) with the size-normalised losses of `tfstyle.losses`; they
    are those of TensorFlow's style transfer tutorial (content 1e4,
    style 1e-2), whose losses have the same normalisation.
    """

    preset: str = "gatys2016"
    content_layers: Optional[Sequence[str]] = None
    style_layers: Optional[Sequence[str]] = None
    style_layer_weights: Optional[Sequence[float]] = None
    content_weight: float = 1e4
    style_weight: float = 1e-2
    tv_weight: float = 1e2
    tv_variant: str = "squared"
    tv_beta: float = 2.0
    # Adam stays the default: on the TF tutorial's objective (dominated by its
    # non-smooth absolute TV term) L-BFGS wins at 256 px and loses at 512 px
    # (BENCHMARKS.md, "Gatys: time to quality")
    optimizer: str = "adam"
    steps: int = 500
    learning_rate: float = 0.02
    init: str = "content"
    seed: int = 0
    tolerance: float = 0.0
    tolerance_window: int = 10
    scales: int = 1
    style_scale: float = 1.0
    preserve_color: bool = False

    def validate(self) -> None:
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown preset {self.preset!r}; use one of {', '.join(PRESETS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; use adam or lbfgs")
        if self.init not in INITS:
            raise ConfigError(f"unknown init {self.init!r}; use one of {', '.join(INITS)}")
        if self.tv_variant not in TV_VARIANTS:
            raise ConfigError(f"unknown TV variant {self.tv_variant!r}; use one of {', '.join(TV_VARIANTS)}")
        for name in ("content_weight", "style_weight", "tv_weight", "tolerance"):
            check_finite(getattr(self, name), name, low=0.0)
        for name in ("learning_rate", "style_scale", "tv_beta"):
            check_finite(getattr(self, name), name, low=0.0, low_open=True)
        # a style drawn larger than this gains nothing and costs memory quadratically
        check_finite(self.style_scale, "style_scale", low=0.0, high=MAX_STYLE_SCALE)
        if self.steps < 1 or self.scales < 1:
            raise ConfigError("steps and scales must be >= 1")
        style_layers = self.layers()[1]
        if self.style_layer_weights is not None:
            for w in self.style_layer_weights:
                check_finite(w, "style layer weights", low=0.0)
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(style_layers):
            raise ConfigError(
                f"{len(self.style_layer_weights)} style layer weights for "
                f"{len(style_layers)} style layers; give one per layer"
            )

    def layers(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(content taps, style taps) in canonical names, overrides applied."""
        content, style = PRESETS[self.preset]
        content = tuple(self.content_layers or content)
        style = tuple(self.style_layers or style)
        return (tuple(canonical_tap(t) for t in content), tuple(canonical_tap(t) for t in style))


#: ``auto``: ``feature`` for SANet, ``pixel`` for Magenta (measured: benchmarks/portrait_quality.py).
BLENDS = ("auto", "feature", "pixel")
#: The portrait's regions; the face is optional (no face found, or none asked for).
REGIONS = ("person", "background", "face")
#: Face regions a portrait can protect (the outlines are `tfstyle.faces.REGIONS`).
FACE_PARTS = ("oval", "eyes", "brows", "lips")
#: Largest feather (σ as a fraction of the shorter side): keeps the Gaussian's
#: radius (4σ) inside the image, as reflect padding needs.
MAX_FEATHER = 0.2


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
    blend: str = "auto"
    feather: float = 0.01
    #: the third region, the face's features (`tfstyle.faces.REGIONS` parts), where faces are found
    face_alpha: float = 0.3
    face_levels: tuple = (1.0, 0.0)
    face_parts: tuple = ("oval",)
    #: stylize the faces' box again at the frame's working size (small faces get full resolution)
    face_crop: bool = True

    def validate(self) -> None:
        if self.blend not in BLENDS:
            raise ConfigError(f"unknown blend {self.blend!r}; use auto, feature or pixel")
        for name in ("person_alpha", "background_alpha", "face_alpha"):
            check_alpha(getattr(self, name), name)
        for name in ("person_levels", "background_levels", "face_levels"):
            check_level_weights(getattr(self, name), name)
        unknown = set(self.face_parts) - set(FACE_PARTS)
        if unknown or not self.face_parts:
            raise ConfigError(
                f"face parts {', '.join(sorted(unknown)) or '(none)'}: use some of {', '.join(FACE_PARTS)}"
            )
        if not math.isfinite(self.feather) or not 0.0 <= self.feather <= MAX_FEATHER:
            raise ConfigError(f"feather must be in [0, {MAX_FEATHER}], got {self.feather}")


def portrait_settings_from(values) -> PortraitSettings:
    """Validated `PortraitSettings` from any object with attributes of its field names: the
    CLI's parsed arguments or the export programs' absl flags."""
    settings = PortraitSettings(
        person_alpha=float(values.person_alpha),
        person_levels=tuple(float(v) for v in values.person_levels),
        background_alpha=float(values.background_alpha),
        background_levels=tuple(float(v) for v in values.background_levels),
        blend=values.blend,
        feather=float(values.feather),
        face_alpha=float(getattr(values, "face_alpha", PortraitSettings.face_alpha)),
        face_levels=tuple(float(v) for v in getattr(values, "face_levels", PortraitSettings.face_levels)),
        face_parts=tuple(getattr(values, "face_parts", PortraitSettings.face_parts)),
        face_crop=not getattr(values, "no_face_crop", not PortraitSettings.face_crop),
    )
    settings.validate()
    return settings


#: Styles of the built-in multi-style network (`tfstyle.models.pastiche`).
BUILTIN_STYLE_COUNT = 26


def check_builtin_styles(styles, option: str = "built-in style") -> list[int]:
    """Indices of built-in styles, each in 0..25."""
    if not styles:
        raise ConfigError(f"give at least one {option} (0 to {BUILTIN_STYLE_COUNT - 1})")
    for index in styles:
        if not 0 <= int(index) < BUILTIN_STYLE_COUNT:
            raise ConfigError(f"{option} {index} does not exist; use 0 to {BUILTIN_STYLE_COUNT - 1}")
    return [int(i) for i in styles]
