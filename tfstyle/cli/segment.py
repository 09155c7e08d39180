"""``tfstyle segment``: the soft person mask of an image."""

from __future__ import annotations

from tfstyle.cli.args import add_segmenter, check_max_size, positive_int

#: Smallest side the segmenters are run at (SegNet pools five times; MediaPipe resizes).
SEGMENT_MIN_SIDE = 16


def add_parser(sub) -> None:
    p = sub.add_parser(
        "segment",
        help="person mask of an image",
        description="Soft person mask (white = person) at the image's size.",
    )
    p.add_argument("--input", required=True, help="image")
    p.add_argument("--output", required=True, help="mask image (.png recommended)")
    add_segmenter(p)
    p.add_argument("--max-size", type=positive_int, default=1024, help="longer side (default 1024)")
    p.set_defaults(run=run)


def run(args) -> int:
    import numpy as np

    from tfstyle import image as image_lib
    from tfstyle.portraits.segment import make_segmenter

    image_lib.check_output_path(args.output)
    check_max_size(args.max_size, SEGMENT_MIN_SIDE)
    image = image_lib.load_fitted(args.input, args.max_size, min_side=SEGMENT_MIN_SIDE)
    mask = make_segmenter(args.segmenter).segment(image)
    image_lib.save_image(args.output, np.repeat(mask[..., None], 3, axis=-1))
    print(f"wrote {args.output} (person covers {100 * float((mask > 0.5).mean()):.1f}% of the image)")
    return 0
