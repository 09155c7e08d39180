"""Park & Lee 2019, Fig. 6: what the identity loss does — SANet trained with and without it.

Trains SANet twice on your data with the paper's recipe (`training.sanet --recipe paper`), once
as published (λ_identity1 = 1, λ_identity2 = 50) and once without the identity terms (both 0),
then stylizes one content/style pair with each: the paper's figure shows the content structure
kept only with the identity loss.

Needs: content and style folders (MS-COCO, WikiArt), the normalised VGG19 (`tfstyle weights
import-sanet` writes it), and time (the paper trains 160 000 steps; --steps sets it).

    python examples/papers/park_lee_2019_fig6_loss_ablation.py --content_dir coco/ --style_dir wikiart/ \\
        --vgg_weights ~/.keras/models/tfstyle-sanet --steps 160000
"""

import os
import subprocess
import sys

from common import DATA, ROOT, STYLES, done, output_folder, parser, strip


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--content_dir")
    p.add_argument("--style_dir")
    p.add_argument("--vgg_weights")
    p.add_argument("--steps", type=int, default=160_000)
    p.add_argument("--content", default=os.path.join(DATA, "grace_hopper.jpg"))
    p.add_argument("--style", default=os.path.join(STYLES, "vangogh_starry_night.jpg"))
    args = p.parse_args()
    folder = output_folder(args, "park_lee_2019_fig6")
    if args.smoke:
        import numpy as np
        from PIL import Image

        rng = np.random.default_rng(0)
        for kind in ("content", "style"):
            os.makedirs(os.path.join(folder, kind), exist_ok=True)
            for i in range(4):
                pixels = rng.integers(0, 256, (72, 64, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(os.path.join(folder, kind, f"{i}.png"))
        args.content_dir, args.style_dir = (os.path.join(folder, k) for k in ("content", "style"))
        args.vgg_weights, args.steps = "random", 2
    elif not (args.content_dir and args.style_dir and args.vgg_weights):
        p.error("--content_dir, --style_dir and --vgg_weights are required (or --smoke)")
    size = ["--image_size=64", "--crop_size=64", "--batch_size=2"] if args.smoke else []
    from tfstyle import stylize
    from tfstyle.image import load_image, save_image

    row = [load_image(args.content)]
    for name, identity in (("with_identity", ("1", "50")), ("without_identity", ("0", "0"))):
        run_dir = os.path.join(folder, name)
        command = [sys.executable, "-m", "training.sanet", f"--content_dir={args.content_dir}",
                   f"--style_dir={args.style_dir}", f"--vgg_weights={args.vgg_weights}",
                   f"--model_dir={run_dir}", f"--steps={args.steps}", "--recipe=paper",
                   f"--identity1_weight={identity[0]}", f"--identity2_weight={identity[1]}",
                   *size]  # fmt: skip
        subprocess.run(command, check=True, cwd=ROOT)
        max_size = 64 if args.smoke else 512
        exported = os.path.join(run_dir, "export")
        row.append(
            stylize(
                args.content,
                args.style,
                model="sanet",
                weights=exported,
                max_size=max_size,
                precision="float32",
            )
        )
    path = os.path.join(folder, "fig6.png")
    save_image(path, strip(row))
    done(args, path, "content | with the identity loss | without it")


if __name__ == "__main__":
    main()
