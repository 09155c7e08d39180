"""Settings of optimisation transfer (Gatys et al. 2016): layers, weights, optimiser (no TensorFlow)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Optional

from tfstyle.checks import check_finite
from tfstyle.errors import ConfigError
from tfstyle.models.vgg_taps import VGG19_BLOCKS, canonical_tap

TV_VARIANTS = ("squared", "absolute", "power")
#: Largest style image relative to the result (OptimizeConfig.style_scale).
MAX_STYLE_SCALE = 4.0

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
    # Kozlovtsev 2019 (the depth-aware thesis): content conv2_2, style conv1_2, conv2_2, conv3_3,
    # conv4_3 of VGG19 (shared/specs/depth.md); its weights in PAPER_SETTINGS below
    "kozlovtsev2019": (("relu2_2",), ("relu1_2", "relu2_2", "relu3_3", "relu4_3")),
    # Nedeljković 2023: TensorFlow's tutorial layers (content block5_conv2, style blockN_conv1)
    "nedeljkovic2023": (
        ("block5_conv2",),
        ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"),
    ),
}

#: Nedeljković 2023's Adam step, 10 on a 0–255 image, carried to tfstyle's [0, 1] image: the
#: same change of a pixel per step is 10/255.
NEDELJKOVIC_LEARNING_RATE = 10.0 / 255.0

#: Feature scale of tfstyle's loss network over a PyTorch VGG19's. tfstyle feeds Keras' VGG19
#: 255·x − the BGR means (x in [0, 1]); PyTorch code feeds (x − μ)/σ with torchvision's
#: σ = (0.229, 0.224, 0.225). The first layer's inputs differ by 255·σ, and conv + ReLU layers
#: carry a scale through (positively homogeneous, up to their biases), so features differ by
#: about k = 255·mean(σ) ≈ 57.6. An approximation: the two VGG19s are also different trainings
#: (Keras': the original Caffe weights; torchvision's: its own), which no factor converts.
TORCH_FEATURE_SCALE = 255.0 * (0.229 + 0.224 + 0.225) / 3.0


def layer_channels(tap: str) -> int:
    """Channels of a canonical VGG19 tap (``relu3_3`` → 256)."""
    return VGG19_BLOCKS[int(tap[4]) - 1][0]


def from_torch_weights(
    content_weight: float, style_weight: float, depth_weight: float, style_layers: Sequence[str]
) -> dict:
    """A PyTorch-VGG objective's weights in tfstyle's units, the same objective up to one factor.

    PyTorch style-transfer code (the PyTorch tutorial's losses, which the thesis builds on) takes
    content = mean((F − Fc)²) and style = mean((G − Gs)²) per layer with G = FᵀF / (C·H·W);
    tfstyle takes the same content mean and G = ΦᵀΦ / (H·W) (`tfstyle.losses`). With Φ = k·F
    (`TORCH_FEATURE_SCALE`): content_tf = k²·content, G_tf = k²·C·G, style_tf = k⁴·C²·style;
    the depth loss sees the image, not VGG features, and does not change. Multiplying the whole
    objective by k² keeps the content weight:

        content' = content,  style' = style / k²,  layer weight' = 1 / C_l²,  depth' = depth · k²
    """
    k2 = TORCH_FEATURE_SCALE**2
    taps = [canonical_tap(t) for t in style_layers]
    return {
        "content_weight": content_weight,
        "style_weight": style_weight / k2,
        "style_layer_weights": tuple(1.0 / layer_channels(t) ** 2 for t in taps),
        "depth_weight": depth_weight * k2,
    }


#: A paper's whole setting (`tfstyle optimize --preset NAME`), in tfstyle's units; a flag left at
#: its default takes the preset's value.
PAPER_SETTINGS: dict[str, dict] = {
    # Kozlovtsev 2019 (shared/specs/depth.md): β (style) 1000, γ (depth) 20, content α from 1 (far)
    # to 5 (near), 512×640 images, the image average-pooled ×2 before the depth network; no total
    # variation term. β and γ converted from its PyTorch VGG's scale by `from_torch_weights`.
    "kozlovtsev2019": {
        **from_torch_weights(1.0, 1000.0, 20.0, PRESETS["kozlovtsev2019"][1]),
        "depth_content_weights": (1.0, 5.0),
        "depth_downscale": 2,
        "size": 640,
        "tv_weight": 0.0,
    },
    # Nedeljković 2023: Adam at its learning rate, carried from 0–255; its weights and iteration
    # counts are the subject of its figures (examples/papers/nedeljkovic_2023_alpha_beta.py)
    "nedeljkovic2023": {"optimizer": "adam", "learning_rate": NEDELJKOVIC_LEARNING_RATE},
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
    #: style statistics as the features' covariance (each channel's mean taken away) instead of
    #: Gatys' uncentred Gram matrix
    centred_gram: bool = False
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
