"""Image I/O: decode to float32 RGB in [0, 1], resize policy, and atomic save.

Every image inside tfstyle is a NumPy or TF array of shape [H, W, 3] (or
[N, H, W, 3]), float32, RGB, values in [0, 1]. This module is the only place
that turns files into such arrays and back.
"""

from __future__ import annotations

import io
import math
import os
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tfstyle.errors import ConfigError, ImageError
from tfstyle.files import check_writable, write_atomic

ImageSource = Union[str, os.PathLike, bytes]

#: Default limit on decoded pixels (width × height): 64 megapixels, i.e. about
#: 8000 × 8000. Larger files are refused as possible decompression bombs.
DEFAULT_MAX_PIXELS = 64_000_000

#: Smallest image side every network accepts: the SANet encoder reflect-pads
#: relu5_1's input, which needs at least 2 px after four ceil-mode 2×2
#: poolings, so more than 16 px; 32 keeps every level at least 2 px.
MIN_SIDE = 32

#: Image files tfstyle reads with Pillow (CLI folders, calibration sets).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
#: The subset ``tf.io.decode_image`` reads (tf.data training pipelines): no TIFF.
TF_DECODE_EXTENSIONS = tuple(e for e in IMAGE_EXTENSIONS if e not in (".tif", ".tiff"))

_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}


def _describe(source: ImageSource) -> str:
    if isinstance(source, (bytes, bytearray)):
        return f"<{len(source)} bytes>"
    return os.fspath(source)


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to float32 RGB in [0, 1]."""
    if img.mode in _SIXTEEN_BIT_MODES:  # 16-bit grayscale PNG/TIFF
        gray = np.asarray(img, dtype=np.float32) / 65535.0
        return np.repeat(np.clip(gray, 0.0, 1.0)[..., None], 3, axis=-1)
    if img.mode == "F":
        gray = np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
        return np.repeat(gray[..., None], 3, axis=-1)
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    )
    if has_alpha:  # composite on white, as a viewer would show it
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def load_image(
    source: ImageSource,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = MIN_SIDE,
    max_side: int | None = None,
) -> np.ndarray:
    """Decode a file path or encoded bytes to float32 RGB [H, W, 3] in [0, 1].

    Applies EXIF orientation; converts grayscale, palette, RGBA/LA (composited
    on white), CMYK and 16-bit images. Raises `ImageError` (a `ValueError`)
    with a one-line message for missing, empty, truncated and non-image input,
    for images over `max_pixels` and for images whose shorter side is below
    `min_side`. With `max_side`, the result is resized to fit (see `fit`).
    """
    name = _describe(source)
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        try:
            with open(source, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise ImageError(f"{name}: no such file; check the path") from None
        except IsADirectoryError:
            raise ImageError(f"{name}: is a directory, expected an image file") from None
        except OSError as e:
            raise ImageError(f"{name}: cannot read ({e.strerror}); check permissions") from None
    if not data:
        raise ImageError(f"{name}: file is empty; pass a JPEG, PNG or WebP image")
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image Pillow can read; pass a JPEG, PNG or WebP image") from None
    except Image.DecompressionBombError:
        raise ImageError(
            f"{name}: too many pixels (possible decompression bomb); "
            f"downscale it or raise max_pixels/--max-pixels"
        ) from None
    width, height = img.size
    if width * height > max_pixels:
        raise ImageError(
            f"{name}: {width}x{height} = {width * height} pixels exceeds the limit of "
            f"{max_pixels}; downscale it or raise max_pixels/--max-pixels"
        )
    try:
        img.load()
        img = ImageOps.exif_transpose(img)  # type: ignore[assignment]
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{name}: truncated or corrupt image data ({e}); re-export the file") from None
    array = _to_rgb_array(img)
    if min(array.shape[:2]) < min_side:
        raise ImageError(
            f"{name}: {array.shape[1]}x{array.shape[0]} is too small; the network needs "
            f"at least {min_side} px on the shorter side, use a larger image"
        )
    if max_side is not None:
        array = fit(array, max_side)
    return array


def header_problem(
    path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = MIN_SIDE
) -> str | None:
    """Why an image file cannot be used, from its header alone (no decoding): too many
    pixels (a decompression bomb), too small, or not an image; ``None`` when usable."""
    try:
        with Image.open(path) as img:
            width, height = img.size
    except Image.DecompressionBombError:
        return "too many pixels (possible decompression bomb)"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return "not an image Pillow can read"
    if width * height > max_pixels:
        return f"{width}x{height} is over {max_pixels} pixels"
    if min(width, height) < min_side:
        return f"{width}x{height} is under {min_side} px a side"
    return None


def fitted_size(height: int, width: int, max_side: int, *, upscale: bool = True) -> tuple[int, int]:
    """(height, width) with the longer side equal to `max_side`, aspect kept.

    With `upscale=False`, images already smaller are left as they are.
    """
    if max_side <= 0:
        raise ValueError(f"max_side must be positive, got {max_side}")
    longer = max(height, width)
    if longer <= max_side and not upscale:
        return height, width
    scale = max_side / longer
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize [H, W, 3] (or [N, H, W, 3]) float images to (height, width).

    Bicubic with antialiasing when shrinking, clipped back to [0, 1].
    """
    import tensorflow as tf

    image = np.asarray(image, dtype=np.float32)
    if tuple(image.shape[-3:-1]) == tuple(size):
        return image
    out = tf.image.resize(image, size, method="bicubic", antialias=True)
    return np.clip(out.numpy(), 0.0, 1.0)


