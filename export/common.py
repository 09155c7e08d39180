"""What the export programs share: the one-line error exit, the Stylizer loader and
the portrait-settings flags."""

from __future__ import annotations

import sys

from absl import app, flags

from tfstyle.errors import EXIT_BAD_INPUT, TfstyleError
from tfstyle.settings import BLENDS, PortraitSettings

FLAGS = flags.FLAGS


class ExportError(TfstyleError):
    """An export that cannot be written as asked (the message says why and what to do)."""


def run(main, program: str) -> None:
    """`app.run(main)`, turning a `TfstyleError` into one stderr line and exit status 2."""

    def guarded(argv):
        try:
            return main(argv)
        except TfstyleError as e:
            print(f"{program}: error: {e}", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)

    app.run(guarded)


def load_stylizer(weights: str | None, *, dtype: str = "float32", chunk_size=None):
    """A `Stylizer` from a weights folder (default: the Keras cache), or random for tests."""
    from tfstyle import weights as weights_lib
    from tfstyle.models.sanet_weights import load_stylizer

    return load_stylizer(
        weights_lib.resolve_weights(weights, weights_lib.SANET), dtype=dtype, chunk_size=chunk_size
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
    flags.DEFINE_enum(
        "blend", defaults.blend, BLENDS, "composite features (one decoder pass) or pixels (two)"
    )
    flags.DEFINE_float("feather", defaults.feather, "mask softening σ, fraction of the shorter side")


def portrait_settings_from_flags() -> PortraitSettings:
    levels = lambda values: tuple(float(v) for v in values)  # noqa: E731
    settings = PortraitSettings(
        person_alpha=FLAGS.person_alpha,
        person_levels=levels(FLAGS.person_levels),
        background_alpha=FLAGS.background_alpha,
        background_levels=levels(FLAGS.background_levels),
        blend=FLAGS.blend,
        feather=FLAGS.feather,
    )
    settings.validate()
    return settings
