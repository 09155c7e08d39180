"""Decoding, colour modes, refusals with one-line messages, resize policy, atomic save."""

import io
import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import PORTRAIT
from PIL import Image

from tfstyle import image as image_lib
from tfstyle.errors import ImageError


def encode(img, fmt="PNG", **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_loads_path_and_bytes_identically():
    from_path = image_lib.load_image(PORTRAIT)
    from_bytes = image_lib.load_image(PORTRAIT.read_bytes())
    assert from_path.dtype == np.float32 and from_path.shape == (606, 517, 3)
    assert 0.0 <= from_path.min() and from_path.max() <= 1.0
    np.testing.assert_array_equal(from_path, from_bytes)


def test_exif_orientation_is_applied():
    # 40 wide x 20 high, left half red; EXIF 6 = "rotate 90 CW to display".
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = (255, 0, 0)
    img = Image.fromarray(pixels)
    exif = img.getexif()
    exif[0x0112] = 6
    out = image_lib.load_image(encode(img, "PNG", exif=exif), min_side=1)
    assert out.shape == (40, 20, 3)  # displayed upright: 20 wide, 40 high
    assert out[5, 10, 0] == 1.0 and out[35, 10, 0] == 0.0  # red ends up on top


@pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK", "LA", "I;16"])
def test_modes_convert_to_rgb(mode, rng):
    rgb = Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    img = (
        rgb.convert(mode)
        if mode != "I;16"
        else Image.fromarray(rng.integers(0, 65536, (24, 32), dtype=np.uint16))
    )
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    out = image_lib.load_image(encode(img, fmt), min_side=1)
    assert out.shape == (24, 32, 3) and out.dtype == np.float32


def test_sixteen_bit_values_keep_their_scale():
    values = np.array([[0, 65535], [32768, 1000]], np.uint16).repeat(8, 0).repeat(8, 1)
    out = image_lib.load_image(encode(Image.fromarray(values)), min_side=1)
    np.testing.assert_allclose(out[0, 0], 0.0)
    np.testing.assert_allclose(out[0, 15], 1.0)
    np.testing.assert_allclose(out[8, 0], 32768 / 65535, rtol=1e-6)
    np.testing.assert_allclose(out[:, :, 0], out[:, :, 2])


def test_rgba_composites_on_white():
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0] = 255  # red ...
    rgba[:8, :, 3] = 0  # ... fully transparent on top
    rgba[8:, :, 3] = 128  # ... half transparent below
    out = image_lib.load_image(encode(Image.fromarray(rgba, "RGBA")), min_side=1)
    np.testing.assert_allclose(out[0, 0], [1, 1, 1])
    np.testing.assert_allclose(out[12, 0], [1, 127 / 255, 127 / 255], atol=1 / 255)


def test_palette_with_transparency_composites_on_white():
    img = Image.new("P", (16, 16), 0)
    img.putpalette([0, 0, 0, 0, 255, 0])
    img.info["transparency"] = 0
    out = image_lib.load_image(encode(img, transparency=0), min_side=1)
    np.testing.assert_allclose(out[0, 0], [1, 1, 1])


def assert_one_line(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_refuses_missing_file(tmp_path):
    with pytest.raises(ImageError) as e:
        image_lib.load_image(tmp_path / "nope.jpg")
    assert_one_line(e, "nope.jpg", "no such file")


def test_refuses_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError) as e:
        image_lib.load_image(tmp_path / "empty.png")
    assert_one_line(e, "empty.png", "empty")


def test_refuses_non_image(tmp_path):
    (tmp_path / "notes.jpg").write_text("not an image at all")
    with pytest.raises(ImageError) as e:
        image_lib.load_image(tmp_path / "notes.jpg")
    assert_one_line(e, "notes.jpg", "not an image")


def test_refuses_truncated_file(tmp_path):
    data = PORTRAIT.read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError) as e:
        image_lib.load_image(tmp_path / "cut.jpg")
    assert_one_line(e, "cut.jpg", "truncated")


def test_refuses_too_many_pixels():
    with pytest.raises(ImageError) as e:
        image_lib.load_image(PORTRAIT, max_pixels=100_000)
    assert_one_line(e, "517x606", "100000", "--max-pixels")


def test_refuses_pillow_decompression_bomb(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow raises above twice this
    with pytest.raises(ImageError) as e:
        image_lib.load_image(PORTRAIT, max_pixels=10**9)
    assert_one_line(e, "decompression bomb")


def test_refuses_too_small():
    small = encode(Image.new("RGB", (40, 12)))
    with pytest.raises(ImageError) as e:
        image_lib.load_image(small, min_side=16)
    assert_one_line(e, "40x12", "at least 16 px")


@pytest.mark.parametrize(
    "h,w,side,upscale,expected",
    [
        (606, 517, 256, True, (256, 218)),
        (100, 300, 600, True, (200, 600)),
        (100, 300, 600, False, (100, 300)),
        (50, 50, 32, False, (32, 32)),
    ],
)
def test_fitted_size_keeps_aspect(h, w, side, upscale, expected):
    assert image_lib.fitted_size(h, w, side, upscale=upscale) == expected


def test_load_with_max_side_resizes_within_range():
    out = image_lib.load_image(PORTRAIT, max_side=128)
    assert out.shape == (128, 109, 3)
    assert 0.0 <= out.min() and out.max() <= 1.0


@pytest.mark.parametrize("ext,tol", [(".png", 0.5 / 255), (".jpg", 0.08), (".webp", 0.08)])
def test_save_roundtrip(tmp_path, ext, tol):
    img = image_lib.load_image(PORTRAIT, max_side=64)
    path = tmp_path / f"out{ext}"
    image_lib.save_image(path, img)
    back = image_lib.load_image(path)
    assert back.shape == img.shape
    assert np.abs(back - img).mean() < tol


def test_save_refuses_unknown_extension_and_missing_folder(tmp_path):
    with pytest.raises(ImageError, match="unknown output extension"):
        image_lib.save_image(tmp_path / "out.gif", np.zeros((8, 8, 3)))
    with pytest.raises(ImageError, match="does not exist"):
        image_lib.save_image(tmp_path / "missing" / "out.png", np.zeros((8, 8, 3)))


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    path.write_bytes(b"previous result")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        image_lib.save_image(path, np.zeros((8, 8, 3)))
    assert path.read_bytes() == b"previous result"  # old file untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temp file left


def test_saved_file_has_normal_permissions(tmp_path):
    path = tmp_path / "out.png"
    image_lib.save_image(path, np.zeros((8, 8, 3)))
    assert path.stat().st_mode & 0o044  # readable by group/others under a usual umask


@pytest.mark.parametrize(
    "shape, max_side, upscale",
    [
        ((37, 90), 64, False),
        ((90, 37), 64, False),
        ((30, 20), 64, False),
        ((30, 20), 64, True),
        ((50, 25), 5, False),
        ((64, 64), 64, True),
        ((7, 9), 14, True),
    ],
)
def test_fit_tensor_matches_fit(shape, max_side, upscale):
    from tfstyle.image import fit, fit_tensor

    image = np.random.default_rng(0).uniform(size=(*shape, 3)).astype(np.float32)
    expected = fit(image, max_side, upscale=upscale)
    got = fit_tensor(image[None], tf.constant(max_side), upscale=upscale).numpy()[0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-6)
