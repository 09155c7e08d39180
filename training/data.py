"""tf.data input pipelines for training: image folders or tensorflow-datasets, one interface.

    spec = ImageSource.parse("/data/coco/train2017")      # or "tfds:coco/2017"
    ds = image_dataset(spec, PipelineConfig(crop=256), batch_size=5)

Files that are not images, or are visibly truncated, are found when the
pipeline is built (a read of each file's first and last bytes), logged one
line each and counted; any decode error left (corrupt data inside a file) is
skipped by `ignore_errors` with TF's warning, never a crash mid-run.
Every random choice (file order, crops, flips) is seeded by the run's seed
and the element's position in the stream, so a resumed run gets the same
batches as an uninterrupted one by skipping the file names already consumed
(`start`), without decoding them and without checkpointing iterator state
(which tf.distribute iterators do not support).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Optional

import tensorflow as tf
from absl import logging

from tfstyle.errors import ConfigError, MissingExtraError
from tfstyle.image import TF_DECODE_EXTENSIONS, header_problem

# The library's one table, less what tf.io.decode_image cannot read (TIFF).
IMAGE_EXTENSIONS = TF_DECODE_EXTENSIONS
RESIZE_MODES = ("shorter", "fixed")
#: Smallest image side a training folder may hold (a 1x1 "image" is a broken file).
MIN_TRAINING_SIDE = 16


@dataclasses.dataclass(frozen=True)
class ImageSource:
    """Where images come from: a folder (recursive) or a tensorflow-datasets name."""

    path: Optional[str] = None
    tfds_name: Optional[str] = None
    tfds_split: str = "train"
    tfds_image_key: str = "image"
    tfds_data_dir: Optional[str] = None  # default: tensorflow-datasets' own (~/tensorflow_datasets)

    @classmethod
    def parse(cls, text: str, split: str = "train", data_dir: Optional[str] = None) -> ImageSource:
        """``tfds:NAME[/CONFIG]`` for a TFDS dataset, anything else is a folder."""
        if text.startswith("tfds:"):
            return cls(tfds_name=text[len("tfds:") :], tfds_split=split, tfds_data_dir=data_dir)
        return cls(path=text)


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Decode → resize → random crop → flip, as in the SANet recipe by default.

    Attributes:
      resize: ``fixed`` resizes to `size`×`size` (the recipe's 512×512);
        ``shorter`` scales the shorter side to `size`, keeping the aspect.
      size: see `resize`; crop: side of the random square crop.
    """

    resize: str = "fixed"
    size: int = 512
    crop: int = 256
    flip: bool = False
    seed: int = 0
    shuffle_files: bool = True

    def validate(self) -> None:
        if self.resize not in RESIZE_MODES:
            raise ConfigError(f"unknown resize mode {self.resize!r}; use one of {', '.join(RESIZE_MODES)}")
        if self.crop < MIN_TRAINING_SIDE or self.size < 1:
            raise ConfigError(
                f"--crop_size must be >= {MIN_TRAINING_SIDE} and --image_size >= 1, got "
                f"{self.crop} and {self.size}"
            )
        if self.crop > self.size:  # either mode: the crop must fit the resized image's shorter side
            raise ConfigError(
                f"--crop_size {self.crop} is larger than --image_size {self.size}: a crop must fit "
                f"in the resized image; lower --crop_size or raise --image_size"
            )


def list_images(folder: str) -> list[str]:
    """Image files under `folder` (recursive, sorted); raises if there are none."""
    if not os.path.isdir(folder):
        state = "is a file" if os.path.isfile(folder) else "no such folder"
        raise ConfigError(f"{folder}: {state}; pass a folder of images")
    files = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.lower().endswith(IMAGE_EXTENSIONS)
    )
    if not files:
        raise ConfigError(f"{folder}: no images ({', '.join(IMAGE_EXTENSIONS)}) in this folder")
    return files


