"""Input pipelines: folders, bad files skipped and reported, determinism, sharding, TFDS."""

import logging as py_logging

import numpy as np
import pytest
import tensorflow as tf
from helpers import PORTRAIT
from PIL import Image

from training import data


def write_images(folder, count, size=(40, 30), rng=None, prefix="img"):
    rng = rng or np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        ext = ("png", "jpg", "webp", "bmp")[i % 4]
        Image.fromarray(pixels).save(folder / f"{prefix}{i:03d}.{ext}")
    return folder


def collect(ds, batches):
    return [b.numpy() for b in ds.take(batches)]


def test_folder_pipeline_shapes_and_range(tmp_path):
    folder = write_images(tmp_path / "imgs", 6)
    write_images(tmp_path / "imgs" / "nested", 2, prefix="deep")
    ds = data.image_dataset(
        data.ImageSource(path=str(folder)),
        data.PipelineConfig(resize="shorter", size=36, crop=32, flip=True),
        4,
    )
    batch = next(iter(ds)).numpy()
    assert batch.shape == (4, 32, 32, 3) and batch.dtype == np.float32
    assert 0.0 <= batch.min() and batch.max() <= 1.0
    assert len(data.list_images(str(folder))) == 8


def test_bad_files_are_skipped_counted_and_logged(tmp_path, caplog):
    folder = write_images(tmp_path / "imgs", 4)
    (folder / "notes.jpg").write_text("this is not a jpeg")
    raw = PORTRAIT.read_bytes()
    (folder / "cut.jpg").write_bytes(raw[: len(raw) // 2])
    (folder / "empty.png").write_bytes(b"")
    with caplog.at_level(py_logging.WARNING):
        good, skipped = data.usable_images(data.list_images(str(folder)))
    assert len(good) == 4
    reasons = dict((p.split("/")[-1], r) for p, r in skipped)
    assert reasons == {
        "notes.jpg": "not an image (unknown file signature)",
        "cut.jpg": "truncated JPEG (no end-of-image marker)",
        "empty.png": "empty file",
    }
    text = caplog.text
    assert "notes.jpg" in text and "cut.jpg" in text and "skipped 3 of 7 files" in text
    ds = data.image_dataset(data.ImageSource(path=str(folder)), data.PipelineConfig(size=40, crop=32), 2)
    assert len(collect(ds, 5)) == 5  # trains on through many epochs of the folder


def test_corrupt_data_inside_a_valid_looking_file_is_skipped(tmp_path):
    folder = write_images(tmp_path / "imgs", 3)
    data_bytes = (folder / "img000.png").read_bytes()
    # keep signature and IEND trailer but corrupt the middle
    (folder / "img000.png").write_bytes(data_bytes[:40] + b"\0" * 200 + data_bytes[-40:])
    ds = data.image_dataset(
        data.ImageSource(path=str(folder)), data.PipelineConfig(size=40, crop=32), 1, repeat=False
    )
    assert len(collect(ds, 10)) == 2


def test_seeded_pipeline_is_reproducible(tmp_path):
    folder = write_images(tmp_path / "imgs", 5)
    make = lambda seed: data.image_dataset(  # noqa: E731
        data.ImageSource(path=str(folder)), data.PipelineConfig(size=40, crop=24, flip=True, seed=seed), 2
    )
    a, b, c = collect(make(1), 4), collect(make(1), 4), collect(make(2), 4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, z) for x, z in zip(a, c))


def test_shards_split_the_files(tmp_path):
    folder = write_images(tmp_path / "imgs", 6)
    seen = []
    for pipeline_id in range(2):
        context = tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline_id, num_replicas_in_sync=2
        )
        ds = data.image_dataset(
            data.ImageSource(path=str(folder)),
            data.PipelineConfig(size=40, crop=40, shuffle_files=False),
            1,
            context,
            repeat=False,
        )
        seen.append({b.tobytes() for b in collect(ds, 10)})
    assert len(seen[0]) == 3 and len(seen[1]) == 3 and not seen[0] & seen[1]


def test_missing_or_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        data.list_images(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        data.list_images(str(tmp_path / "empty"))


def test_tfds_source_by_name_and_resume(tmp_path):
    """A tiny TFDS dataset prepared here, loaded by name like coco/2017 would be."""
    tfds = pytest.importorskip("tensorflow_datasets", reason="needs pip install 'tfstyle[train]'")

    class TinyImages(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self,
                features=tfds.features.FeaturesDict({"image": tfds.features.Image(shape=(None, None, 3))}),
            )

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            rng = np.random.default_rng(0)
            for i in range(6):
                yield i, {"image": rng.integers(0, 256, (40 + i, 36, 3), dtype=np.uint8)}

    TinyImages(data_dir=str(tmp_path)).download_and_prepare()
    source = data.ImageSource.parse("tfds:tiny_images", data_dir=str(tmp_path))
    config = data.PipelineConfig(resize="shorter", size=36, crop=32, seed=1)
    straight = collect(data.image_dataset(source, config, 2), 5)
    assert straight[0].shape == (2, 32, 32, 3) and 0.0 <= straight[0].min() <= straight[0].max() <= 1
    resumed = collect(data.image_dataset(source, config, 2, start=4), 3)
    for x, y in zip(straight[2:], resumed):
        np.testing.assert_array_equal(x, y)


def test_start_resumes_the_exact_stream(tmp_path):
    """Skipping k images (a resumed run) yields what the uninterrupted stream yields next."""
    folder = write_images(tmp_path / "imgs", 5)
    config = data.PipelineConfig(size=40, crop=24, flip=True, seed=3)
    source = data.ImageSource(path=str(folder))
    straight = collect(data.image_dataset(source, config, 2), 7)  # crosses epoch boundaries
    resumed = collect(data.image_dataset(source, config, 2, start=6), 4)
    for x, y in zip(straight[3:], resumed):
        np.testing.assert_array_equal(x, y)
