"""``tfstyle depth``: a relative depth map (hourglass network) as a picture and raw."""

from __future__ import annotations

from tfstyle.cli.args import positive_int


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
    from tfstyle.errors import ConfigError

    image_lib.check_output_path(args.output)
    if args.raw and not args.raw.endswith(".npy"):
        raise ConfigError(f"--raw {args.raw}: use a .npy file name")
    image = image_lib.fit(image_lib.load_image(args.input, min_side=16), args.max_size, upscale=False)

    from tfstyle.colormap import colorize
    from tfstyle.depth_objective import load_depth_model
    from tfstyle.files import write_atomic

    depth = load_depth_model(args.depth_weights)(image[None]).numpy()[0, :, :, 0]
    if args.raw:
        buffer = io.BytesIO()
        np.save(buffer, depth.astype(np.float32))
        write_atomic(args.raw, buffer.getvalue())
    image_lib.save_image(args.output, colorize(depth))
    print(f"wrote {args.output}" + (f" and {args.raw}" if args.raw else ""))
    return 0
