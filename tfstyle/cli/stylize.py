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
    load_network,
    positive_int,
    refuse_sanet_only,
)
from tfstyle.precision import FEED_FORWARD_HELP
from tfstyle.settings import COLOR_MODES, check_builtin_styles


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
    from tfstyle import controls
    from tfstyle import image as image_lib
    from tfstyle.errors import ConfigError
    from tfstyle.files import check_folder_writable, check_writable

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
        args.model = "builtin"
    args.model = args.model or "sanet"
    refuse_sanet_only(args, {"--level-weights": [1.0, 1.0], "--max-style-positions": None})
    alpha = controls.check_alpha(args.alpha, "--alpha")
    level_weights = controls.check_level_weights(args.level_weights, "--level-weights")
    count = len(args.style) + len(args.style_features) + len(builtin)
    controls.convex_weights(args.style_weights, count)
    if args.mask and len(args.mask) != count:
        raise ConfigError(f"{len(args.mask)} --mask for {count} styles; give one per style")
    check_memory_budget(args)
    check_max_size(args.max_size)
    folder_mode = os.path.isdir(args.content)
    if folder_mode:
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
        from tfstyle.folder import folder_inputs

        inputs = folder_inputs(args.content, args.output)  # refuses an empty folder now
    else:
        image_lib.check_output_path(args.output)
    if args.save_style_features:
        if len(args.style) != 1:
            raise ConfigError("--save-style-features needs exactly one --style")
        check_writable(args.save_style_features, "--save-style-features", extension=".npz")
    from tfstyle.style_features import load_style

    cached = [load_style(path) for path in args.style_features]
    for path, encoded in zip(args.style_features, cached):
        encoded.check_made_by(args.model, "", path)
    load = {"max_pixels": args.max_pixels} if args.max_pixels else {}
    styles = [image_lib.load_fitted(path, args.max_size, **load) for path in args.style]
    content = None if folder_mode else image_lib.load_fitted(args.content, args.max_size, **load)

    sanet_kwargs = {"max_style_positions": args.max_style_positions}
    stylizer = load_network(args, **(sanet_kwargs if args.model == "sanet" else {}))
    if cached:
        features = cached
    elif builtin:
        features = None
    elif args.preserve_color:
        features = None  # colour matching depends on each content: encode per image
    else:
        features = [stylizer.encode_style(s) for s in styles]  # once, for every content

    def save_style_features():
        if args.save_style_features:
            # the encoding made for this run, unless colour matching left none to reuse
            encoded = features[0] if features is not None else stylizer.encode_style(styles[0])
            encoded.save(args.save_style_features)
            print(f"wrote style features to {args.save_style_features}")

    def stylize_one(content):
        masks = [image_lib.load_mask(path, content.shape[:2], option="--mask") for path in args.mask]
        from tfstyle.networks import stylize

        return stylize(
            stylizer,
            content,
            styles if features is None and not builtin else None,
            encoded=builtin or features,
            alpha=alpha,
            style_weights=args.style_weights,
            masks=masks or None,
            preserve_color=args.preserve_color,
            level_weights=level_weights,
        )

    if folder_mode:
        from tfstyle.folder import stylize_folder

        report = stylize_folder(
            stylize_one,
            args.content,
            args.output,
            max_size=args.max_size,
            progress=not args.quiet,
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
    started = time.perf_counter()
    result = stylize_one(content)
    image_lib.save_image(args.output, result)
    try:
        save_style_features()
    except BaseException:  # both outputs or neither
        os.unlink(args.output)
        raise
    print(
        f"wrote {args.output} ({result.shape[1]}x{result.shape[0]}) in {time.perf_counter() - started:.1f} s"
    )
    return 0