def load_fitted(
    source: ImageSource,
    max_side: int,
    *,
    min_side: int = MIN_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    option: str = "--max-size",
) -> np.ndarray:
    """`load_image`, then `fit_checked` to `max_side` (never enlarged): the size the network
    sees is what is checked against `min_side`."""
    image = load_image(source, max_pixels=max_pixels, min_side=min_side)
    return fit_checked(image, max_side, min_side=min_side, option=option, what=_describe(source))


def fit_checked(
    image: np.ndarray,
    max_side: int,
    *,
    min_side: int = MIN_SIDE,
    option: str = "--max-size",
    what: str = "image",
) -> np.ndarray:
    """`fit` to `max_side` (never enlarged), refusing an image whose shorter side would end below
    `min_side` with a line naming the `option` value that works."""
    height, width = image.shape[:2]
    new_h, new_w = fitted_size(height, width, max_side, upscale=False)
    if min(new_h, new_w) < min_side:
        need = math.ceil(min_side * max(height, width) / min(height, width))
        raise ConfigError(
            f"{what}: {option} {max_side} makes it {new_w}x{new_h}, under the "
            f"network's minimum of {min_side} px a side; use {option} {need} or more"
        )
    return fit(image, max_side, upscale=False)


def as_array(image) -> np.ndarray:
    """A PIL image or an array (uint8 0-255, or floats in [0, 1]) as float32 RGB [H, W, 3] in [0, 1]."""
    if isinstance(image, Image.Image):
        return _to_rgb_array(image)
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] not in (3, 4):
        raise ConfigError(f"an image array must be [H, W, 3] (RGB), got shape {list(array.shape)}")
    array = array[..., :3]
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    array = array.astype(np.float32)
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise ConfigError("a float image array must hold values in [0, 1] (or pass uint8 0-255)")
    return array


def fit(image: np.ndarray, max_side: int, *, upscale: bool = True) -> np.ndarray:
    """Resize so the longer side is `max_side`, keeping the aspect ratio."""
    height, width = image.shape[-3:-1]
    return resize(image, fitted_size(height, width, max_side, upscale=upscale))


