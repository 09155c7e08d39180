"""Person segmentation: the TFLite backend on real portraits against rough hand-made masks."""

import dataclasses

import numpy as np
import pytest
from helpers import DATA, PORTRAIT, SELFIE_MODEL

from tfstyle.errors import WeightsError
from tfstyle.image import load_image

pytest.importorskip("ai_edge_litert", reason="the TFLite segmenter needs pip install 'tfstyle[export]'")
from tfstyle.portraits.segment import TFLiteSegmenter, make_segmenter  # noqa: E402

MODEL = SELFIE_MODEL


def ellipse(yy, xx, cy, cx, ry, rx):
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1


def rough_mask(name, shape):
    """Drawn by eye from the pictures, in fractions of height and width."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    yy, xx = yy / shape[0], xx / shape[1]
    if name == "grace_hopper.jpg":
        return ellipse(yy, xx, 0.33, 0.5, 0.3, 0.27) | ((yy > 0.55) & (xx > 0.05))
    if name == "woman_smiling_portrait.jpg":
        return ellipse(yy, xx, 0.47, 0.5, 0.47, 0.42) | ((yy > 0.85) & (xx > 0.05) & (xx < 0.95))
    if name == "man_selfie_with_sheep.jpg":
        return ellipse(yy, xx, 0.36, 0.305, 0.27, 0.13) | ((yy > 0.58) & (xx < 0.47 + 0.2 * (yy - 0.58)))
    raise KeyError(name)


@pytest.fixture(scope="module")
def segmenter():
    return TFLiteSegmenter(str(MODEL))


@pytest.mark.parametrize(
    "name", ["grace_hopper.jpg", "woman_smiling_portrait.jpg", "man_selfie_with_sheep.jpg"]
)
def test_tflite_mask_covers_the_person_not_the_corners(segmenter, name):
    image = load_image(DATA / name, max_side=512)
    mask = segmenter.segment(image)
    assert mask.shape == image.shape[:2] and 0.0 <= mask.min() and mask.max() <= 1.0
    reference = rough_mask(name, mask.shape)
    predicted = mask > 0.5
    iou = (predicted & reference).sum() / (predicted | reference).sum()
    print(f"{name}: IoU with the hand-made mask {iou:.3f}")
    assert iou >= 0.75
    h, w = mask.shape
    assert mask[: h // 10, : w // 10].mean() < 0.1 and mask[: h // 10, -w // 10 :].mean() < 0.1


def test_registry_entry_and_bad_model(tmp_path, offline):
    import hashlib

    from tfstyle import weights

    spec = weights.get_spec("selfie-segmentation")
    assert hashlib.sha256(MODEL.read_bytes()).hexdigest() == spec.file_hash
    # offline with an empty cache, the copy inside the package is used (after its hash check)
    assert weights.resolve_weights(None, spec) == str(MODEL.resolve())
    make_segmenter("tflite")
    unbundled = dataclasses.replace(spec, bundled=None)
    with pytest.raises(WeightsError, match="TFSTYLE_OFFLINE"):
        weights.resolve_weights(None, unbundled)  # not cached, offline: the one-line download error
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(PORTRAIT.read_bytes())
    with pytest.raises(WeightsError, match="cannot load as a TFLite model"):
        TFLiteSegmenter(str(bad))
