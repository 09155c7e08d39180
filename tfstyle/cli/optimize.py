"""``tfstyle optimize``: Gatys optimisation transfer, with the depth-aware terms."""

from __future__ import annotations

import dataclasses
import os

from tfstyle.cli.args import add_precision, csv, finite, positive_int
from tfstyle.image import DEFAULT_MAX_PIXELS, MIN_SIDE
from tfstyle.optimization.settings import (
    INITS,
    OPTIMIZERS,
    PAPER_SETTINGS,
    PRESETS,
    TV_VARIANTS,
    OptimizeConfig,
)


def add_parser(sub) -> None:
    d = OptimizeConfig()
    p = sub.add_parser(
        "optimize",
        help="optimisation style transfer (Gatys et al. 2016)",
        description="Optimise an image to have the content of --content and the "
        "style of --style (Gatys, Ecker & Bethge 2016).",
    )
    io = p.add_argument_group("images")
    io.add_argument("--content", required=True, help="content image (JPEG/PNG/WebP/...)")
    io.add_argument("--style", required=True, help="style image")
    io.add_argument("--output", required=True, help="result image; .png, .jpg or .webp")
    io.add_argument(
        "--size",
        type=positive_int,
        default=512,
        help="longer side of the result in pixels (default %(default)s)",
    )
    io.add_argument(
        "--style-scale",
        type=finite,
        default=d.style_scale,
        help="style image's longer side relative to the result's (default %(default)s)",
    )
    io.add_argument(
        "--max-pixels",
        type=positive_int,
        default=DEFAULT_MAX_PIXELS,
        help="refuse inputs with more pixels than this (default %(default)s)",
    )
    io.add_argument(
        "--snapshot-every",
        type=int,
        default=0,
        metavar="N",
        help="also save OUTPUT-stem.stepNNNNN.ext every N steps",
    )
    loss = p.add_argument_group("objective")
    loss.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=d.preset,
        help="layer choice (default %(default)s); kozlovtsev2019 and nedeljkovic2023 also set that "
        "paper's weights, depth terms, size or learning rate (converted to tfstyle's scales) wherever "
        "a flag is left at its default",
    )
    loss.add_argument("--content-layers", type=csv(str), help="e.g. relu4_2 (overrides the preset)")
    loss.add_argument("--style-layers", type=csv(str), help="e.g. relu1_1,relu2_1,relu3_1")
    loss.add_argument("--style-layer-weights", type=csv(float), help="one weight per style layer")
    loss.add_argument(
        "--content-weight",
        type=finite,
        default=d.content_weight,
        help="weight of the content loss (default %(default)s)",
    )
    loss.add_argument(
        "--style-weight",
        type=finite,
        default=d.style_weight,
        help="weight of the style loss (default %(default)s)",
    )
    loss.add_argument(
        "--tv-weight",
        type=finite,
        default=d.tv_weight,
        help="weight of the total variation (default %(default)s)",
    )
    loss.add_argument(
        "--tv-variant",
        choices=TV_VARIANTS,
        default=d.tv_variant,
        help="total variation form (default %(default)s)",
    )
    loss.add_argument("--tv-beta", type=finite, default=d.tv_beta, help="exponent of the power TV")
    loss.add_argument(
        "--centred-gram",
        action="store_true",
        help="style statistics: the features' covariance (channel means taken away), not the Gram matrix",
    )
    loss.add_argument(
        "--preserve-color",
        action="store_true",
        help="transfer on luminance only and keep the content's colours",
    )
    depth = p.add_argument_group("depth (Liu et al. 2017; Kozlovtsev 2019)")
    depth.add_argument(
        "--depth-weight",
        type=finite,
        default=0.0,
        metavar="GAMMA",
        help="weight of the depth loss: the result's depth map must match the "
        "content's (needs --depth-weights)",
    )
    depth.add_argument(
        "--depth-content-weights",
        type=csv(float),
        metavar="A_MIN,A_MAX",
        help="per-pixel content weights from the content's depth: nearest A_MAX, "
        "farthest A_MIN, log-spaced (needs --depth-weights)",
    )
    depth.add_argument(
        "--depth-weights",
        metavar="PATH|random",
        help="hourglass depth network (.weights.h5 from python -m training.depth)",
    )
    depth.add_argument(
        "--depth-downscale",
        type=positive_int,
        default=2,
        help="average-pool the image by this factor before the depth network",
    )
    depth.add_argument(
        "--content-weight-map",
        metavar="PATH",
        help="grayscale image of per-pixel content weights (grey value in [0, 1])",
    )
    run_group = p.add_argument_group("optimisation")
    run_group.add_argument(
        "--optimizer", choices=OPTIMIZERS, default=d.optimizer, help="Adam or L-BFGS-B (default %(default)s)"
    )
    run_group.add_argument("--steps", type=positive_int, default=d.steps, help="steps per scale")
    run_group.add_argument("--learning-rate", type=finite, default=d.learning_rate, help="Adam only")
    run_group.add_argument(
        "--init", choices=INITS, default=d.init, help="starting image (default %(default)s)"
    )
    run_group.add_argument("--seed", type=int, default=d.seed, help="seed of the noise init")
    run_group.add_argument(
        "--tolerance",
        type=finite,
        default=d.tolerance,
        help="stop when the loss fell by less than this fraction over the last 10 steps "
        "(default %(default)s; 0 runs every step)",
    )
    run_group.add_argument(
        "--scales",
        type=positive_int,
        default=d.scales,
        help="coarse-to-fine levels, halving the size per level",
    )
    add_precision(
        run_group,
        "loss-network precision; auto = float32 (a bfloat16 loss network stalls short of the "
        "float32 loss); fast = bfloat16 where the device has it, ~2x faster per step",
    )
    run_group.add_argument(
        "--vgg-weights",
        default=None,
        metavar="PATH|random",
        help="VGG19 weights file (keras-applications notop .h5); 'random' for "
        "tests only; default: download once to the Keras cache",
    )
    run_group.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run, default_of=p.get_default)