def fit_tensor(images, max_side, *, upscale: bool = False):
    """`fit` in TensorFlow ops, for exported graphs: [N, H, W, 3] float images and a
    scalar int `max_side` tensor; the same sizes (round half to even) and resampling."""
    import tensorflow as tf

    shape = tf.shape(images)
    old = shape[1:3]
    longer = tf.reduce_max(old)
    scale = tf.cast(max_side, tf.float64) / tf.cast(longer, tf.float64)
    new = tf.maximum(tf.cast(tf.round(tf.cast(old, tf.float64) * scale), tf.int32), 1)
    if not upscale:
        new = tf.where(longer <= max_side, old, new)
    return tf.cond(
        tf.reduce_all(tf.equal(new, old)),
        lambda: tf.identity(images),
        lambda: tf.clip_by_value(tf.image.resize(images, new, method="bicubic", antialias=True), 0.0, 1.0),
    )


#: Smallest mask side: a file one pixel wide or high stretched over an image is
#: uniform along that side, and a 1x1 file is one value, not a mask.
MASK_MIN_SIDE = 2


def load_mask(
    source: ImageSource,
    size: tuple[int, int],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    option: str = "--mask",
) -> np.ndarray:
    """A grayscale mask file (white = 1) as float32 [height, width] in [0, 1] at `size`."""
    grey = load_image(source, max_pixels=max_pixels, min_side=1)[..., 0]
    if min(grey.shape) < MASK_MIN_SIDE:
        raise ConfigError(
            f"{option} {_describe(source)}: {grey.shape[1]}x{grey.shape[0]} is too small to be a "
            f"mask; give at least {MASK_MIN_SIDE} px a side, ideally the content's size"
        )
    return resize(np.repeat(grey[..., None], 3, axis=-1), size)[..., 0]


def list_images(folder: str | os.PathLike, *, skip: str | os.PathLike | None = None) -> list[str]:
    """Image files (by `IMAGE_EXTENSIONS`) under `folder`, recursively and sorted; the
    tree under `skip` (e.g. an output folder inside the input folder) is left out."""
    skip_path = os.path.abspath(skip) if skip is not None else None
    found: list[str] = []
    for root, dirs, names in os.walk(os.fspath(folder)):
        if skip_path is not None:
            dirs[:] = [d for d in dirs if os.path.abspath(os.path.join(root, d)) != skip_path]
        found += [os.path.join(root, name) for name in names if name.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)


def to_uint8(image) -> np.ndarray:
    """Float [0, 1] → uint8 [0, 255], rounding (values outside [0, 1] are clipped)."""
    return np.round(np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)


def encode_image(image, fmt: str = "PNG", *, quality: int = 95) -> bytes:
    """Encode a float [H, W, 3] image in [0, 1] as PNG/JPEG/WEBP bytes."""
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ImageError(f"expected an image of shape [H, W, 3], got {list(array.shape)}")
    buf = io.BytesIO()
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    Image.fromarray(to_uint8(array), "RGB").save(buf, format=fmt, **options)
    return buf.getvalue()


def check_output_path(path: str | os.PathLike, option: str = "--output") -> str:
    """Validate an output image path before any work is done; returns the Pillow format.

    Refuses a folder, an unknown extension, and a missing or unwritable folder.
    """
    path = os.fspath(path)
    check_writable(path, option)
    return _save_format(path)


def _save_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in _SAVE_FORMATS:
        raise ImageError(
            f"{path}: unknown output extension {ext or '(none)'!r}; "
            f"use one of {', '.join(sorted(_SAVE_FORMATS))}"
        )
    return _SAVE_FORMATS[ext]


def save_image(path: str | os.PathLike, image, *, quality: int = 95) -> None:
    """Save a float [H, W, 3] image in [0, 1] by extension (.png, .jpg, .webp), atomically.

    The bytes are written to a temporary file in the same folder and renamed
    over `path`, so a failure never leaves a partial file behind.
    """
    path = os.fspath(path)
    fmt = _save_format(path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ImageError(f"{path}: folder {parent} does not exist; create it first")
    write_atomic(path, encode_image(image, fmt, quality=quality))
