"""``tfstyle portrait``: person-aware stylization, SANet or Magenta (Berezin & Volkova 2019)."""

from __future__ import annotations

import os

from tfstyle.cli.args import (
    add_memory_budget,
    add_model,
    add_portrait_options,
    add_precision,
    positive_int,
    settings_from_args,
)
from tfstyle.precision import FEED_FORWARD_HELP


def add_parser(sub) -> None:
    p = sub.add_parser(
        "portrait",
        help="portrait-aware stylization (SANet or Magenta)",
        description="Strong style on the background, content-preserving style on "
        "the person, composited by a person mask (Berezin & Volkova 2019).",
    )
    p.add_argument("--content", required=True, help="portrait photo, or a folder of them")
    p.add_argument("--style", help="style image")
    p.add_argument("--style-features", metavar="NPZ", help="cached style features instead of --style")
    p.add_argument("--output", required=True, help="result image, or a folder when --content is one")
    add_portrait_options(p)
    p.add_argument("--mask", help="use this person mask (grayscale, white = person) instead")
    p.add_argument("--save-mask", metavar="PATH", help="also write the (feathered) mask used")
    add_model(p)
    p.add_argument(
        "--max-size",
        type=positive_int,
        default=1024,
        help="longer side of content and style is at most this (default %(default)s)",
    )
    add_precision(p, FEED_FORWARD_HELP)
    add_memory_budget(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar in folder mode")
    p.set_defaults(run=run)


def run(args) -> int:
    from tfstyle.cli.stylize import run_pipeline
    from tfstyle.errors import ConfigError
    from tfstyle.portraits.settings import portrait_settings_from

    if bool(args.style) == bool(args.style_features):
        raise ConfigError("pass --style or --style-features (not both)")
    if args.mask and os.path.isdir(args.content):
        raise ConfigError("--mask is one photo's person mask: give one --content image, not a folder")
    return run_pipeline(
        args, settings_from_args(args, portrait_settings_from(args)), save_mask=args.save_mask
    )
