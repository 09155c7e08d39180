"""Nedeljković 2023: how the content/style weight ratio α/β and the number of iterations change
an optimisation-based stylization (a grid of ratios, and snapshots along one run).

Runs `tfstyle optimize --preset nedeljkovic2023`: TensorFlow's tutorial layers (content
block5_conv2, style block1_conv1 … block5_conv1) and Adam. The paper's learning rate 10 is for a
0–255 image; tfstyle optimises a [0, 1] image, so the same step is 10/255 ≈ 0.039. The ratios
and iteration counts of the paper's figures are flags; the defaults span the usual range and are
not taken from the paper (its text is not reachable here).

Needs: VGG19 ImageNet weights (downloaded once on a connected machine, or --vgg-weights PATH).

    python examples/papers/nedeljkovic_2023_alpha_beta.py --content photo.jpg --style painting.jpg
"""

import os

from common import DATA, STYLES, cli, done, output_folder, parser, strip


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--content", default=os.path.join(DATA, "grace_hopper.jpg"))
    p.add_argument("--style", default=os.path.join(STYLES, "vangogh_starry_night.jpg"))
    p.add_argument("--ratios", default="1e-1,1e-2,1e-3,1e-4", help="content/style weight ratios α/β")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--snapshots", default="100,250,500,1000", help="iterations shown for the middle ratio")
    p.add_argument("--vgg-weights", default=None)
    p.add_argument("--size", type=int, default=512)
    args = p.parse_args()
    from tfstyle.image import load_image, save_image

    folder = output_folder(args, "nedeljkovic_2023")
    steps, size = (4, 48) if args.smoke else (args.steps, args.size)
    vgg = "random" if args.smoke else args.vgg_weights
    weights = ["--vgg-weights", vgg] if vgg else []
    base = ["--content", args.content, "--style", args.style, "--preset", "nedeljkovic2023",
            "--size", size, "--quiet", "--content-weight", 1, *weights]  # fmt: skip
    ratios = [float(r) for r in args.ratios.split(",")]
    grid = [load_image(args.content)]
    for ratio in ratios:  # α/β with α = 1
        out = os.path.join(folder, f"ratio_{ratio:g}.png")
        cli("optimize", *base, "--style-weight", 1.0 / ratio, "--steps", steps, "--output", out)
        grid.append(load_image(out))
    middle = ratios[len(ratios) // 2]
    marks = [min(int(s), steps) for s in args.snapshots.split(",")] if not args.smoke else [2, 4]
    snapshot_every = min(marks)
    out = os.path.join(folder, "run.png")
    cli("optimize", *base, "--style-weight", 1.0 / middle, "--steps", max(marks), "--output", out,
        "--snapshot-every", snapshot_every)  # fmt: skip
    snaps = [
        load_image(os.path.join(folder, f"run.step{m:05d}.png")) for m in marks if m % snapshot_every == 0
    ]
    save_image(os.path.join(folder, "ratios.png"), strip(grid))
    path = os.path.join(folder, "iterations.png")
    save_image(path, strip(snaps))
    done(
        args, path, f"ratios.png: content | α/β = {args.ratios}; iterations.png: α/β = {middle:g} at {marks}"
    )


if __name__ == "__main__":
    main()