def apply_paper_settings(args) -> dict:
    """`PAPER_SETTINGS` of ``--preset`` for every option left at its default; returns what was set."""
    applied = {}
    for name, value in PAPER_SETTINGS.get(args.preset, {}).items():
        if getattr(args, name) == args.default_of(name):
            setattr(args, name, list(value) if isinstance(value, tuple) else value)
            applied[name] = value
    if applied:
        from absl import logging

        logging.info("--preset %s: %s", args.preset, ", ".join(f"{k}={v}" for k, v in applied.items()))
    return applied


def run(args) -> int:
    from tfstyle import image as image_lib
    from tfstyle import weights as weights_lib
    from tfstyle.errors import ConfigError

    # everything knowable from the command line is refused before any image or network loads
    apply_paper_settings(args)
    image_lib.check_output_path(args.output)
    if args.size < MIN_SIDE:
        raise ConfigError(f"--size {args.size} is too small; the network needs at least {MIN_SIDE}")
    config = OptimizeConfig(
        preset=args.preset,
        content_layers=args.content_layers,
        style_layers=args.style_layers,
        style_layer_weights=args.style_layer_weights,
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        tv_variant=args.tv_variant,
        tv_beta=args.tv_beta,
        centred_gram=args.centred_gram,
        optimizer=args.optimizer,
        steps=args.steps,
        learning_rate=args.learning_rate,
        init=args.init,
        seed=args.seed,
        tolerance=args.tolerance,
        scales=args.scales,
        style_scale=args.style_scale,
        preserve_color=args.preserve_color,
    )
    config.validate()

    from tfstyle.optimization.depth_objective import DepthOptions

    depth = DepthOptions(
        depth_weight=args.depth_weight,
        content_weights=tuple(args.depth_content_weights) if args.depth_content_weights else None,
        depth_weights=args.depth_weights,
        downscale=args.depth_downscale,
    )
    depth.validate(with_map=bool(args.content_weight_map))
    if depth.needs_depth and args.depth_weights != weights_lib.RANDOM:
        weights_lib.resolve_weights(args.depth_weights, weights_lib.HOURGLASS)  # fail fast

    load = dict(max_pixels=args.max_pixels, min_side=MIN_SIDE)
    content = image_lib.load_image(args.content, **load)
    style = image_lib.load_image(args.style, **load)
    check_built_sizes(content.shape[:2], style.shape[:2], args)
    content = image_lib.fit(content, args.size)
    # the images are fine: only now may the loss network's weights be downloaded
    vgg_weights = weights_lib.resolve_weights(args.vgg_weights, weights_lib.VGG19_IMAGENET)

    from absl import logging

    from tfstyle.optimization.depth_objective import depth_options
    from tfstyle.optimization.optimize import GatysTransfer, snapshot_callback

    weight_map = None
    if args.content_weight_map:
        weight_map = image_lib.load_mask(
            args.content_weight_map, content.shape[:2], option="--content-weight-map"
        )
    extra_terms, weight_map = depth_options(
        dataclasses.replace(depth, content_weight_map=weight_map), content
    )
    transfer = GatysTransfer(
        vgg_weights, precision=args.precision, taps=[*config.layers()[0], *config.layers()[1]]
    )
    logging.info("content %dx%d, loss network in %s", content.shape[1], content.shape[0], transfer.policy)
    callback = None
    if args.snapshot_every > 0:
        stem, ext = os.path.splitext(args.output)
        callback = snapshot_callback(
            lambda step, img: image_lib.save_image(f"{stem}.step{step:05d}{ext}", img), args.snapshot_every
        )
    result = transfer.run(
        content,
        style,
        config,
        callback=callback,
        verbose=not args.quiet,
        extra_terms=extra_terms,
        content_weight_map=weight_map,
    )
    image_lib.save_image(args.output, result.image)
    last = result.history[-1]
    print(
        f"wrote {args.output} ({result.image.shape[1]}x{result.image.shape[0]}) after "
        f"{result.steps} steps in {result.seconds:.1f} s; final loss {last['total']:.4g}"
    )
    return 0


def check_built_sizes(content_hw, style_hw, args) -> None:
    """--max-pixels bounds every image the run builds (the result at --size, the style at
    --style-scale) and every --scales level must stay at least MIN_SIDE px a side."""
    from tfstyle.errors import ConfigError
    from tfstyle.image import fitted_size
    from tfstyle.optimization.optimize import pyramid_sizes

    h, w = fitted_size(content_hw[0], content_hw[1], args.size)
    sh, sw = fitted_size(style_hw[0], style_hw[1], round(max(h, w) * args.style_scale))
    for what, (a, b), fix in (("the result", (h, w), "--size"), ("the style", (sh, sw), "--style-scale")):
        if a * b > args.max_pixels:
            raise ConfigError(
                f"{fix} {getattr(args, fix[2:].replace('-', '_'))} makes {what} {b}x{a} = {a * b} "
                f"pixels, over --max-pixels {args.max_pixels}; lower {fix} or raise --max-pixels"
            )
    levels = len(pyramid_sizes(h, w, args.scales))
    if levels < args.scales:
        raise ConfigError(
            f"--scales {args.scales} at {w}x{h} halves the image below {MIN_SIDE} px; "
            f"use --scales {levels} or a larger --size"
        )
