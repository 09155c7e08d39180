r"""Train SegNet for person segmentation.

    python -m training.segnet --tfds=coco/2017_panoptic --encoder_weights=imagenet \
        --model_dir=runs/segnet
    python -m training.segnet --data_dir=/data/people --model_dir=runs/segnet-people

Person masks come from COCO panoptic (segments labelled "person") or a folder
of images + masks. The loss is softmax cross-entropy with median-frequency
class balancing (weights estimated from the first 20 batches) and, by default,
the original solver (SGD, momentum 0.9, weight decay 5e-4, batch 4); validation
reports person IoU and mean IoU to TensorBoard. The
export, ``MODEL_DIR/export/segnet.weights.h5``, is what ``tfstyle segment``
and ``tfstyle portrait`` take as ``--segmenter segnet:PATH``.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import keras
import numpy as np
import tensorflow as tf
from absl import flags, logging

from tfstyle import weights as weights_lib
from tfstyle.checks import check_finite
from tfstyle.models.segnet import build_segnet
from tfstyle.programs import run
from training import segnet_data
from training.config import DataSpec, check_local_data, data_spec_from_flags, define_data_flags, from_flags
from training.flags_common import define_trainer_flags, run_task
from training.trainer import Task

WEIGHTS_FILE = "segnet.weights.h5"


DATA_KINDS = ("tfds", "folder", "synthetic")


@dataclasses.dataclass
class SegNetConfig:
    data: DataSpec  # (image, person mask) examples
    size: tuple = (256, 256)
    global_batch_size: int = 4
    learning_rate: float = 1e-3
    optimizer: str = "sgd"  # the original solver: SGD, momentum 0.9, weight decay 5e-4
    seed: int = 0
    encoder_weights: Optional[str] = None
    init_from: Optional[str] = None
    balance_batches: int = 20
    validation_batches: int = 20


def iou(predicted: np.ndarray, truth: np.ndarray, cls: int) -> float:
    p, t = predicted == cls, truth == cls
    union = np.logical_or(p, t).sum()
    return float(np.logical_and(p, t).sum() / union) if union else float("nan")


class SegNetTask(Task):
    weights_file = WEIGHTS_FILE

    def __init__(self, config: SegNetConfig):
        self.config = config

    def check(self, config: SegNetConfig) -> None:
        config.data.check(DATA_KINDS)
        check_local_data(config.data)
        check_finite(config.learning_rate, "--learning_rate", low=0.0, low_open=True)

    def build(self):
        c = self.config
        c.data.check(DATA_KINDS)
        self.train, self.validation = datasets(c.data, c.size[0], c.seed)
        init = c.init_from and weights_lib.resolve_weights(
            c.init_from, weights_lib.SEGNET, option="--init_from"
        )
        self.model = build_segnet(2, weights=init, encoder_weights=c.encoder_weights)
        self.models = {"segnet": self.model}
        sample = segnet_data.pipeline(self.train, c.size, c.global_batch_size, seed=c.seed, repeat=False)
        masks = [m.numpy() for _, m in sample.take(c.balance_batches)]
        self.class_weights = tf.constant(segnet_data.median_frequency_weights(masks, 2))
        logging.info("median-frequency class weights: %s", self.class_weights.numpy())

    def trainable_variables(self):
        return self.model.trainable_variables

    def make_optimizer(self):
        if self.config.optimizer == "adam":
            return keras.optimizers.Adam(self.config.learning_rate)
        return keras.optimizers.SGD(self.config.learning_rate, momentum=0.9, weight_decay=5e-4)

    def dataset(self, input_context, start):
        c = self.config
        ds = self.train
        if input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        batch = input_context.get_per_replica_batch_size(c.global_batch_size)
        return segnet_data.pipeline(ds, c.size, batch, seed=c.seed, start=start)

    def losses(self, batch):
        image, mask = batch
        logits = self.model(image, training=True)
        per_pixel = tf.nn.sparse_softmax_cross_entropy_with_logits(mask, tf.cast(logits, tf.float32))
        weights = tf.gather(self.class_weights, mask)
        loss = tf.reduce_sum(per_pixel * weights) / tf.maximum(tf.reduce_sum(weights), 1e-6)
        predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, mask), tf.float32))
        return {"cross_entropy": loss, "pixel_accuracy": accuracy, "total": loss}, {"logits": logits}

    def summary_images(self, batch, images):
        image, mask = batch
        probability = tf.nn.softmax(tf.cast(images["logits"], tf.float32))[..., 1:2]
        grey = lambda m: tf.repeat(tf.cast(m, tf.float32), 3, axis=-1)  # noqa: E731
        return {
            "image | truth | person probability": tf.concat(
                [tf.cast(image, tf.float32), grey(mask[..., None]), grey(probability)], axis=2
            )
        }

    def evaluate(self):
        c = self.config
        if self.validation is None:
            return {}
        ds = segnet_data.pipeline(self.validation, c.size, c.global_batch_size, repeat=False, flip=False)
        predicted, truth = [], []
        for image, mask in ds.take(c.validation_batches):
            predicted.append(tf.argmax(self.model(image, training=False), axis=-1).numpy())
            truth.append(mask.numpy())
        if not predicted:
            return {}
        predicted, truth = np.concatenate(predicted), np.concatenate(truth)
        person, background = iou(predicted, truth, 1), iou(predicted, truth, 0)
        return {"iou/person": person, "iou/mean": float(np.nanmean([person, background]))}


FLAGS = flags.FLAGS


def define_flags():
    define_trainer_flags(steps=50_000, batch_size=4)
    define_data_flags(
        {
            "tfds": "tensorflow-datasets name: coco/2017_panoptic (validation: its 'validation' split)",
            "data_dir": "folder with images/NAME.jpg and masks/NAME.png",
            "validation_dir": "folder like --data_dir for validation",
            "synthetic": "generated figures on textured backgrounds (smoke tests)",
        }
    )
    flags.DEFINE_list("size", ["256", "256"], "training height,width")
    flags.DEFINE_float("learning_rate", 1e-3, "learning rate")
    flags.DEFINE_enum(
        "optimizer",
        "sgd",
        ["sgd", "adam"],
        "sgd: the original solver (momentum 0.9, weight decay 5e-4); adam: converges faster on small data",
    )
    flags.DEFINE_string("encoder_weights", None, "'imagenet' or a keras-applications VGG16 notop .h5")
    flags.DEFINE_string("init_from", None, "SegNet .weights.h5 to fine-tune from")


def datasets(spec: DataSpec, size: int, seed: int):
    """(train, validation or None) tf.data sources for a `DataSpec`; `size` sizes synthetic figures."""
    if spec.kind == "tfds":
        return (
            segnet_data.coco_person_masks("train", spec.data_dir, spec.location),
            segnet_data.coco_person_masks("validation", spec.data_dir, spec.location),
        )
    if spec.kind == "folder":
        validation = segnet_data.folder_masks(spec.validation) if spec.validation else None
        return segnet_data.folder_masks(spec.location), validation
    return (
        segnet_data.synthetic_dataset(256, size, seed),
        segnet_data.synthetic_dataset(32, size, seed + 1000),
    )


def main(argv):
    del argv
    size = tuple(int(s) for s in FLAGS.size)
    config = from_flags(SegNetConfig, FLAGS, data=data_spec_from_flags(FLAGS, DATA_KINDS), size=size)
    path = run_task(SegNetTask(config), config)
    logging.info("exported %s (tfstyle segment --segmenter segnet:%s)", path, path)


if __name__ == "__main__":
    define_flags()
    run(main, "training.segnet")
