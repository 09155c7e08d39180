"""``tfstyle stylize``: feed-forward transfer (SANet or Magenta) of one image or a folder tree."""

from __future__ import annotations

import os
import time

from tfstyle.cli.args import (
    add_memory_budget,
    add_model,
    add_precision,
    check_max_size,
    check_memory_budget,
    csv,
    finite,
    positive_int,
    report_precision,
    settings_from_args,
)
from tfstyle.models.registry import COLOR_MODES, check_builtin_styles
from tfstyle.precision import FEED_FORWARD_HELP


def add_parser(sub) -> None:
    p = sub.add_parser(
        "stylize",
        help="feed-forward arbitrary style transfer (SANet or Magenta)",
        description="Stylize content image(s) with any style in one pass: SANet (Park & Lee 2019) "
        "or Magenta's arbitrary stylization network (Ghiasi et al. 2017).",
    )
    p.add_argument("--content", required=True, help="content image, or a folder of images")
    p.add_argument("--style", action="append", default=[], help="style image; repeat to mix styles")
    p.add_argument(
        "--builtin-style",
        action="append",
        type=int,
        default=[],
        metavar="N",
        help="one of the 26 built-in styles (0-25; Dumoulin et al. 2017's network, real weights "
        "with tfstyle[magenta]) instead of --style; repeat to mix",
    )
    p.add_argument(
        "--style-features",
        action="append",
        default=[],
        metavar="NPZ",
        help="cached style features (from --save-style-features) instead of --style",
    )
    p.add_argument("--output", required=True, help="result image, or a folder when --content is one")
    p.add_argument(
        "--style-weights",
        type=csv(float),
        help="one weight per style (convex mix); write negative lists as --style-weights=-1,2",
    )
    p.add_argument(
        "--alpha",
        type=finite,
        default=1.0,
        help="content-style trade-off in [0, 1], 1 = full style (default %(default)s); "
        "Magenta: the strength (identity interpolation of the style vector)",
    )
    p.add_argument(
        "--mask",
        action="append",
        default=[],
        help="grayscale mask per style (white = that style), resized to the content",
    )
    p.add_argument(
        "--level-weights",
        type=csv(float),
        default=[1.0, 1.0],
        metavar="W1,W2",
        help="weights of the relu4_1 and relu5_1 attention levels (default 1,1; SANet only)",
    )
    p.add_argument(
        "--max-size",
        type=positive_int,
        default=1024,
        help="longer side of content and style is at most this (default %(default)s)",
    )
    p.add_argument("--preserve-color", choices=COLOR_MODES, help="keep the content's colours")
    p.add_argument("--save-style-features", metavar="NPZ", help="write the style's features to reuse")
    add_model(p)
    add_precision(p, FEED_FORWARD_HELP)
    add_memory_budget(p)
    p.add_argument(
        "--max-style-positions",
        type=positive_int,
        default=None,
        help="resize style features above this many relu4_1 positions (inexact; SANet)",
    )
    p.add_argument("--max-pixels", type=positive_int, default=None, help="refuse larger inputs")
    p.add_argument("--quiet", action="store_true", help="no progress bar in folder mode")
    p.set_defaults(run=run)


def run(args) -> int:
    from tfstyle.errors import ConfigError

    # everything knowable from the command line is refused before any image or network loads
    builtin = args.builtin_style
    if sum(map(bool, (args.style, args.style_features, builtin))) != 1:
        raise ConfigError("pass one of --style, --style-features or --builtin-style")
    if builtin:
        check_builtin_styles(builtin, "--builtin-style")
        if args.model:
            raise ConfigError("--builtin-style runs the 26-style network; drop --model")
        if args.alpha != 1.0:
            raise ConfigError(
                "--alpha: a built-in style has no content-as-style identity to blend with; drop it"
            )
        if args.save_style_features or args.preserve_color == "histogram":
            raise ConfigError("a built-in style has no style image: drop --save-style-features and histogram")
        if args.memory_budget_mb != 256.0:
            raise ConfigError("the 26-style network runs whole; drop --memory-budget-mb")
    settings = settings_from_args(args)
    if settings.model != "sanet":
        for option, value, default in (
            ("--level-weights", args.level_weights, [1.0, 1.0]),
            ("--max-style-positions", args.max_style_positions, None),
        ):
            if value != default:
                other = "--builtin-style" if builtin else f"--model {settings.model}"
                raise ConfigError(f"{option} is a SANet control; drop it with {other}")
    from tfstyle.checks import check_alpha, check_level_weights

    check_alpha(args.alpha, "--alpha")
    check_level_weights(args.level_weights, "--level-weights")
    return run_pipeline(args, settings)


