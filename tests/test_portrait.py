"""Portrait stylization: blending agrees with single settings at mask 0/1, stays between them."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import DATA, PAINTING, SELFIE_MODEL, trained_like

from tfstyle.cli import main
from tfstyle.errors import ConfigError
from tfstyle.image import load_image
from tfstyle.models.sanet import SANetStylizer
from tfstyle.portraits.compose import PortraitSettings, PortraitStylizer, feather_mask

SETTINGS = PortraitSettings(person_alpha=0.4, person_levels=(1.0, 0.2), feather=0.0)


@pytest.fixture(scope="module")
def portrait():
    return PortraitStylizer(trained_like(SANetStylizer(dtype="float32")))


@pytest.fixture(scope="module")
def images():
    content = load_image(DATA / "woman_smiling_portrait.jpg", max_side=96)
    return content, load_image(PAINTING, max_side=96)


def single(portrait, content, style, alpha, levels):
    return portrait.network.stylize(content, style, strength=alpha, level_weights=levels)


@pytest.mark.parametrize("blend", ["feature", "pixel"])
def test_mask_all_person_or_all_background_equals_single_setting(portrait, images, blend):
    content, style = images
    settings = PortraitSettings(**{**SETTINGS.__dict__, "blend": blend})
    ones, zeros = np.ones(content.shape[:2]), np.zeros(content.shape[:2])
    person = portrait.stylize(content, style, settings=settings, mask=ones).image
    background = portrait.stylize(content, style, settings=settings, mask=zeros).image
    np.testing.assert_allclose(person, single(portrait, content, style, 0.4, (1.0, 0.2)), atol=1e-5)
    np.testing.assert_allclose(background, single(portrait, content, style, 1.0, (1.0, 1.0)), atol=1e-5)
    assert np.abs(person - background).mean() > 1e-3


def test_blends_stay_between_the_two_settings(portrait, images):
    content, style = images
    person = single(portrait, content, style, 0.4, (1.0, 0.2))
    background = single(portrait, content, style, 1.0, (1.0, 1.0))
    half = np.full(content.shape[:2], 0.5)
    pixel = portrait.stylize(
        content, style, mask=half, settings=PortraitSettings(**{**SETTINGS.__dict__, "blend": "pixel"})
    ).image
    low, high = np.minimum(person, background), np.maximum(person, background)
    assert (pixel >= low - 1e-6).all() and (pixel <= high + 1e-6).all()  # a convex mix, per pixel
    # feature blending decodes the per-element mix of the two settings' decoder inputs,
    # each computed the plain way (SANetStylizer.controlled_features), not the portrait's way
    c, st = portrait.network.encode(content), portrait.network.encode_style(style)
    f_person = portrait.network.controlled_features(c, [st], alpha=0.4, level_weights=(1.0, 0.2))
    f_background = portrait.network.controlled_features(c, [st])
    expected = portrait.network.render(0.5 * f_person + 0.5 * f_background, *content.shape[:2])
    feature = portrait.stylize(content, style, mask=half, settings=SETTINGS).image
    np.testing.assert_allclose(feature, np.asarray(expected)[0], atol=1e-5)
    apart = np.abs(person - background).mean()
    near = np.abs(feature - pixel).mean()
    print(f"settings apart {apart:.4f}; feature blend vs pixel blend {near:.4f}")
    assert near < apart


def test_feather_softens_edges_only():
    mask = np.zeros((40, 40))
    mask[:, 20:] = 1.0
    soft = feather_mask(mask, 0.05)
    assert 0.0 < soft[20, 19] < 1.0 and soft[20, 0] == pytest.approx(0, abs=1e-6)
    assert soft[20, 39] == pytest.approx(1, abs=1e-6)
    np.testing.assert_array_equal(feather_mask(mask, 0.0), mask)


@pytest.mark.parametrize("amount, shape", [(0.05, (40, 40)), (0.02, (37, 90)), (0.2, (23, 31))])
def test_feather_is_scipys_mirrored_gaussian(amount, shape):
    from scipy.ndimage import gaussian_filter

    mask = np.random.default_rng(1).uniform(size=shape)
    expected = gaussian_filter(mask, amount * min(shape), mode="mirror", truncate=4.0)
    np.testing.assert_allclose(feather_mask(mask, amount), expected, atol=1e-5)


def test_area_resize_pools_whole_factors_like_resize_area():
    from tfstyle.ops import area_resize

    masks = np.random.default_rng(2).uniform(size=(2, 48, 40, 1)).astype(np.float32)
    pooled = area_resize(masks, (6, 5)).numpy()
    expected = masks.reshape(2, 6, 8, 5, 8, 1).mean(axis=(2, 4))
    np.testing.assert_allclose(pooled, expected, atol=1e-6)
    np.testing.assert_allclose(
        area_resize(masks, (7, 5)).numpy(), tf.image.resize(masks, (7, 5), method="area").numpy(), atol=1e-6
    )


def test_bad_settings_are_refused(portrait, images):
    content, style = images
    with pytest.raises(ConfigError, match="person_alpha"):
        portrait.stylize(content, style, settings=PortraitSettings(person_alpha=2.0), mask=content[..., 0])
    with pytest.raises(ConfigError, match="feather must be in"):
        portrait.stylize(content, style, settings=PortraitSettings(feather=0.5), mask=content[..., 0])
    for side in (16, 100_000):
        with pytest.raises(ConfigError, match=r"face crop side must be in \[64, 4096\] pixels"):
            portrait.stylize(
                content, style, settings=PortraitSettings(face_crop_side=side), mask=content[..., 0]
            )
    with pytest.raises(ConfigError, match="no segmenter"):
        portrait.stylize(content, style)


def test_portrait_cli_with_tflite_segmenter(tmp_path):
    pytest.importorskip("ai_edge_litert", reason="needs pip install 'tfstyle[export]'")
    out, mask = tmp_path / "out.png", tmp_path / "mask.png"
    code = main(
        [
            "portrait",
            "--content",
            str(DATA / "woman_smiling_portrait.jpg"),
            "--style",
            str(PAINTING),
            "--output",
            str(out),
            "--save-mask",
            str(mask),
            "--weights",
            "random",
            "--segmenter",
            f"tflite:{SELFIE_MODEL}",
            "--max-size",
            "96",
            "--blend",
            "pixel",
            "--precision",
            "float32",
        ]
    )
    assert code == 0
    saved = load_image(mask)[..., 0]
    assert saved.shape == load_image(out).shape[:2]
    assert saved[40:, 30:60].mean() > 0.8 and saved[:8, :8].mean() < 0.2  # person centre, corner


def test_portrait_cli_bad_input(tmp_path, capsys):
    code = main(
        [
            "portrait",
            "--content",
            str(DATA / "woman_smiling_portrait.jpg"),
            "--output",
            str(tmp_path / "out.png"),
            "--weights",
            "random",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "pass --style or --style-features" in err[0]
    assert not (tmp_path / "out.png").exists()
