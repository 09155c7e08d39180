"""``tfstyle depth``: a relative depth map (hourglass network) as a picture and raw."""

from __future__ import annotations

import os

from tfstyle.cli.args import check_max_size, positive_int

#: Smallest side the hourglass runs at (its inception blocks' 11x11 kernels at 1/8 scale).
DEPTH_MIN_SIDE = 16


def add_parser(sub) -> None:
    p = sub.add_parser(
        "depth",
        help="relative depth map of an image (hourglass network)",
        description="Predict relative depth (Chen et al. 2016): larger = farther.",
    )
    p.add_argument("--input", required=True, help="image")
    p.add_argument("--output", required=True, help="colour-mapped depth picture (.png/.jpg/.webp)")
    p.add_argument("--raw", metavar="NPY", help="also save the raw depth as a float32 .npy")
    p.add_argument("--depth-weights", metavar="PATH|random", help="hourglass .weights.h5")
    p.add_argument("--max-size", type=positive_int, default=640, help="longer side (default 640)")
    p.set_defaults(run=run)


def run(args) -> int:
    import io

    import numpy as np

    from tfstyle import image as image_lib
    from tfstyle import weights as weights_lib
    from tfstyle.files import check_writable, write_atomic

    image_lib.check_output_path(args.output)
    if args.raw:
        check_writable(args.raw, "--raw", extension=".npy")
    check_max_size(args.max_size, DEPTH_MIN_SIDE)
    weights = weights_lib.resolve_weights(args.depth_weights, weights_lib.HOURGLASS)
    image = image_lib.load_fitted(args.input, args.max_size, min_side=DEPTH_MIN_SIDE)

    from tfstyle.colormap import colorize
    from tfstyle.models.depth import build_hourglass

    depth = build_hourglass(weights)(image[None]).numpy()[0, :, :, 0]
    if args.raw:
        buffer = io.BytesIO()
        np.save(buffer, depth.astype(np.float32))
        write_atomic(args.raw, buffer.getvalue())
    try:
        image_lib.save_image(args.output, colorize(depth))
    except BaseException:  # both outputs or neither
        if args.raw:
            os.unlink(args.raw)
        raise
    print(f"wrote {args.output}" + (f" and {args.raw}" if args.raw else ""))
    return 0
