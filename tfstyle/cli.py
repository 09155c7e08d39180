"""The ``tfstyle`` command.

Subcommands: ``optimize`` (Gatys optimisation transfer), ``stylize`` (SANet
feed-forward transfer), ``portrait`` (person-aware SANet), ``depth`` and
``segment`` (depth map, person mask) and ``weights`` (list, fetch, locate or
import published weights). Bad input prints one line,
``tfstyle: error: ...``, on stderr and exits with code 2 without writing
any output file.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

import numpy as np

from tfstyle.errors import TfstyleError

EXIT_BAD_INPUT = 2


def _csv(kind):
    def parse(text: str):
        try:
            return [kind(item) for item in text.split(",") if item.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}") from None
    return parse


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _add_optimize(sub) -> None:
    from tfstyle.image import DEFAULT_MAX_PIXELS
    from tfstyle.optimize import INITS, OPTIMIZERS, PRESETS, OptimizeConfig
    from tfstyle.losses import TV_VARIANTS
    from tfstyle.precision import PRECISIONS

    d = OptimizeConfig()
    p = sub.add_parser("optimize", help="optimisation style transfer (Gatys et al. 2016)",
                       description="Optimise an image to have the content of --content and the "
                                   "style of --style (Gatys, Ecker & Bethge 2016).")
    io = p.add_argument_group("images")
    io.add_argument("--content", required=True, help="content image (JPEG/PNG/WebP/...)")
    io.add_argument("--style", required=True, help="style image")
    io.add_argument("--output", required=True, help="result image; .png, .jpg or .webp")
    io.add_argument("--size", type=_positive_int, default=512,
                    help="longer side of the result in pixels (default %(default)s)")
    io.add_argument("--style-scale", type=float, default=d.style_scale,
                    help="style image's longer side relative to the result's (default %(default)s)")
    io.add_argument("--max-pixels", type=_positive_int, default=DEFAULT_MAX_PIXELS,
                    help="refuse inputs with more pixels than this (default %(default)s)")
    io.add_argument("--snapshot-every", type=int, default=0, metavar="N",
                    help="also save OUTPUT-stem.stepNNNNN.ext every N steps")
    loss = p.add_argument_group("objective")
    loss.add_argument("--preset", choices=sorted(PRESETS), default=d.preset,
                      help="layer choice (default %(default)s)")
    loss.add_argument("--content-layers", type=_csv(str), help="e.g. relu4_2 (overrides the preset)")
    loss.add_argument("--style-layers", type=_csv(str), help="e.g. relu1_1,relu2_1,relu3_1")
    loss.add_argument("--style-layer-weights", type=_csv(float), help="one weight per style layer")
    loss.add_argument("--content-weight", type=float, default=d.content_weight)
    loss.add_argument("--style-weight", type=float, default=d.style_weight)
    loss.add_argument("--tv-weight", type=float, default=d.tv_weight)
    loss.add_argument("--tv-variant", choices=TV_VARIANTS, default=d.tv_variant)
    loss.add_argument("--tv-beta", type=float, default=d.tv_beta, help="exponent of the power TV")
    loss.add_argument("--preserve-color", action="store_true",
                      help="transfer on luminance only and keep the content's colours")
    depth = p.add_argument_group("depth (Liu et al. 2017; Kozlovtsev 2019)")
    depth.add_argument("--depth-weight", type=float, default=0.0, metavar="GAMMA",
                       help="weight of the depth loss: the result's depth map must match the "
                            "content's (needs --depth-weights)")
    depth.add_argument("--depth-content-weights", type=_csv(float), metavar="A_MIN,A_MAX",
                       help="per-pixel content weights from the content's depth: nearest A_MAX, "
                            "farthest A_MIN, log-spaced (needs --depth-weights)")
    depth.add_argument("--depth-weights", metavar="PATH|random",
                       help="hourglass depth network (.weights.h5 from python -m training.depth)")
    depth.add_argument("--depth-downscale", type=_positive_int, default=2,
                       help="average-pool the image by this factor before the depth network")
    depth.add_argument("--content-weight-map", metavar="PATH",
                       help="grayscale image of per-pixel content weights (grey value in [0, 1])")
    run = p.add_argument_group("optimisation")
    run.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer)
    run.add_argument("--steps", type=_positive_int, default=d.steps, help="steps per scale")
    run.add_argument("--learning-rate", type=float, default=d.learning_rate, help="Adam only")
    run.add_argument("--init", choices=INITS, default=d.init)
    run.add_argument("--seed", type=int, default=d.seed, help="seed of the noise init")
    run.add_argument("--tolerance", type=float, default=d.tolerance,
                     help="stop when the relative decrease of the loss falls below this")
    run.add_argument("--scales", type=_positive_int, default=d.scales,
                     help="coarse-to-fine levels, halving the size per level")
    run.add_argument("--precision", choices=PRECISIONS, default="auto",
                     help="loss-network precision; auto = bfloat16 where the device has it")
    run.add_argument("--vgg-weights", default=None, metavar="PATH|random",
                     help="VGG19 weights file (keras-applications notop .h5); 'random' for "
                          "tests only; default: download once to the Keras cache")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_run_optimize)


def _run_optimize(args) -> int:
    from absl import logging

    from tfstyle import image as image_lib
    from tfstyle import weights as weights_lib
    from tfstyle.models.vgg import MIN_SIDE
    from tfstyle.optimize import GatysTransfer, OptimizeConfig, snapshot_callback

    image_lib.check_output_path(args.output)
    if args.size < MIN_SIDE:
        raise TfstyleError(f"--size {args.size} is too small; the network needs at least {MIN_SIDE}")
    load = dict(max_pixels=args.max_pixels, min_side=MIN_SIDE)
    content = image_lib.load_image(args.content, max_side=args.size, **load)
    style = image_lib.load_image(args.style, **load)
    config = OptimizeConfig(
        preset=args.preset, content_layers=args.content_layers, style_layers=args.style_layers,
        style_layer_weights=args.style_layer_weights, content_weight=args.content_weight,
        style_weight=args.style_weight, tv_weight=args.tv_weight, tv_variant=args.tv_variant,
        tv_beta=args.tv_beta, optimizer=args.optimizer, steps=args.steps,
        learning_rate=args.learning_rate, init=args.init, seed=args.seed,
        tolerance=args.tolerance, scales=args.scales, style_scale=args.style_scale,
        preserve_color=args.preserve_color)
    config.validate()
    vgg_weights = "imagenet"
    if args.vgg_weights == weights_lib.RANDOM:
        logging.warning("--vgg-weights random: the loss network is untrained, so the output is "
                        "not a stylization (use this for tests only)")
        vgg_weights = None
    elif args.vgg_weights is not None:
        vgg_weights = weights_lib.resolve(weights_lib.VGG19_IMAGENET, args.vgg_weights)
    extra_terms, weight_map = _depth_options(args, content, load)
    transfer = GatysTransfer(vgg_weights, precision=args.precision,
                             taps=[*config.layers()[0], *config.layers()[1]])
    logging.info("content %dx%d, loss network in %s", content.shape[1], content.shape[0],
                 transfer.policy)
    callback = None
    if args.snapshot_every > 0:
        stem, ext = os.path.splitext(args.output)
        callback = snapshot_callback(
            lambda step, img: image_lib.save_image(f"{stem}.step{step:05d}{ext}", img),
            args.snapshot_every)
    result = transfer.run(content, style, config, callback=callback, verbose=not args.quiet,
                          extra_terms=extra_terms, content_weight_map=weight_map)
    image_lib.save_image(args.output, result.image)
    last = result.history[-1]
    print(f"wrote {args.output} ({result.image.shape[1]}x{result.image.shape[0]}) after "
          f"{result.steps} steps in {result.seconds:.1f} s; final loss {last['total']:.4g}")
    return 0


IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def _add_stylize(sub) -> None:
    from tfstyle.models.sanet import COLOR_MODES
    from tfstyle.precision import PRECISIONS

    p = sub.add_parser("stylize", help="feed-forward arbitrary style transfer (SANet)",
                       description="Stylize content image(s) with any style in one pass "
                                   "(Park & Lee 2019, SANet).")
    p.add_argument("--content", required=True, help="content image, or a folder of images")
    p.add_argument("--style", action="append", default=[], help="style image; repeat to mix styles")
    p.add_argument("--style-features", action="append", default=[], metavar="NPZ",
                   help="cached style features (from --save-style-features) instead of --style")
    p.add_argument("--output", required=True, help="result image, or a folder when --content is one")
    p.add_argument("--style-weights", type=_csv(float), help="one weight per style (convex mix)")
    p.add_argument("--alpha", type=float, default=1.0, help="content-style trade-off in [0, 1]")
    p.add_argument("--mask", action="append", default=[],
                   help="grayscale mask per style (white = that style), resized to the content")
    p.add_argument("--level-weights", type=_csv(float), default=[1.0, 1.0], metavar="W1,W2",
                   help="weights of the relu4_1 and relu5_1 attention levels (default 1,1)")
    p.add_argument("--max-size", type=_positive_int, default=1024,
                   help="longer side of content and style is at most this (default %(default)s)")
    p.add_argument("--preserve-color", choices=COLOR_MODES, help="keep the content's colours")
    p.add_argument("--save-style-features", metavar="NPZ", help="write the style's features to reuse")
    p.add_argument("--weights", metavar="DIR|random",
                   help="folder of converted SANet weights (default: the Keras cache, "
                        "see 'tfstyle weights import-sanet'); 'random' for tests only")
    p.add_argument("--precision", choices=PRECISIONS, default="auto")
    p.add_argument("--memory-budget-mb", type=float, default=256.0,
                   help="bound on attention memory; larger inputs are processed in chunks")
    p.add_argument("--max-style-positions", type=int, default=None,
                   help="resize style features above this many relu4_1 positions (inexact)")
    p.add_argument("--max-pixels", type=_positive_int, default=None, help="refuse larger inputs")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=_run_stylize)


def _list_images(folder: str) -> list[str]:
    return sorted(os.path.join(root, name) for root, _, names in os.walk(folder) for name in names
                  if name.lower().endswith(IMAGE_EXTENSIONS))


def _run_stylize(args) -> int:
    from tfstyle import image as image_lib
    from tfstyle.models import sanet
    from tfstyle.models.vgg import MIN_SIDE
    from tfstyle.precision import dtype_policy

    load = dict(min_side=MIN_SIDE, max_side=None)
    if args.max_pixels:
        load["max_pixels"] = args.max_pixels
    if bool(args.style) == bool(args.style_features):
        raise TfstyleError("pass --style or --style-features (not both)")
    if len(args.level_weights) != 2:
        raise TfstyleError("--level-weights takes two numbers, W1,W2")
    folder_mode = os.path.isdir(args.content)
    if folder_mode:
        contents = _list_images(args.content)
        if not contents:
            raise TfstyleError(f"{args.content}: no images (jpg, png, webp, bmp, tif) in this folder")
        if os.path.splitext(args.output)[1]:
            raise TfstyleError(f"--output {args.output}: --content is a folder, so --output must be "
                               f"a folder too")
    else:
        contents = [args.content]
        image_lib.check_output_path(args.output)
    styles = [image_lib.fit(image_lib.load_image(path, **load), args.max_size, upscale=False)
              for path in args.style]
    masks = [image_lib.load_image(path, min_side=1)[..., 0] for path in args.mask]
    if args.save_style_features and len(styles) != 1:
        raise TfstyleError("--save-style-features needs exactly one --style")

    stylizer = sanet.Stylizer.from_weights(
        sanet.resolve_weights_dir(args.weights), dtype=dtype_policy(args.precision), memory_budget_mb=args.memory_budget_mb,
        max_style_positions=args.max_style_positions)
    if args.style_features:
        features = [sanet.StyleFeatures.load(path) for path in args.style_features]
    else:
        features = None
    if args.save_style_features:
        stylizer.encode_style(styles[0]).save(args.save_style_features)
        print(f"wrote style features to {args.save_style_features}")
    if folder_mode:
        os.makedirs(args.output, exist_ok=True)
    import keras
    bar = keras.utils.Progbar(len(contents), unit_name="image") if folder_mode and not args.quiet else None
    failed = 0
    for i, path in enumerate(contents):
        out_path = args.output
        if folder_mode:
            rel = os.path.relpath(path, args.content)
            out_path = os.path.join(args.output, os.path.splitext(rel)[0] + ".png")
            os.makedirs(os.path.dirname(out_path), exist_ok=True)
        try:
            content = image_lib.fit(image_lib.load_image(path, **load), args.max_size, upscale=False)
            size_masks = [image_lib.resize(np.repeat(m[..., None], 3, -1), content.shape[:2])[..., 0]
                          for m in masks] or None
            result = stylizer.stylize(
                content, styles if features is None else None, style_features=features,
                alpha=args.alpha, style_weights=args.style_weights, masks=size_masks,
                level_weights=tuple(args.level_weights), preserve_color=args.preserve_color)
            image_lib.save_image(out_path, result)
        except TfstyleError as e:
            if not folder_mode:
                raise
            failed += 1
            print(f"tfstyle: error: {e}", file=sys.stderr)
        if bar is not None:
            bar.update(i + 1)
    if failed:
        raise TfstyleError(f"{failed} of {len(contents)} images failed (listed above); the rest "
                           f"are in {args.output}")
    print(f"wrote {args.output}" + (f" ({len(contents)} images)" if folder_mode else ""))
    return 0


def _load_depth_model(path):
    from absl import logging

    from tfstyle import weights as weights_lib
    from tfstyle.models.depth import build_hourglass

    if path is None:
        raise TfstyleError("depth terms need --depth-weights PATH (train one with python -m "
                           "training.depth) or --depth-weights random for tests")
    if path == weights_lib.RANDOM:
        logging.warning("--depth-weights random: the depth network is untrained (tests only)")
        return build_hourglass(None)
    if not os.path.isfile(path):
        raise TfstyleError(f"--depth-weights {path}: no such file; pass a .weights.h5 file")
    return build_hourglass(path)


def _depth_options(args, content, load):
    """(extra objective terms, content weight map) from the depth options."""
    from tfstyle import image as image_lib
    from tfstyle.optimize import DepthTerm
    from tfstyle.weight_maps import depth_to_alpha

    if args.depth_weight < 0:
        raise TfstyleError(f"--depth-weight must be >= 0, got {args.depth_weight}")
    if args.depth_content_weights is not None and len(args.depth_content_weights) != 2:
        raise TfstyleError("--depth-content-weights takes two numbers, A_MIN,A_MAX")
    if args.depth_content_weights and args.content_weight_map:
        raise TfstyleError("pass --depth-content-weights or --content-weight-map, not both")
    weight_map = None
    if args.content_weight_map:
        grey = image_lib.load_image(args.content_weight_map, min_side=1)[..., 0]
        weight_map = image_lib.resize(np.repeat(grey[..., None], 3, -1), content.shape[:2])[..., 0]
    need_depth = args.depth_weight > 0 or args.depth_content_weights
    if not need_depth:
        return (), weight_map
    model = _load_depth_model(args.depth_weights)
    if args.depth_content_weights:
        a_min, a_max = args.depth_content_weights
        if not 0 < a_min <= a_max:
            raise TfstyleError(f"--depth-content-weights needs 0 < A_MIN <= A_MAX, got {a_min},{a_max}")
        depth = model(content[None]).numpy()[0, :, :, 0]
        weight_map = depth_to_alpha(depth, a_min, a_max)
    if args.depth_weight > 0:
        downscale = args.depth_downscale
        return (lambda level_content: [DepthTerm(model, level_content, args.depth_weight,
                                                 downscale)]), weight_map
    return (), weight_map


def _add_depth(sub) -> None:
    p = sub.add_parser("depth", help="relative depth map of an image (hourglass network)",
                       description="Predict relative depth (Chen et al. 2016): larger = farther.")
    p.add_argument("--input", required=True, help="image")
    p.add_argument("--output", required=True, help="colour-mapped depth picture (.png/.jpg/.webp)")
    p.add_argument("--raw", metavar="NPY", help="also save the raw depth as a float32 .npy")
    p.add_argument("--depth-weights", metavar="PATH|random", help="hourglass .weights.h5")
    p.add_argument("--max-size", type=_positive_int, default=640, help="longer side (default 640)")
    p.set_defaults(handler=_run_depth)


def _run_depth(args) -> int:
    from tfstyle import image as image_lib
    from tfstyle.colormap import colorize

    image_lib.check_output_path(args.output)
    if args.raw and not args.raw.endswith(".npy"):
        raise TfstyleError(f"--raw {args.raw}: use a .npy file name")
    image = image_lib.load_image(args.input, min_side=16)
    image = image_lib.fit(image, args.max_size, upscale=False)
    model = _load_depth_model(args.depth_weights)
    depth = model(image[None]).numpy()[0, :, :, 0]
    if args.raw:
        import io

        from tfstyle.files import write_atomic
        buffer = io.BytesIO()
        np.save(buffer, depth.astype(np.float32))
        write_atomic(args.raw, buffer.getvalue())
    image_lib.save_image(args.output, colorize(depth))
    print(f"wrote {args.output}" + (f" and {args.raw}" if args.raw else ""))
    return 0


def _add_portrait(sub) -> None:
    from tfstyle.portrait import BLENDS, PortraitSettings
    from tfstyle.precision import PRECISIONS

    d = PortraitSettings()
    p = sub.add_parser("portrait", help="portrait-aware SANet stylization",
                       description="Strong style on the background, content-preserving style on "
                                   "the person, composited by a person mask (Berezin & Volkova 2019).")
    p.add_argument("--content", required=True, help="portrait photo")
    p.add_argument("--style", help="style image")
    p.add_argument("--style-features", metavar="NPZ", help="cached style features instead of --style")
    p.add_argument("--output", required=True, help="result image")
    p.add_argument("--person-alpha", type=float, default=d.person_alpha)
    p.add_argument("--background-alpha", type=float, default=d.background_alpha)
    p.add_argument("--person-levels", type=_csv(float), default=list(d.person_levels), metavar="W1,W2")
    p.add_argument("--background-levels", type=_csv(float), default=list(d.background_levels),
                   metavar="W1,W2")
    p.add_argument("--blend", choices=BLENDS, default=d.blend,
                   help="feature: blend features, decode once; pixel: decode twice, blend images")
    p.add_argument("--feather", type=float, default=d.feather,
                   help="mask softening, Gaussian sigma as a fraction of the shorter side")
    p.add_argument("--segmenter", default="tflite", metavar="tflite[:PATH]|segnet:PATH")
    p.add_argument("--mask", help="use this person mask (grayscale, white = person) instead")
    p.add_argument("--save-mask", metavar="PATH", help="also write the (feathered) mask used")
    p.add_argument("--weights", metavar="DIR|random", help="SANet weights folder (see stylize)")
    p.add_argument("--max-size", type=_positive_int, default=1024)
    p.add_argument("--precision", choices=PRECISIONS, default="auto")
    p.set_defaults(handler=_run_portrait)


def _run_portrait(args) -> int:
    from tfstyle import image as image_lib
    from tfstyle.models import sanet
    from tfstyle.models.vgg import MIN_SIDE
    from tfstyle.portrait import PortraitSettings, PortraitStylizer
    from tfstyle.precision import dtype_policy
    from tfstyle.segment import make_segmenter

    image_lib.check_output_path(args.output)
    if args.save_mask:
        image_lib.check_output_path(args.save_mask)
    if bool(args.style) == bool(args.style_features):
        raise TfstyleError("pass --style or --style-features (not both)")
    settings = PortraitSettings(
        person_alpha=args.person_alpha, person_levels=tuple(args.person_levels),
        background_alpha=args.background_alpha, background_levels=tuple(args.background_levels),
        blend=args.blend, feather=args.feather)
    settings.validate()
    content = image_lib.fit(image_lib.load_image(args.content, min_side=MIN_SIDE), args.max_size,
                            upscale=False)
    style = features = mask = None
    if args.style:
        style = image_lib.fit(image_lib.load_image(args.style, min_side=MIN_SIDE), args.max_size,
                              upscale=False)
    else:
        features = sanet.StyleFeatures.load(args.style_features)
    if args.mask:
        grey = image_lib.load_image(args.mask, min_side=1)[..., 0]
        mask = image_lib.resize(np.repeat(grey[..., None], 3, -1), content.shape[:2])[..., 0]
    segmenter = None if mask is not None else make_segmenter(args.segmenter)
    stylizer = sanet.Stylizer.from_weights(sanet.resolve_weights_dir(args.weights),
                                           dtype=dtype_policy(args.precision))
    result = PortraitStylizer(stylizer, segmenter).stylize(
        content, style, style_features=features, settings=settings, mask=mask)
    image_lib.save_image(args.output, result.image)
    if args.save_mask:
        image_lib.save_image(args.save_mask, np.repeat(result.mask[..., None], 3, axis=-1))
    print(f"wrote {args.output}" + (f" and {args.save_mask}" if args.save_mask else ""))
    return 0


def _add_segment(sub) -> None:
    p = sub.add_parser("segment", help="person mask of an image",
                       description="Soft person mask (white = person) at the image's size.")
    p.add_argument("--input", required=True, help="image")
    p.add_argument("--output", required=True, help="mask image (.png recommended)")
    p.add_argument("--segmenter", default="tflite", metavar="tflite[:PATH]|segnet:PATH",
                   help="tflite: MediaPipe selfie segmentation (downloaded once, or a local "
                        ".tflite); segnet:PATH: a SegNet .weights.h5 (default %(default)s)")
    p.add_argument("--max-size", type=_positive_int, default=1024, help="longer side (default 1024)")
    p.set_defaults(handler=_run_segment)


def _run_segment(args) -> int:
    from tfstyle import image as image_lib
    from tfstyle.segment import make_segmenter

    image_lib.check_output_path(args.output)
    image = image_lib.fit(image_lib.load_image(args.input, min_side=16), args.max_size, upscale=False)
    mask = make_segmenter(args.segmenter).segment(image)
    image_lib.save_image(args.output, np.repeat(mask[..., None], 3, axis=-1))
    print(f"wrote {args.output} (person covers {100 * float((mask > 0.5).mean()):.1f}% of the image)")
    return 0


def _add_weights(sub) -> None:
    p = sub.add_parser("weights", help="list, fetch or locate published weights",
                       description="Published weights are downloaded once into the Keras cache "
                                   "($KERAS_HOME or ~/.keras) and checked against their hash.")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="each registered file, its URL and whether it is cached")
    fetch = actions.add_parser("fetch", help="download a registered file into the cache")
    fetch.add_argument("name")
    imp = actions.add_parser("import-sanet", help="convert the published PyTorch SANet files",
                             description="Convert vgg_normalised.pth, decoder_iter_*.pth and "
                                         "transformer_iter_*.pth (GlebSBrykin/SANET) into the folder "
                                         "'tfstyle stylize' reads. Needs pip install 'tfstyle[torch]'.")
    imp.add_argument("--vgg", required=True, help="vgg_normalised.pth")
    imp.add_argument("--decoder", required=True, help="decoder_iter_500000.pth")
    imp.add_argument("--transformer", required=True, help="transformer_iter_500000.pth")
    imp.add_argument("--output", help="folder to write (default: where 'tfstyle stylize' looks)")
    p.set_defaults(handler=_run_weights)


def _run_weights(args) -> int:
    from tfstyle import weights as weights_lib

    if args.action == "list":
        for spec in weights_lib.REGISTRY.values():
            path = weights_lib.cached_path(spec)
            state = "cached" if os.path.isfile(path) else "not cached"
            print(f"{spec.name}: {spec.description}\n  url:   {spec.url}\n  cache: {path} ({state})"
                  f"\n  local: {spec.option} PATH")
        return 0
    if args.action == "import-sanet":
        from tfstyle.importers.sanet_torch import import_sanet
        from tfstyle.models.sanet import default_weights_dir

        output = args.output or default_weights_dir()
        import_sanet(args.vgg, args.decoder, args.transformer, output)
        print(f"wrote SANet weights to {output}")
        return 0
    print(weights_lib.resolve(args.name))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfstyle", description=__doc__.split("\n\n")[0])
    from tfstyle import __version__
    parser.add_argument("--version", action="version", version=f"tfstyle {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_optimize(sub)
    _add_stylize(sub)
    _add_portrait(sub)
    _add_depth(sub)
    _add_segment(sub)
    _add_weights(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out
    from absl import logging

    logging.set_verbosity(logging.INFO)
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except TfstyleError as e:
        print(f"tfstyle: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tfstyle: interrupted; no output written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
