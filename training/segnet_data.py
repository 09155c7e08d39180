"""Inputs for person segmentation: COCO panoptic person masks, folders, generated shapes.

Every source yields (image [H, W, 3] float32 in [0, 1], mask [H, W] int32 with
1 = person, 0 = background).
"""

from __future__ import annotations

import os
from typing import Optional

import numpy as np
import tensorflow as tf
from absl import logging

from tfstyle.errors import MissingExtraError
from training.data import IMAGE_EXTENSIONS, sniff

#: Index of "person" among the COCO panoptic categories in tensorflow-datasets.
COCO_PERSON_LABEL = 0


def coco_person_masks(
    split: str = "train", data_dir: Optional[str] = None, name: str = "coco/2017_panoptic"
) -> tf.data.Dataset:
    """COCO panoptic: person = the segments whose category is "person"."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise MissingExtraError("tensorflow-datasets", "train", "tensorflow-datasets sources") from None
    ds = tfds.load(name, split=split, data_dir=data_dir)

    def to_mask(example):
        rgb = tf.cast(example["panoptic_image"], tf.int32)
        ids = rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]  # COCO panoptic id encoding
        objects = example["panoptic_objects"]
        person_ids = tf.boolean_mask(
            tf.cast(objects["id"], tf.int32), tf.equal(objects["label"], COCO_PERSON_LABEL)
        )
        mask = tf.reduce_any(tf.equal(ids[..., None], person_ids), axis=-1)
        return tf.image.convert_image_dtype(example["image"], tf.float32), tf.cast(mask, tf.int32)

    return ds.map(to_mask, num_parallel_calls=tf.data.AUTOTUNE)


def folder_masks(folder: str) -> tf.data.Dataset:
    """``images/NAME.ext`` with ``masks/NAME.png`` (non-zero = person)."""
    image_dir, mask_dir = os.path.join(folder, "images"), os.path.join(folder, "masks")
    if not os.path.isdir(image_dir) or not os.path.isdir(mask_dir):
        raise ValueError(f"{folder}: expected subfolders images/ and masks/ (see TRAINING.md)")
    images, masks = [], []
    for name in sorted(os.listdir(image_dir)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in IMAGE_EXTENSIONS:
            continue
        image, mask = os.path.join(image_dir, name), os.path.join(mask_dir, stem + ".png")
        reason = (sniff(image) or sniff(mask)) if os.path.isfile(mask) else "no mask file"
        if reason:
            logging.warning("skipping %s: %s", image, reason)
            continue
        images.append(image)
        masks.append(mask)
    if not images:
        raise ValueError(f"{folder}: no usable image/mask pairs")

    def load(image, mask):
        rgb = tf.io.decode_image(tf.io.read_file(image), channels=3, expand_animations=False)
        m = tf.io.decode_png(tf.io.read_file(mask), channels=1)[..., 0]
        return tf.image.convert_image_dtype(rgb, tf.float32), tf.cast(m > 0, tf.int32)

    return tf.data.Dataset.from_tensor_slices((images, masks)).map(load, num_parallel_calls=tf.data.AUTOTUNE)


def synthetic_person(seed: int, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A "person" (head ellipse over a torso block, one colour with fine texture) on a
    background of random coloured noise blobs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    cx, top = rng.uniform(0.3, 0.7), rng.uniform(0.05, 0.3)
    head_r = rng.uniform(0.1, 0.16)
    head = ((yy - top - head_r) / head_r) ** 2 + ((xx - cx) / (head_r * 0.8)) ** 2 <= 1
    torso_w = rng.uniform(0.18, 0.3)
    torso = (yy > top + 1.8 * head_r) & (np.abs(xx - cx) < torso_w + 0.3 * (yy - top))
    mask = head | torso
    coarse = rng.uniform(size=(4, 4, 3))
    background = np.kron(coarse, np.ones((size // 4, size // 4, 1)))[:size, :size]
    background = 0.6 * background + 0.4 * rng.uniform(size=(size, size, 3))
    colour = rng.uniform(0.2, 0.9, size=3)
    person = colour * (0.9 + 0.1 * rng.uniform(size=(size, size, 1)))
    image = np.where(mask[..., None], person, background)
    return image.astype(np.float32), mask.astype(np.int32)


def synthetic_dataset(count: int, size: int, seed: int = 0) -> tf.data.Dataset:
    images, masks = zip(*(synthetic_person(seed * 100_003 + i, size) for i in range(count)))
    return tf.data.Dataset.from_tensor_slices((np.stack(images), np.stack(masks)))


def pipeline(
    ds: tf.data.Dataset,
    size: tuple[int, int],
    batch: int,
    seed: int = 0,
    start: int = 0,
    repeat: bool = True,
    flip: bool = True,
) -> tf.data.Dataset:
    """Resize (mask nearest), seeded flips; batches of (image, mask)."""
    if repeat:
        ds = ds.repeat()

    def prepare(index, example):
        image, mask = example
        image = tf.image.resize(image, size, antialias=True)
        mask = tf.image.resize(mask[..., None], size, method="nearest")[..., 0]
        if flip:
            flipped = tf.random.stateless_uniform([], tf.stack([tf.cast(seed, tf.int64), index])) < 0.5
            image = tf.cond(flipped, lambda: image[:, ::-1], lambda: image)
            mask = tf.cond(flipped, lambda: mask[:, ::-1], lambda: mask)
        return tf.clip_by_value(image, 0, 1), mask

    ds = ds.skip(start).enumerate(start=start).map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return ds.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE).with_options(options)


def median_frequency_weights(masks, num_classes: int = 2) -> np.ndarray:
    """Median-frequency class balancing (Eigen & Fergus 2015, as in SegNet §3.1):
    w_c = median(f) / f_c, f_c = pixels of class c / pixels of the images where c appears."""
    pixels = np.zeros(num_classes)
    present = np.zeros(num_classes)
    for mask in masks:
        mask = np.asarray(mask)
        counts = np.bincount(mask.ravel(), minlength=num_classes)[:num_classes]
        pixels += counts
        present += (counts > 0) * mask.size
    freq = np.where(present > 0, pixels / np.maximum(present, 1), 0)
    weights = np.where(freq > 0, np.median(freq[freq > 0]) / np.maximum(freq, 1e-12), 0.0)
    return weights.astype(np.float32)