def run_pipeline(args, settings, *, save_mask: str | None = None) -> int:
    """One image or a folder tree through the pipeline `settings` make (``stylize`` and ``portrait``)."""
    from tfstyle import image as image_lib
    from tfstyle.errors import ConfigError
    from tfstyle.files import check_folder_writable, check_writable

    check_memory_budget(args)  # the flag's own words before the settings' generic ones
    check_max_size(args.max_size)
    settings.validate()
    folder_mode = os.path.isdir(args.content)
    if folder_mode:
        if save_mask:
            raise ConfigError("--save-mask writes one mask: give one --content image, not a folder")
        if os.path.splitext(args.output)[1] or os.path.isfile(args.output):
            raise ConfigError(
                f"--output {args.output}: --content is a folder, so --output must be a folder too"
            )
        existing = (
            args.output if os.path.isdir(args.output) else os.path.dirname(os.path.abspath(args.output))
        )
        if not os.path.isdir(existing):
            raise ConfigError(f"--output {args.output}: folder {existing} does not exist; create it first")
        check_folder_writable(existing)
        from tfstyle.batch.folder import folder_inputs

        inputs = folder_inputs(args.content, args.output)  # refuses an empty folder now
    else:
        image_lib.check_output_path(args.output)
    if save_mask:
        image_lib.check_output_path(save_mask, "--save-mask")
    save_features = getattr(args, "save_style_features", None)
    if save_features:
        if len(settings.styles) != 1:
            raise ConfigError("--save-style-features needs exactly one --style")
        check_writable(save_features, "--save-style-features", extension=".npz")
    from tfstyle.style_features import load_style

    for path in settings.style_features:  # a file from another network: refused before any work
        load_style(path).check_made_by(settings.model, "", path)
    load = {"max_pixels": settings.max_pixels} if settings.max_pixels else {}
    content = None if folder_mode else image_lib.load_fitted(args.content, args.max_size, **load)

    from tfstyle.pipeline import Pipeline

    pipeline = Pipeline(settings)
    report_precision(args, pipeline.network)

    def save_style_features():
        if save_features:
            # the encoding made for this run, unless colour matching left none to reuse
            encoded = pipeline.encoded
            style = (
                encoded[0] if encoded is not None else pipeline.network.encode_style(pipeline.style_images[0])
            )
            style.save(save_features)
            print(f"wrote style features to {save_features}")

    if folder_mode:
        from tfstyle.batch.folder import stylize_folder

        report = stylize_folder(
            pipeline.stylize_fitted,
            args.content,
            args.output,
            max_size=args.max_size,
            progress=not getattr(args, "quiet", False),
            inputs=inputs,
            **load,
        )
        save_style_features()
        if report.failed:
            raise ConfigError(
                f"{len(report.failed)} of {len(report.failed) + len(report.written)} "
                f"images failed (listed above); the rest are in {args.output}"
            )
        print(f"wrote {len(report.written)} images to {args.output} in {report.seconds:.1f} s")
        return 0
    assert content is not None
    started = time.perf_counter()
    portrait = settings.portrait
    # crop mode cuts its crops from the photo as loaded, not from the fitted frame
    source = image_lib.load_image(args.content) if portrait is not None and portrait.person_crop else None
    mask = image_lib.load_mask(args.mask, content.shape[:2]) if portrait is not None and args.mask else None
    result = pipeline.run(content, source=source, mask=mask)
    image_lib.save_image(args.output, result.image)
    try:
        save_style_features()
        if save_mask:
            import numpy as np

            image_lib.save_image(save_mask, np.repeat(result.mask[..., None], 3, axis=-1))
    except BaseException:  # every output or none
        os.unlink(args.output)
        raise
    also = f" and {save_mask}" if save_mask else ""
    height, width = result.image.shape[:2]
    print(f"wrote {args.output}{also} ({width}x{height}) in {time.perf_counter() - started:.1f} s")
    return 0
