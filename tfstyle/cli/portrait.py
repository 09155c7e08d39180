"""``tfstyle portrait``: person-aware stylization, SANet or Magenta (Berezin & Volkova 2019)."""

from __future__ import annotations

import os

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
from tfstyle.settings import BLENDS, FACE_PARTS, REGIONS, PortraitSettings, portrait_settings_from

SEGMENTER_HELP = (
    "tflite: MediaPipe selfie segmentation (downloaded once, or a local .tflite as "
    "tflite:PATH); segnet:PATH: a SegNet .weights.h5 (default %(default)s)"
)


def add_parser(sub) -> None:
    d = PortraitSettings()
    p = sub.add_parser(
        "portrait",
        help="portrait-aware stylization (SANet or Magenta)",
        description="Strong style on the background, content-preserving style on "
        "the person, composited by a person mask (Berezin & Volkova 2019).",
    )
    p.add_argument("--content", required=True, help="portrait photo")
    p.add_argument("--style", help="style image")
    p.add_argument("--style-features", metavar="NPZ", help="cached style features instead of --style")
    p.add_argument("--output", required=True, help="result image")
    for region, where in (("person", "the person"), ("background", "the background"), ("face", "the faces")):
        p.add_argument(
            f"--{region}-alpha",
            type=finite,
            default=getattr(d, f"{region}_alpha"),
            help=f"content-style trade-off (Magenta: strength) on {where} (default %(default)s)",
        )
        p.add_argument(
            f"--{region}-levels",
            type=csv(float),
            default=list(getattr(d, f"{region}_levels")),
            metavar="W1,W2",
            help=f"relu4_1/relu5_1 level weights on {where} (default %(default)s; SANet only)",
        )
    p.add_argument(
        "--face-parts",
        type=csv(str),
        default=list(d.face_parts),
        metavar="PARTS",
        help=f"face region: some of {','.join(FACE_PARTS)} (default %(default)s)",
    )
    p.add_argument(
        "--person-crop",
        action="store_true",
        help="crop mode: stylize the person's box again on its own, cut from the full-resolution "
        "photo with --max-size applying to the crop, and lay it over the stylized frame",
    )
    p.add_argument(
        "--no-face-crop",
        action="store_true",
        help="stylize the faces within the frame only (by default their box is stylized again "
        "at --max-size, which keeps small faces recognisable)",
    )
    p.add_argument(
        "--no-faces",
        action="store_true",
        help="no face region: person and background only (no face detection)",
    )
    p.add_argument(
        "--blend",
        choices=BLENDS,
        default=d.blend,
        help="auto (feature for SANet, pixel for Magenta); feature: blend features, one pass; "
        "pixel: one pass per region, blend images",
    )
    p.add_argument(
        "--feather",
        type=finite,
        default=d.feather,
        help="mask softening, Gaussian sigma as a fraction of the shorter side",
    )
    p.add_argument("--segmenter", default="tflite", metavar="tflite[:PATH]|segnet:PATH", help=SEGMENTER_HELP)
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
    p.set_defaults(run=run)


def run(args) -> int:
    import numpy as np

    from tfstyle import image as image_lib
    from tfstyle.errors import ConfigError

    image_lib.check_output_path(args.output)
    if args.save_mask:
        image_lib.check_output_path(args.save_mask, "--save-mask")
    if bool(args.style) == bool(args.style_features):
        raise ConfigError("pass --style or --style-features (not both)")
    args.model = args.model or "sanet"
    d = PortraitSettings()
    refuse_sanet_only(args, {f"--{r}-levels": list(getattr(d, f"{r}_levels")) for r in REGIONS})
    settings = portrait_settings_from(args)
    check_max_size(args.max_size)
    check_memory_budget(args)

    from tfstyle.style_features import load_style

    features = load_style(args.style_features) if args.style_features else None
    if features is not None:
        features.check_made_by(args.model, "", args.style_features)
    content = image_lib.load_fitted(args.content, args.max_size)
    style = image_lib.load_fitted(args.style, args.max_size) if args.style else None
    mask = image_lib.load_mask(args.mask, content.shape[:2]) if args.mask else None

    from tfstyle.portrait import PortraitStylizer
    from tfstyle.segment import make_segmenter

    stylizer = load_network(args)
    segmenter = None if mask is not None else make_segmenter(args.segmenter)
    finder = None
    if not args.no_faces:
        from tfstyle.faces import FaceFinder

        finder = FaceFinder()
    crop = {}
    if args.person_crop:  # the crop is cut from the photo as loaded, not from the fitted frame
        crop = {"person_crop": args.max_size, "source": image_lib.load_image(args.content)}
    result = PortraitStylizer(stylizer, segmenter, finder).stylize(
        content, style, style_features=features, settings=settings, mask=mask, **crop
    )
    image_lib.save_image(args.output, result.image)
    if args.save_mask:
        try:
            image_lib.save_image(args.save_mask, np.repeat(result.mask[..., None], 3, axis=-1))
        except BaseException:  # both outputs or neither
            os.unlink(args.output)
            raise
    print(f"wrote {args.output}" + (f" and {args.save_mask}" if args.save_mask else ""))
    return 0
