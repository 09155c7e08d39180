"""Kozlovtsev 2019, Figs. 11–13: plain, depth-weighted content, depth loss, and both.

The thesis's four-way comparison with its setting (`tfstyle optimize --preset kozlovtsev2019`:
content relu2_2, style relu1_2/2_2/3_3/4_3, β and γ converted to this VGG's scale, α from 1 to 5,
the image halved before the depth network, 640 px): the same content and style optimised four
times, each picture with the depth map of its result.

Needs: VGG19 ImageNet weights (downloaded once on a connected machine, or --vgg-weights PATH)
and a trained hourglass (--depth-weights, from `python -m training.depth`; none is published).

    python examples/papers/kozlovtsev_2019_four_way.py --content photo.jpg --style painting.jpg \\
        --depth-weights runs/depth/export/hourglass.weights.h5 [--steps 500]
"""

import os

from common import DATA, STYLES, cli, done, output_folder, parser, strip


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--content", default=os.path.join(DATA, "colonnade_walkway_depth.jpg"))
    p.add_argument("--style", default=os.path.join(STYLES, "vangogh_starry_night.jpg"))
    p.add_argument("--depth-weights", help="hourglass .weights.h5 (required unless --smoke)")
    p.add_argument("--vgg-weights", default=None, help="VGG19 notop .h5 (default: the Keras cache)")
    p.add_argument("--steps", type=int, default=500)
    args = p.parse_args()
    if not args.smoke and not args.depth_weights:
        p.error("--depth-weights is required: a .weights.h5 from python -m training.depth")
    from tfstyle.colormap import colorize
    from tfstyle.image import load_image, save_image
    from tfstyle.models.depth import build_hourglass
    from tfstyle.optimization.settings import PAPER_SETTINGS, PRESETS

    s = PAPER_SETTINGS["kozlovtsev2019"]
    content_layers, style_layers = PRESETS["kozlovtsev2019"]
    depth_weights = "random" if args.smoke else args.depth_weights
    common = [
        "--content", args.content, "--style", args.style, "--quiet",
        "--content-layers", ",".join(content_layers), "--style-layers", ",".join(style_layers),
        "--style-layer-weights", ",".join(str(w) for w in s["style_layer_weights"]),
        "--content-weight", s["content_weight"], "--style-weight", s["style_weight"], "--tv-weight", 0,
        "--size", 48 if args.smoke else s["size"], "--steps", 2 if args.smoke else args.steps,
        "--depth-downscale", s["depth_downscale"],
        "--vgg-weights", "random" if args.smoke else (args.vgg_weights or ""),
    ]  # fmt: skip
    if not args.smoke and not args.vgg_weights:
        common = common[:-2]  # the registered download
    weighted = ["--depth-content-weights", "1,5", "--depth-weights", depth_weights]
    loss = ["--depth-weight", s["depth_weight"], "--depth-weights", depth_weights]
    variants = {
        "plain": [],
        "depth-weighted content": weighted,
        "depth loss": loss,
        "both": weighted + loss[:2],
    }
    folder = output_folder(args, "kozlovtsev_2019_four_way")
    hourglass = build_hourglass(None if args.smoke else args.depth_weights)
    row, depths = [load_image(args.content)], []
    for name, extra in variants.items():
        out = os.path.join(folder, name.replace(" ", "_") + ".png")
        cli("optimize", *common, *extra, "--output", out)
        image = load_image(out)
        row.append(image)
        h, w = (d - d % 16 for d in image.shape[:2])
        depths.append(colorize(hourglass(image[None, :h, :w]).numpy()[0, :, :, 0]))
    path = os.path.join(folder, "four_way.png")
    save_image(path, strip(row))
    save_image(os.path.join(folder, "four_way_depth.png"), strip(depths))
    done(args, path, "content | " + " | ".join(variants) + " (depth maps in four_way_depth.png)")


if __name__ == "__main__":
    main()
