"""Inputs for relative-depth training: (image, depth) sources, pair sampling, synthetic scenes.

Sources: tensorflow-datasets ``nyu_depth_v2``, or a folder with ``rgb/NAME.ext``
and ``depth/NAME.png`` (16-bit) or ``depth/NAME.npy`` (larger = farther).
Pairs are sampled from depth maps as in the seed thesis: points at most
`max_distance` px apart whose depth differs by at least `min_difference` of the
image's depth range (labelled by which is farther), plus a fraction of equal
pairs whose depth differs by less than `equal_threshold` of the range.

Depth may be sparse (KITTI's projected lidar: 0 where no return came back;
Kozlovtsev 2019, §5.1): in every source a pixel is valid only where its depth
is finite and not 0, pairs join valid pixels only, and the range is that of
the valid pixels. `crop_to_aspect` cuts a frame to the training size's aspect
before resizing (KITTI's ~3.3:1 frames to 224×288), instead of squeezing it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

import numpy as np
import tensorflow as tf
from absl import logging

from tfstyle.errors import MissingExtraError
from training.data import IMAGE_EXTENSIONS, sniff


@dataclasses.dataclass(frozen=True)
class PairConfig:
    pairs_per_image: int = 800
    max_distance: float = 40.0
    min_difference: float = 0.01
    equal_fraction: float = 0.2
    equal_threshold: float = 0.002
    candidates_factor: int = 8  # candidates drawn per wanted pair


def valid_depth(depth):
    """Where a depth map [H, W] holds a measurement: finite and not 0 (0 = no lidar return in
    KITTI, no reading in NYU's raw maps; relative depth may be negative)."""
    return tf.math.is_finite(depth) & tf.not_equal(depth, 0.0)


def sample_pairs(depth, seed, config: PairConfig = PairConfig()):
    """Labelled point pairs from a depth map [H, W] (larger = farther; 0 = not measured).

    Returns (pairs int32 [P, 4] as (yA, xA, yB, xB), labels int32 [P] in
    {−1, 0, +1} with +1 = A farther, valid float32 [P]); P = pairs_per_image,
    positions with too few qualifying candidates are padded with valid = 0.
    Both points of a pair are measured (`valid_depth`), and the depth range the
    thresholds are fractions of is the measured pixels'. The first point of each
    candidate is drawn among the measured pixels, so sparse maps still fill P.
    Stateless: the same `seed` ([2] int) gives the same pairs.
    """
    depth = tf.convert_to_tensor(depth, tf.float32)
    height, width = tf.shape(depth)[0], tf.shape(depth)[1]
    measured = valid_depth(depth)
    count = config.pairs_per_image
    n = count * config.candidates_factor
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    radius = int(config.max_distance)
    known_at = tf.cast(tf.where(measured), tf.int32)  # [K, 2]
    pick = tf.random.stateless_uniform([n], seeds[0], 0, tf.maximum(tf.shape(known_at)[0], 1), tf.int32)
    first_point = tf.gather(tf.concat([known_at, [[0, 0]]], 0), pick)
    a_y, a_x = first_point[:, 0], first_point[:, 1]
    d_y = tf.random.stateless_uniform([n], seeds[2], -radius, radius + 1, tf.int32)
    d_x = tf.random.stateless_uniform([n], seeds[3], -radius, radius + 1, tf.int32)
    b_y, b_x = a_y + d_y, a_x + d_x
    distance2 = tf.cast(d_y * d_y + d_x * d_x, tf.float32)
    inside = (b_y >= 0) & (b_y < height) & (b_x >= 0) & (b_x < width)
    b_y, b_x = tf.clip_by_value(b_y, 0, height - 1), tf.clip_by_value(b_x, 0, width - 1)
    at_a, at_b = tf.stack([a_y, a_x], -1), tf.stack([b_y, b_x], -1)
    usable = (
        (distance2 > 0)
        & (distance2 <= config.max_distance**2)
        & inside
        & tf.gather_nd(measured, at_a)
        & tf.gather_nd(measured, at_b)
    )
    z_a, z_b = tf.gather_nd(depth, at_a), tf.gather_nd(depth, at_b)
    high = tf.reduce_max(tf.where(measured, depth, -np.inf))
    low = tf.reduce_min(tf.where(measured, depth, np.inf))
    span = tf.where(high > low, high - low, 1e-12)
    gap = tf.abs(z_a - z_b) / span
    candidates = tf.stack([a_y, a_x, b_y, b_x], -1)
    labels = tf.cast(tf.sign(z_a - z_b), tf.int32)

    def first(mask, k):
        index = tf.where(mask)[:k, 0]
        got = tf.shape(index)[0]
        pad = k - got
        return (
            tf.pad(tf.gather(candidates, index), [[0, pad], [0, 0]]),
            tf.pad(tf.gather(labels, index), [[0, pad]]),
            tf.pad(tf.ones([got], tf.float32), [[0, pad]]),
        )

    n_equal = int(round(count * config.equal_fraction))
    ordinal = first(usable & (gap >= config.min_difference), count - n_equal)
    equal = first(usable & (gap < config.equal_threshold), n_equal)
    pairs = tf.concat([ordinal[0], equal[0]], 0)
    labels = tf.concat([ordinal[1], tf.zeros_like(equal[1])], 0)
    valid = tf.concat([ordinal[2], equal[2]], 0)
    return pairs, labels, valid


# ---- synthetic scenes with known depth -------------------------------------------


def synthetic_scene(seed: int, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """An image with known depth: a textured ground plane receding to the top, and shapes
    at random distances, painted darker and bluer with distance (aerial perspective).

    Returns (image [size, size, 3] float32 in [0, 1], depth [size, size] float32).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    depth = 1.0 + 9.0 * (1.0 - yy) ** 2  # ground: far at the top, near at the bottom
    for _ in range(rng.integers(1, 4)):
        cy, cx, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.3)
        shape = (
            ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r)
            if rng.uniform() < 0.5
            else ((np.abs(yy - cy) < r) & (np.abs(xx - cx) < r * 0.7))
        )
        depth = np.where(shape, rng.uniform(1.0, 10.0), depth)
    nearness = 1.0 - (depth - 1.0) / 9.0
    hue = rng.uniform(0.3, 1.0, size=3)
    texture = 0.85 + 0.15 * rng.uniform(size=(size, size, 1))
    image = (0.15 + 0.85 * nearness[..., None] * hue) * texture
    image[..., 2] += 0.25 * (1.0 - nearness)  # distant things turn bluish
    return np.clip(image, 0, 1).astype(np.float32), depth.astype(np.float32)


def synthetic_dataset(count: int, size: int, seed: int = 0) -> tf.data.Dataset:
    images, depths = zip(*(synthetic_scene(seed * 100_003 + i, size) for i in range(count)))
    return tf.data.Dataset.from_tensor_slices((np.stack(images), np.stack(depths)))


# ---- real sources ------------------------------------------------------------------


def folder_pairs(folder: str) -> list[tuple[str, str]]:
    """(rgb path, depth path) for each ``rgb/NAME.ext`` with a ``depth/NAME.png|.npy``."""
    rgb_dir, depth_dir = os.path.join(folder, "rgb"), os.path.join(folder, "depth")
    if not os.path.isdir(rgb_dir) or not os.path.isdir(depth_dir):
        raise ValueError(f"{folder}: expected subfolders rgb/ and depth/ (see TRAINING.md)")
    pairs = []
    for name in sorted(os.listdir(rgb_dir)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in IMAGE_EXTENSIONS:
            continue
        rgb = os.path.join(rgb_dir, name)
        depth = next(
            (
                os.path.join(depth_dir, stem + e)
                for e in (".png", ".npy")
                if os.path.isfile(os.path.join(depth_dir, stem + e))
            ),
            None,
        )
        reason = sniff(rgb) or (None if depth else "no depth file")
        if reason:
            logging.warning("skipping %s: %s", rgb, reason)
            continue
        pairs.append((rgb, depth))
    if not pairs:
        raise ValueError(f"{folder}: no usable rgb/depth pairs")
    return pairs


def _load_depth_file(path: bytes) -> np.ndarray:
    path = path.decode()
    if path.endswith(".npy"):
        return np.load(path).astype(np.float32)
    from PIL import Image

    return np.asarray(Image.open(path), dtype=np.float32)


def folder_dataset(folder: str) -> tf.data.Dataset:
    rgb, depth = zip(*folder_pairs(folder))

    def load(rgb_path, depth_path):
        image = tf.image.convert_image_dtype(
            tf.io.decode_image(tf.io.read_file(rgb_path), channels=3, expand_animations=False), tf.float32
        )
        d = tf.numpy_function(_load_depth_file, [depth_path], tf.float32)
        return image, tf.reshape(d, tf.shape(image)[:2])

    return tf.data.Dataset.from_tensor_slices((list(rgb), list(depth))).map(
        load, num_parallel_calls=tf.data.AUTOTUNE
    )


def tfds_dataset(
    name: str = "nyu_depth_v2", split: str = "train", data_dir: Optional[str] = None
) -> tf.data.Dataset:
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise MissingExtraError("tensorflow-datasets", "train", "tensorflow-datasets sources") from None
    ds = tfds.load(name, split=split, data_dir=data_dir)
    return ds.map(
        lambda ex: (tf.image.convert_image_dtype(ex["image"], tf.float32), tf.cast(ex["depth"], tf.float32))
    )


def training_pipeline(
    ds: tf.data.Dataset,
    size: tuple[int, int],
    batch: int,
    pairs: PairConfig,
    seed: int = 0,
    start: int = 0,
    repeat: bool = True,
    flip: bool = True,
    crop_to_aspect: bool = False,
    whole_passes: bool = False,
):
    """Crop to `size`'s aspect (`crop_to_aspect`: a random window, full height or width), resize
    (image bilinear, depth nearest, so unmeasured pixels stay 0), flip, sample pairs; batches of
    (image [B, H, W, 3], pairs [B, P, 4], labels [B, P], valid [B, P])."""
    if repeat:
        ds = ds.repeat()

    def prepare(index, example):
        image, depth = example
        seed_pair = tf.stack([tf.cast(seed, tf.int64), index])
        if crop_to_aspect:
            image, depth = aspect_crop(image, depth, size, seed_pair + 3)
        image = tf.image.resize(image, size, antialias=True)
        depth = tf.image.resize(depth[..., None], size, method="nearest")[..., 0]
        if flip:
            flipped = tf.random.stateless_uniform([], seed_pair + 7) < 0.5
            image = tf.cond(flipped, lambda: image[:, ::-1], lambda: image)
            depth = tf.cond(flipped, lambda: depth[:, ::-1], lambda: depth)
        p, labels, valid = sample_pairs(depth, seed_pair, pairs)
        return tf.clip_by_value(image, 0, 1), p, labels, valid

    ds = ds.skip(start).enumerate(start=start).map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return ds.batch(batch, drop_remainder=not whole_passes).prefetch(tf.data.AUTOTUNE).with_options(options)


def aspect_crop(image, depth, size, seed):
    """The largest window of `size`'s aspect (height / width) in the frame, at a seeded random
    place: a 1242×375 KITTI frame and 224×288 give a 482×375 window."""
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    aspect = size[0] / size[1]
    crop_h = tf.minimum(height, tf.cast(tf.round(tf.cast(width, tf.float32) * aspect), tf.int32))
    crop_w = tf.minimum(width, tf.cast(tf.round(tf.cast(height, tf.float32) / aspect), tf.int32))
    top = tf.random.stateless_uniform([], seed, 0, height - crop_h + 1, tf.int32)
    left = tf.random.stateless_uniform([], seed + 1, 0, width - crop_w + 1, tf.int32)
    return image[top : top + crop_h, left : left + crop_w], depth[top : top + crop_h, left : left + crop_w]


# ---- sparse labelled pairs (DIW-style CSV) ------------------------------------------

RELATIONS = {">": 1, "<": -1, "=": 0}


def read_pairs_csv(path: str, image_root: Optional[str] = None):
    """Rows ``image,y_a,x_a,y_b,x_b,relation`` (relation ``>``: A farther, ``<``: A closer,
    ``=``: equal; coordinates in the image's own pixels; a header row is allowed).

    DIW's own CSVs put the file name and the pair on separate lines; convert
    them to one row per pair first. Returns {image path: (pairs [k, 4], labels [k])}.
    """
    import csv

    root = image_root or os.path.dirname(os.path.abspath(path))
    grouped: dict[str, tuple[list, list]] = {}
    with open(path, newline="") as f:
        for number, row in enumerate(csv.reader(f), start=1):
            if not row or (number == 1 and not row[1].strip().lstrip("-").isdigit()):
                continue
            if len(row) != 6 or row[5].strip() not in RELATIONS:
                raise ValueError(
                    f"{path}:{number}: expected image,y_a,x_a,y_b,x_b,relation with "
                    f"relation one of > < =, got {row}"
                )
            image = row[0] if os.path.isabs(row[0]) else os.path.join(root, row[0])
            pairs, labels = grouped.setdefault(image, ([], []))
            pairs.append([int(v) for v in row[1:5]])
            labels.append(RELATIONS[row[5].strip()])
    usable = {}
    for image, (pairs, labels) in grouped.items():
        reason = sniff(image)
        if reason:
            logging.warning("skipping %s: %s", image, reason)
            continue
        usable[image] = (np.array(pairs, np.int32), np.array(labels, np.int32))
    if not usable:
        raise ValueError(f"{path}: no usable images")
    return usable


def pairs_csv_dataset(path: str, image_root: Optional[str] = None) -> tf.data.Dataset:
    """(image, pairs [P, 4], labels [P], valid [P]) per image, pairs padded to the largest count."""
    grouped = read_pairs_csv(path, image_root)
    most = max(len(labels) for _, labels in grouped.values())
    images, pairs, labels, valid = [], [], [], []
    for image, (p, lab) in grouped.items():
        pad = most - len(lab)
        images.append(image)
        pairs.append(np.pad(p, [[0, pad], [0, 0]]))
        labels.append(np.pad(lab, [0, pad]))
        valid.append(np.pad(np.ones(len(lab), np.float32), [0, pad]))

    def load(image, p, lab, v):
        decoded = tf.image.convert_image_dtype(
            tf.io.decode_image(tf.io.read_file(image), channels=3, expand_animations=False), tf.float32
        )
        return decoded, p, lab, v

    return tf.data.Dataset.from_tensor_slices(
        (images, np.stack(pairs), np.stack(labels), np.stack(valid))
    ).map(load, num_parallel_calls=tf.data.AUTOTUNE)


def sparse_pipeline(
    ds: tf.data.Dataset,
    size: tuple[int, int],
    batch: int,
    seed: int = 0,
    start: int = 0,
    repeat: bool = True,
    flip: bool = True,
    whole_passes: bool = False,
):
    """Like `training_pipeline` for labelled pairs: the image is resized and the pair
    coordinates scaled with it (and mirrored with a flip). `whole_passes` keeps the last,
    smaller batch (evaluation)."""
    if repeat:
        ds = ds.repeat()

    def prepare(index, example):
        image, pairs, labels, valid = example
        shape = tf.cast(tf.shape(image)[:2], tf.float32)
        scale = tf.constant(size, tf.float32) / shape
        image = tf.image.resize(image, size, antialias=True)
        ys = tf.cast(tf.floor(tf.cast(pairs[:, 0::2], tf.float32) * scale[0]), tf.int32)
        xs = tf.cast(tf.floor(tf.cast(pairs[:, 1::2], tf.float32) * scale[1]), tf.int32)
        ys, xs = tf.clip_by_value(ys, 0, size[0] - 1), tf.clip_by_value(xs, 0, size[1] - 1)
        if flip:
            flipped = tf.random.stateless_uniform([], tf.stack([tf.cast(seed, tf.int64), index])) < 0.5
            image = tf.cond(flipped, lambda: image[:, ::-1], lambda: image)
            xs = tf.where(flipped, size[1] - 1 - xs, xs)
        pairs = tf.stack([ys[:, 0], xs[:, 0], ys[:, 1], xs[:, 1]], axis=-1)
        return tf.clip_by_value(image, 0, 1), pairs, labels, valid

    ds = ds.skip(start).enumerate(start=start).map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return ds.batch(batch, drop_remainder=not whole_passes).prefetch(tf.data.AUTOTUNE).with_options(options)
