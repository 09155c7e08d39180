r"""Train the relative-depth hourglass (Chen et al. 2016) with the pairwise ranking loss.

    python -m training.depth --tfds=nyu_depth_v2 --model_dir=runs/depth
    python -m training.depth --data_dir=/data/kitti_pairs --model_dir=runs/depth-kitti \
        --init_from=runs/depth/export/hourglass.weights.h5 --learning_rate=1e-4

Defaults follow Chen et al. 2016 (§4, and their released training code): RMSprop, batch 4, lr 1e-3, 240×320
inputs, 800 pairs per image sampled from dense depth (≤ 40 px apart, depth
difference ≥ 1% of the range, 20% equal pairs). Validation loss, ordinal
accuracy and WKDR go to TensorBoard. The export is
``MODEL_DIR/export/hourglass.weights.h5``, which ``tfstyle depth`` and
``tfstyle optimize --depth-weights`` load.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from tfstyle import weights as weights_lib
from tfstyle.checks import check_finite
from tfstyle.colormap import colorize
from tfstyle.losses import gather_pair_depths, ranking_loss
from tfstyle.models import depth_metrics as metrics
from tfstyle.models.depth import build_hourglass
from tfstyle.programs import run
from training import depth_data
from training.config import DataSpec, check_local_data, data_spec_from_flags, define_data_flags, from_flags
from training.flags_common import define_trainer_flags, run_task
from training.trainer import Task

WEIGHTS_FILE = "hourglass.weights.h5"


DATA_KINDS = ("tfds", "folder", "csv", "synthetic")


@dataclasses.dataclass
class DepthConfig:
    data: DataSpec  # dense depth (tfds, folder, synthetic) or labelled pairs (csv)
    size: tuple = (240, 320)
    pairs: depth_data.PairConfig = dataclasses.field(default_factory=depth_data.PairConfig)
    global_batch_size: int = 4
    learning_rate: float = 1e-3
    seed: int = 0
    init_from: Optional[str] = None
    wkdr_tau: float = 0.02
    validation_batches: int = 20
    crop_to_aspect: bool = False  # cut frames to `size`'s aspect before resizing (KITTI)


#: Settings of a paper's experiment, applied under ``--preset`` to every flag the command line
#: leaves at its default (TRAINING.md).
PRESETS = {
    # Kozlovtsev 2019, §5.1: fine-tuning on KITTI's sparse lidar depth, 224×288 after a crop to
    # that aspect, pairs ≤ 40 px apart with Δ ≥ 1 % of the measured range, ordinal labels only
    "kozlovtsev2019_kitti": {
        "size": ["224", "288"],
        "crop_to_aspect": True,
        "max_distance": 40.0,
        "min_difference": 0.01,
        "equal_fraction": 0.0,
    },
}


class DepthTask(Task):
    weights_file = WEIGHTS_FILE

    def __init__(self, config: DepthConfig):
        self.config = config

    def build(self):
        self.config.data.check(DATA_KINDS)
        self.train, self.validation = datasets(self.config.data, self.config.size[0], self.config.seed)
        init = self.config.init_from
        self.model = build_hourglass(
            init and weights_lib.resolve_weights(init, weights_lib.HOURGLASS, option="--init_from")
        )
        self.models = {"hourglass": self.model}

    def check(self, config: DepthConfig) -> None:
        config.data.check(DATA_KINDS)
        check_local_data(config.data)
        check_finite(config.learning_rate, "--learning_rate", low=0.0, low_open=True)

    @property
    def sparse(self) -> bool:
        """Examples carry labelled pairs (CSV) instead of dense depth."""
        return self.config.data.kind == "csv"

    def trainable_variables(self):
        return self.model.trainable_variables

    def make_optimizer(self):
        return keras.optimizers.RMSprop(self.config.learning_rate)

    def dataset(self, input_context, start):
        c = self.config
        ds = self.train
        if input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        batch = input_context.get_per_replica_batch_size(c.global_batch_size)
        if self.sparse:
            return depth_data.sparse_pipeline(ds, c.size, batch, seed=c.seed, start=start)
        return depth_data.training_pipeline(
            ds, c.size, batch, c.pairs, seed=c.seed, start=start, crop_to_aspect=c.crop_to_aspect
        )

    def losses(self, batch):
        image, pairs, labels, valid = batch
        depth = self.model(image, training=True)
        loss = ranking_loss(depth, pairs, labels, valid)
        diff = gather_pair_depths(depth, pairs)
        ordinal = tf.cast(tf.not_equal(labels, 0), tf.float32) * valid
        correct = tf.cast(tf.equal(tf.sign(diff), tf.cast(labels, tf.float32)), tf.float32)
        accuracy = tf.reduce_sum(correct * ordinal) / tf.maximum(tf.reduce_sum(ordinal), 1.0)
        return {"ranking": loss, "ordinal_accuracy": accuracy, "total": loss}, {"depth": depth}

    def summary_images(self, batch, images):
        image = batch[0]
        depth = images["depth"].numpy()[..., 0]
        coloured = np.stack([colorize(d) for d in depth])
        return {"image | predicted depth": tf.concat([tf.cast(image, tf.float32), coloured], axis=2)}

    def evaluate(self):
        c = self.config
        if self.validation is None:
            return {}
        if self.sparse:
            ds = depth_data.sparse_pipeline(
                self.validation, c.size, c.global_batch_size, repeat=False, flip=False
            )
        else:
            ds = depth_data.training_pipeline(
                self.validation,
                c.size,
                c.global_batch_size,
                c.pairs,
                seed=c.seed + 1,
                repeat=False,
                flip=False,
                crop_to_aspect=c.crop_to_aspect,
            )
        diffs, labels, valids, losses = [], [], [], []
        for image, pairs, label, valid in ds.take(c.validation_batches):
            depth = self.model(image, training=False)
            losses.append(float(ranking_loss(depth, pairs, label, valid)))
            diffs.append(gather_pair_depths(depth, pairs).numpy())
            labels.append(label.numpy())
            valids.append(valid.numpy())
        if not losses:
            return {}
        diff, label, valid = (np.concatenate(x) for x in (diffs, labels, valids))
        wkdr = metrics.wkdr(diff, label, c.wkdr_tau, valid)
        return {
            "loss/ranking": float(np.mean(losses)),
            "ordinal_accuracy": metrics.ordinal_accuracy(diff, label, valid),
            "whdr": metrics.whdr(diff, label, valid),
            **{f"wkdr/{k}": v for k, v in wkdr.items()},
        }


# ---- the program ----------------------------------------------------------------

FLAGS = flags.FLAGS


def define_pair_flags(equal_fraction: float) -> None:
    """The pair-sampling flags (`depth_data.PairConfig`), shared with training.evaluate_depth."""
    flags.DEFINE_integer("pairs_per_image", 800, "sampled point pairs per image")
    flags.DEFINE_float("max_distance", 40.0, "max pixel distance within a pair")
    flags.DEFINE_float("min_difference", 0.01, "min depth difference of ordinal pairs, of the range")
    flags.DEFINE_float("equal_fraction", equal_fraction, "fraction of equal pairs")
    flags.DEFINE_float("equal_threshold", 0.002, "max depth difference of equal pairs, of the range")


def pair_config(flag_values) -> depth_data.PairConfig:
    """`depth_data.PairConfig` from the flags of `define_pair_flags`."""
    return depth_data.PairConfig(
        flag_values.pairs_per_image,
        flag_values.max_distance,
        flag_values.min_difference,
        flag_values.equal_fraction,
        flag_values.equal_threshold,
    )


def size_flag(values, name: str = "size") -> tuple:
    """A height,width flag as a tuple, refused in one line unless two positive multiples of 16."""
    size = tuple(int(v) for v in values)
    if len(size) != 2 or any(s <= 0 or s % 16 for s in size):
        raise app.UsageError(f"--{name} takes height,width, multiples of 16; got {','.join(values)}")
    return size


def define_flags():
    define_trainer_flags(steps=100_000, batch_size=4)
    define_data_flags(
        {
            "tfds": "tensorflow-datasets name, e.g. nyu_depth_v2 (validation: its 'validation' split)",
            "data_dir": "folder with rgb/NAME.jpg and depth/NAME.png|.npy",
            "validation_dir": "folder like --data_dir for validation",
            "pairs_csv": "CSV of labelled pairs: image,y_a,x_a,y_b,x_b,relation (> farther, "
            "< closer, = equal), paths relative to the CSV",
            "validation_csv": "CSV like --pairs_csv for validation",
            "synthetic": "generated scenes with known depth (smoke tests)",
        }
    )
    flags.DEFINE_list("size", ["240", "320"], "training height,width (multiples of 16)")
    flags.DEFINE_float("learning_rate", 1e-3, "RMSprop learning rate")
    define_pair_flags(equal_fraction=0.2)
    flags.DEFINE_string("init_from", None, "hourglass .weights.h5 to fine-tune from")
    flags.DEFINE_bool("crop_to_aspect", False, "crop each frame to --size's aspect before resizing (KITTI)")
    flags.DEFINE_enum(
        "preset",
        None,
        list(PRESETS),
        "a paper's settings for the flags left at their defaults: kozlovtsev2019_kitti = 224,288 "
        "after a crop to that aspect, pairs <= 40 px apart, >= 1%% of the range, no equal pairs",
    )


def apply_preset(flag_values) -> dict:
    """Set every flag of ``--preset`` that the command line did not give; returns what was set."""
    if flag_values.preset is None:
        return {}
    applied = {}
    for name, value in PRESETS[flag_values.preset].items():
        if not flag_values[name].present:
            flag_values[name].value = value
            applied[name] = value
    return applied


def datasets(spec: DataSpec, size: int, seed: int):
    """(train, validation or None) tf.data sources for a `DataSpec`; `size` sizes synthetic scenes."""
    if spec.kind == "csv":
        validation = depth_data.pairs_csv_dataset(spec.validation) if spec.validation else None
        return depth_data.pairs_csv_dataset(spec.location), validation
    if spec.kind == "tfds":
        return (
            depth_data.tfds_dataset(spec.location, "train", spec.data_dir),
            depth_data.tfds_dataset(spec.location, "validation", spec.data_dir),
        )
    if spec.kind == "folder":
        validation = depth_data.folder_dataset(spec.validation) if spec.validation else None
        return depth_data.folder_dataset(spec.location), validation
    return (
        depth_data.synthetic_dataset(256, size, seed=seed),
        depth_data.synthetic_dataset(32, size, seed=seed + 1000),
    )


def main(argv):
    del argv
    applied = apply_preset(FLAGS)
    if applied:
        logging.info("preset %s: %s", FLAGS.preset, ", ".join(f"{k}={v}" for k, v in applied.items()))
    size = size_flag(FLAGS.size)
    config = from_flags(
        DepthConfig,
        FLAGS,
        data=data_spec_from_flags(FLAGS, DATA_KINDS),
        size=size,
        pairs=pair_config(FLAGS),
    )
    path = run_task(DepthTask(config), config)
    logging.info("exported %s (tfstyle depth --depth-weights %s)", path, path)


if __name__ == "__main__":
    define_flags()
    run(main, "training.depth")