@functools.lru_cache(maxsize=16)
def scan_folder(folder: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(usable image files, (path, reason) skipped) of a folder, scanned once per process;
    refuses a folder with no usable image at all."""
    good, skipped = usable_images(list_images(folder))
    if not good:
        raise ConfigError(
            f"{folder}: none of its {len(skipped)} image files is usable (first: "
            f"{skipped[0][0]}: {skipped[0][1]}); add valid images"
        )
    return good, skipped


def check_source(source: ImageSource) -> None:
    """Refuse, before a run writes anything, a folder source without usable images."""
    if source.path is not None:
        scan_folder(source.path)


def sniff(path: str) -> Optional[str]:
    """Why `path` cannot be a usable image (from its first and last bytes), or None."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(16)
            f.seek(max(0, size - 32))
            tail = f.read(32)
    except OSError as e:
        return f"unreadable ({e.strerror})"
    if size == 0:
        return "empty file"
    if head.startswith(b"\xff\xd8\xff"):
        if b"\xff\xd9" not in tail:
            return "truncated JPEG (no end-of-image marker)"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        if b"IEND" not in tail:
            return "truncated PNG (no IEND chunk)"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP" or head.startswith(b"BM"):
        pass
    else:
        return "not an image (unknown file signature)"
    # the library's own limits: decompression bombs and images too small to train on
    return header_problem(path, min_side=MIN_TRAINING_SIDE)


def usable_images(files: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Split files into usable ones and (path, reason) for skipped ones, logging each skip."""
    good, skipped = [], []
    for path in files:
        reason = sniff(path)
        if reason is None:
            good.append(path)
        else:
            skipped.append((path, reason))
            logging.warning("skipping %s: %s", path, reason)
    if skipped:
        logging.warning("skipped %d of %d files", len(skipped), len(files))
    return good, skipped


def _decode(data):
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    return tf.image.convert_image_dtype(image, tf.float32)


def _resize(image, config: PipelineConfig):
    if config.resize == "fixed":
        return tf.image.resize(image, [config.size, config.size], antialias=True)
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = config.size / tf.reduce_min(shape)
    new = tf.cast(tf.math.ceil(shape * scale), tf.int32)
    return tf.image.resize(image, tf.maximum(new, config.crop), antialias=True)


def augment(index, image, config: PipelineConfig):
    """Resize, then a random crop (and flip) seeded by (seed, element index): reproducible."""
    seed = tf.stack([tf.cast(config.seed, tf.int64), index])
    image = _resize(image, config)
    image = tf.image.stateless_random_crop(image, [config.crop, config.crop, 3], seed=seed)
    if config.flip:
        image = tf.image.stateless_random_flip_left_right(image, seed=seed + 1)
    return tf.clip_by_value(image, 0.0, 1.0)


def image_dataset(
    source: ImageSource,
    config: PipelineConfig,
    batch_size: int,
    input_context: Optional[tf.distribute.InputContext] = None,
    repeat: bool = True,
    start: int = 0,
) -> tf.data.Dataset:
    """Batches [batch_size, crop, crop, 3] of float32 RGB in [0, 1].

    Under a multi-worker strategy, pass the `input_context` of
    `distribute_datasets_from_function`: each input pipeline reads its own
    shard of the files and `batch_size` is then the per-replica batch.
    `start` is the number of images this pipeline already delivered (to resume).
    """
    config.validate()
    if source.tfds_name:
        raw = _tfds_images(source, config, input_context, start)
    else:
        files, _ = scan_folder(source.path)
        if input_context and input_context.num_input_pipelines > 1:
            files = files[input_context.input_pipeline_id :: input_context.num_input_pipelines]
        if not files:
            raise ValueError(f"{source.path}: no usable images left after skipping bad files")
        raw = (
            file_stream(files, config, start, repeat)
            .map(tf.io.read_file, num_parallel_calls=tf.data.AUTOTUNE)
            .map(_decode, num_parallel_calls=tf.data.AUTOTUNE)
        )
    ds = raw.ignore_errors(log_warning=True).enumerate(start=start)
    ds = ds.map(lambda i, image: augment(i, image, config), num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE).with_options(options)


def file_stream(
    files: list[str], config: PipelineConfig, start: int = 0, repeat: bool = True
) -> tf.data.Dataset:
    """File names from position `start` of an endless (or one-epoch) stream.

    Element i is file ``perm_e(i mod n)`` of epoch ``e = i div n``, with
    ``perm_e`` a stateless permutation keyed by (seed, e) — independent of
    TF's global seed and of what came before, so resuming is starting at `start`.
    """
    names = tf.constant(files)
    count = len(files)
    positions = tf.data.Dataset.counter(start) if repeat else tf.data.Dataset.range(start, count)

    def pick(i):
        epoch, index = i // count, i % count
        if config.shuffle_files:
            seed = tf.stack([tf.cast(config.seed, tf.int64), epoch])
            index = tf.random.experimental.index_shuffle(index, seed, count - 1)
        return tf.gather(names, index)

    return positions.map(pick)


def _tfds_images(source: ImageSource, config: PipelineConfig, input_context, start: int) -> tf.data.Dataset:
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise MissingExtraError("tensorflow-datasets", "train", "tensorflow-datasets sources") from None
    read_config = tfds.ReadConfig(shuffle_seed=config.seed, input_context=input_context)
    key = source.tfds_image_key
    # records stay encoded until after the skip, so resuming does not decode them
    ds = tfds.load(
        source.tfds_name,
        split=source.tfds_split,
        shuffle_files=config.shuffle_files,
        read_config=read_config,
        decoders={key: tfds.decode.SkipDecoding()},
        data_dir=source.tfds_data_dir,
    )
    ds = ds.repeat()
    if config.shuffle_files:
        ds = ds.shuffle(256, seed=config.seed, reshuffle_each_iteration=True)
    return ds.skip(start).map(lambda example: _decode(example[key]), num_parallel_calls=tf.data.AUTOTUNE)


def paired_dataset(content: tf.data.Dataset, style: tf.data.Dataset) -> tf.data.Dataset:
    """(content batch, style batch) pairs."""
    return tf.data.Dataset.zip((content, style)).prefetch(tf.data.AUTOTUNE)
