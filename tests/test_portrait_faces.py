"""The portrait's third region (faces) and crop mode, on Magenta's real weights and SANet's random ones."""

import numpy as np
import pytest
from helpers import DATA, PAINTING, trained_like

from tfstyle.cli import main
from tfstyle.image import load_image, resize
from tfstyle.models.sanet import SANetStylizer
from tfstyle.portraits.compose import PortraitStylizer, person_box
from tfstyle.portraits.settings import PortraitSettings

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def content():
    return load_image(DATA / "woman_smiling_portrait.jpg", max_side=256)


def strength(network, content, style, alpha):
    """Magenta at one strength everywhere: the reference each region must equal."""
    return network.stylize(content, style, strength=alpha)


def test_each_of_three_regions_gets_its_own_strength(magenta, content):
    style = load_image(PAINTING, max_side=256)
    h, w = content.shape[:2]
    person = np.zeros((h, w), np.float32)
    person[:, : w // 2] = 1.0
    face = np.zeros((h, w), np.float32)
    face[: h // 2, : w // 4] = 1.0  # inside the person
    settings = PortraitSettings(person_alpha=0.5, face_alpha=0.1, feather=0.0, blend="auto", face_crop=False)
    out = PortraitStylizer(magenta).stylize(content, style, mask=person, face_mask=face, settings=settings)
    for alpha, region in ((0.1, face > 0), (0.5, (person > 0) & (face == 0)), (1.0, person == 0)):
        expected = strength(magenta, content, style, alpha)
        assert np.abs(out.image - expected)[region].max() <= 1e-5, alpha
    assert out.face_mask is not None and out.face_mask.max() == 1.0


def test_face_crop_stylizes_the_faces_box_at_face_crop_side(magenta):
    """By default the face's box (plus 25 %) is stylized again at 256 px (`face_crop_side`) and
    laid over the face region; nothing outside the face mask changes."""
    source = load_image(DATA / "two_women_cycling_tree_path.jpg")  # 1024×682, faces ~60 px
    frame = resize(source, (341, 512))
    style = load_image(PAINTING, max_side=256)
    person = np.zeros(frame.shape[:2], np.float32)
    person[100:300, 150:350] = 1.0
    face = np.zeros(frame.shape[:2], np.float32)
    face[140:160, 200:220] = 1.0
    portrait = PortraitStylizer(magenta)
    cropped = portrait.stylize(frame, style, mask=person, face_mask=face, source=source)
    settings = PortraitSettings(face_crop=False)
    flat = portrait.stylize(frame, style, mask=person, face_mask=face, source=source, settings=settings)
    softened = cropped.face_mask > 0
    np.testing.assert_array_equal(cropped.image[~softened], flat.image[~softened])
    y0, x0, y1, x1 = person_box(cropped.face_mask, margin=0.25)
    box = source[2 * y0 : 2 * y1, 2 * x0 : 2 * x1]
    from tfstyle.image import fit

    alone = resize(strength(magenta, fit(box, 256, upscale=True), style, 0.3), (y1 - y0, x1 - x0))
    inner = face[y0:y1, x0:x1] == 1.0  # where the feathered mask is (nearly) 1
    m = cropped.face_mask[y0:y1, x0:x1, None]
    expected = m * alone + (1 - m) * flat.image[y0:y1, x0:x1]
    np.testing.assert_allclose(cropped.image[y0:y1, x0:x1][inner], expected[inner], atol=1e-5)
    assert np.abs(cropped.image - flat.image)[face == 1].mean() > 0.01


def test_face_crop_takes_each_face_on_its_own(magenta):
    """Two faces at opposite corners: each is stylized from its own box (plus 25 %) fitted to
    `face_crop_side` (here 384), not from one box spanning the frame."""
    from tfstyle.image import fit

    source = load_image(DATA / "two_women_cycling_tree_path.jpg")
    frame = resize(source, (341, 512))
    style = load_image(PAINTING, max_side=256)
    person = np.ones(frame.shape[:2], np.float32)
    face = np.zeros(frame.shape[:2], np.float32)
    face[40:60, 40:60] = 1.0
    face[260:290, 430:460] = 1.0
    settings = PortraitSettings(feather=0.0, face_crop_side=384)
    out = PortraitStylizer(magenta).stylize(
        frame, style, mask=person, face_mask=face, settings=settings, source=source
    )
    flat = PortraitStylizer(magenta).stylize(
        frame, style, mask=person, face_mask=face, settings=PortraitSettings(feather=0.0, face_crop=False)
    )
    for y0, y1, x0, x1 in ((40, 60, 40, 60), (260, 290, 430, 460)):
        one = np.zeros_like(face)
        one[y0:y1, x0:x1] = 1.0
        by0, bx0, by1, bx1 = person_box(one, margin=0.25)
        box = source[2 * by0 : 2 * by1, 2 * bx0 : 2 * bx1]
        alone = resize(strength(magenta, fit(box, 384, upscale=True), style, 0.3), (by1 - by0, bx1 - bx0))
        got = out.image[by0:by1, bx0:bx1][one[by0:by1, bx0:bx1] == 1]
        np.testing.assert_allclose(got, alone[one[by0:by1, bx0:bx1] == 1], atol=1e-5)
    outside = np.ones_like(face, bool)
    outside[40:60, 40:60] = outside[260:290, 430:460] = False
    np.testing.assert_array_equal(out.image[outside], flat.image[outside])


def test_no_face_found_keeps_two_regions(magenta):
    """A photo without a face: the face stage is skipped (logged), the result is the two-region one."""
    from tfstyle.portraits.faces import FaceFinder

    street = load_image(DATA / "colonnade_walkway_depth.jpg", max_side=256)
    style = load_image(PAINTING, max_side=256)
    mask = np.zeros(street.shape[:2], np.float32)
    mask[100:200, 50:150] = 1.0
    two = PortraitStylizer(magenta).stylize(street, style, mask=mask)
    three = PortraitStylizer(magenta, face_finder=FaceFinder()).stylize(street, style, mask=mask)
    assert three.face_mask is None
    np.testing.assert_array_equal(three.image, two.image)


def test_auto_blend_is_pixel_for_magenta_and_feature_for_sanet(magenta):
    content = load_image(DATA / "woman_smiling_portrait.jpg", max_side=128)  # the choice, not the size
    style = load_image(PAINTING, max_side=128)
    mask = np.zeros(content.shape[:2], np.float32)
    mask[:, :50] = 1.0
    for network in (magenta, trained_like(SANetStylizer(dtype="float32"))):
        images = {
            blend: PortraitStylizer(network)
            .stylize(content, style, mask=mask, settings=PortraitSettings(blend=blend))
            .image
            for blend in ("auto", "feature", "pixel")
        }
        same = "pixel" if network is magenta else "feature"
        np.testing.assert_array_equal(images["auto"], images[same])
        assert np.abs(images["feature"] - images["pixel"]).max() > 0.01


def test_person_box_is_the_mask_box_with_its_margin():
    mask = np.zeros((100, 200))
    mask[20:60, 50:150] = 0.9
    assert person_box(mask, margin=0.1) == (16, 40, 64, 160)  # 40 rows ± 4, 100 columns ± 10
    mask[:] = 0
    assert person_box(mask) is None
    mask[0:100, 0:200] = 1
    assert person_box(mask) == (0, 0, 100, 200)


def test_crop_mode_changes_only_the_person_and_uses_the_full_resolution_photo(magenta):
    source = load_image(DATA / "two_women_cycling_tree_path.jpg")  # 1024×682
    frame = resize(source, (341, 512))
    style = load_image(PAINTING, max_side=256)
    mask = np.zeros(frame.shape[:2], np.float32)
    mask[100:300, 150:350] = 1.0
    portrait = PortraitStylizer(magenta)
    settings = PortraitSettings(feather=0.0)
    whole = portrait.stylize(frame, style, mask=mask, settings=settings).image
    crop = portrait.stylize(frame, style, mask=mask, settings=settings, person_crop=512, source=source).image
    outside = np.ones(mask.shape, bool)
    y0, x0, y1, x1 = person_box(mask)
    outside[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(crop[outside], whole[outside])
    inside = mask > 0
    assert np.abs(crop - whole)[inside].mean() > 0.01  # the person was stylized again, at 512 px
    # the crop is the person's box at its own working size: equal to stylizing that box alone
    box = source[2 * y0 : 2 * y1, 2 * x0 : 2 * x1]
    from tfstyle.image import fit

    alone = strength(magenta, fit(box, 512), style, settings.person_alpha)
    np.testing.assert_allclose(
        crop[inside], resize(alone, (y1 - y0, x1 - x0))[inside[y0:y1, x0:x1]], atol=1e-5
    )


def test_cli_portrait_with_faces_and_crop_mode(tmp_path, capsys):
    out = tmp_path / "p.png"
    argv = ["portrait", "--model", "magenta", "--content", str(DATA / "woman_smiling_portrait.jpg")]
    argv += ["--style", str(PAINTING), "--output", str(out), "--max-size", "256"]
    assert main([*argv, "--person-crop", "--face-parts", "oval,eyes"]) == 0
    assert load_image(out).shape[:2] == (256, 226)
    bad = tmp_path / "bad.png"
    assert main([*argv[:-4], "--output", str(bad), "--face-parts", "nose"]) == 2
    assert "face parts nose" in capsys.readouterr().err and not bad.exists()
