r"""Train SANet (Park & Lee 2019) with the paper's recipe or the public port's.

    python -m training.sanet --content_dir=/data/coco/train2017 \
        --style_dir=/data/wikiart/train --vgg_weights=~/.keras/models/tfstyle-sanet \
        --model_dir=runs/sanet [--recipe=paper|port]

``--recipe paper`` (the default), Park & Lee 2019 as printed (§3.3 for the loss
weights, §4.1 for the data and optimizer): λc 1, λs 3, λidentity1 1 (pixels),
λidentity2 50 (features); each image's shorter side resized to 512 keeping its
aspect, then a random 256² crop; Adam at a constant 1e-4; batch 5.
``--recipe port``: the public PyTorch port's train.py (GlebSBrykin/SANET), with
which the published weights were trained: identity weights 50 (pixels) and 1
(features), images resized to 512×512, Adam at 1e-4 / (1 + 5e-5·step). Every
value can still be set by its own flag; TRAINING.md tells the two apart.

The encoder (normalised VGG19) is frozen; the transform and decoder train. At
the end the weights are exported to ``MODEL_DIR/export``, which ``tfstyle
stylize --weights`` loads.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

import keras
import tensorflow as tf
from absl import app, flags, logging

from tfstyle import losses as L
from tfstyle import weights as weights_lib
from tfstyle.checks import check_finite
from tfstyle.models.sanet import TRAINING_TAPS, SANetStylizer, check_levels
from tfstyle.models.sanet_weights import ENCODER_FILE, load_encoder, load_weights_dir, save_weights_dir
from tfstyle.programs import run
from training import data
from training.config import from_flags
from training.flags_common import define_trainer_flags, run_task
from training.trainer import Task


@dataclasses.dataclass
class SANetConfig:
    content: data.ImageSource
    style: data.ImageSource
    vgg_weights: Optional[str]  # folder or .weights.h5 of the normalised VGG19; None = random
    init_from: Optional[str] = None  # a SANetStylizer weights folder to fine-tune from
    # the paper's: shorter side to 512, aspect kept, random 256² crop (RECIPES["paper"])
    pipeline: data.PipelineConfig = dataclasses.field(
        default_factory=lambda: data.PipelineConfig(resize="shorter")
    )
    global_batch_size: int = 5
    learning_rate: float = 1e-4
    lr_decay: float = 0.0
    content_weight: float = 1.0
    style_weight: float = 3.0
    identity1_weight: float = 1.0
    identity2_weight: float = 50.0
    # ("relu4_1", "relu5_1"): the multi-level model; ("relu4_1",): the paper's single-level one
    levels: tuple = ("relu4_1", "relu5_1")


#: The two published recipes, by flag (TRAINING.md, "Which recipe"). A flag given on the
#: command line wins over its recipe's value.
RECIPES = {
    # Park & Lee 2019: λ in §3.3 (the total loss and the text under the identity loss), data and
    # optimizer in §4.1 ("resized the shorter side to 512 while keeping the aspect ratio,
    # randomly cropped 256×256"; Adam, learning rate 1e-4, batch size 5)
    "paper": {
        "content_weight": 1.0,
        "style_weight": 3.0,
        "identity1_weight": 1.0,
        "identity2_weight": 50.0,
        "resize": "shorter",
        "image_size": 512,
        "crop_size": 256,
        "learning_rate": 1e-4,
        "lr_decay": 0.0,
    },
    # GlebSBrykin/SANET train.py: lambda_identity 50 / 1, transforms.Resize((512, 512)), RandomCrop(256),
    # adjust_learning_rate: lr / (1 + lr_decay * iteration), lr_decay 5e-5
    "port": {
        "content_weight": 1.0,
        "style_weight": 3.0,
        "identity1_weight": 50.0,
        "identity2_weight": 1.0,
        "resize": "fixed",
        "image_size": 512,
        "crop_size": 256,
        "learning_rate": 1e-4,
        "lr_decay": 5e-5,
    },
}


def sanet_losses(stylizer: SANetStylizer, content, style) -> tuple[dict, dict]:
    """The four SANet training losses for one batch (Park & Lee 2019, §3.3: content, style and the
    two identity terms; their weights are the recipe's).

    Returns ({content, style, identity1, identity2}, images) with images the
    stylized batch and the two identity reconstructions.
    """
    encode = stylizer.encoder
    fc, fs = encode(content), encode(style)

    def generate(a, b):
        return stylizer.decoder(stylizer.transform(a["relu4_1"], b["relu4_1"], a["relu5_1"], b["relu5_1"]))

    ics, icc, iss = generate(fc, fs), generate(fc, fc), generate(fs, fs)
    f_ics, f_icc, f_iss = encode(ics), encode(icc), encode(iss)
    mse = lambda a, b: tf.reduce_mean(tf.square(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))  # noqa
    terms = {
        # eq. 5: content loss on mean-variance-normalised relu4_1 and relu5_1
        "content": L.mvn_content_loss(f_ics["relu4_1"], fc["relu4_1"])
        + L.mvn_content_loss(f_ics["relu5_1"], fc["relu5_1"]),
        # eq. 6: mean/std matching on relu1_1..relu5_1
        "style": tf.add_n([L.mean_std_style_loss(f_ics[t], fs[t]) for t in TRAINING_TAPS]),
        # eq. 7: pixel identity
        "identity1": mse(icc, content) + mse(iss, style),
        # eq. 7: feature identity on every layer
        "identity2": tf.add_n([mse(f_icc[t], fc[t]) + mse(f_iss[t], fs[t]) for t in TRAINING_TAPS]),
    }
    return terms, {"stylized": ics, "identity_content": icc, "identity_style": iss}


class SANetTask(Task):
    def __init__(self, config: SANetConfig):
        self.config = config

    def check(self, config: SANetConfig) -> None:
        config.pipeline.validate()
        for name in (
            "learning_rate",
            "lr_decay",
            "content_weight",
            "style_weight",
            "identity1_weight",
            "identity2_weight",
        ):
            check_finite(getattr(config, name), f"--{name}", low=0.0)
        data.check_source(config.content)
        data.check_source(config.style)

    def build(self):
        # one-shot attention: crops are small (256² → 1024 positions), and it
        # keeps the step free of while loops, which XLA and TPUs prefer
        stylizer = SANetStylizer(training_taps=True, chunk_size=0, levels=tuple(self.config.levels))
        if self.config.vgg_weights:
            path = self.config.vgg_weights
            if os.path.isdir(path):
                path = os.path.join(path, ENCODER_FILE)
            load_encoder(stylizer, path)
        else:
            logging.warning(
                "no --vgg_weights: the frozen encoder is random; the trained model is useful for tests only"
            )
        if self.config.init_from:
            load_weights_dir(stylizer, self.config.init_from)
        stylizer.encoder.trainable = False
        self.stylizer = stylizer
        self.models = {"transform": stylizer.transform, "decoder": stylizer.decoder}

    def trainable_variables(self):
        return self.stylizer.transform.trainable_variables + self.stylizer.decoder.trainable_variables

    def make_optimizer(self):
        # lr / (1 + decay·step): the recipe's adjust_learning_rate
        schedule = keras.optimizers.schedules.InverseTimeDecay(
            self.config.learning_rate, decay_steps=1, decay_rate=self.config.lr_decay
        )
        return keras.optimizers.Adam(schedule)

    def dataset(self, input_context, start):
        batch = input_context.get_per_replica_batch_size(self.config.global_batch_size)
        pipeline = self.config.pipeline
        content = data.image_dataset(self.config.content, pipeline, batch, input_context, start=start)
        style = data.image_dataset(
            self.config.style,
            dataclasses.replace(pipeline, seed=pipeline.seed + 1),
            batch,
            input_context,
            start=start,
        )
        return data.paired_dataset(content, style)

    def losses(self, batch):
        content, style = batch
        terms, images = sanet_losses(self.stylizer, content, style)
        c = self.config
        weights = {
            "content": c.content_weight,
            "style": c.style_weight,
            "identity1": c.identity1_weight,
            "identity2": c.identity2_weight,
        }
        terms["total"] = tf.add_n([weights[k] * v for k, v in terms.items()])
        return terms, images

    def summary_images(self, batch, images):
        content, style = batch
        row = lambda *xs: tf.concat([tf.cast(x, tf.float32) for x in xs], axis=2)  # noqa: E731
        return {
            "content | style | stylized | identity": row(
                content, style, images["stylized"], images["identity_content"]
            )
        }

    def export(self, directory: str) -> str:
        save_weights_dir(self.stylizer, directory)
        return directory


# ---- the program -----------------------------------------------------------------

FLAGS = flags.FLAGS


def define_flags():
    define_trainer_flags(steps=160_000, batch_size=5)
    flags.DEFINE_string("content_dir", None, "folder of content images (e.g. COCO train2017)")
    flags.DEFINE_string("content_tfds", None, "tensorflow-datasets name for content, e.g. coco/2017")
    flags.DEFINE_string("style_dir", None, "folder of style images (e.g. WikiArt)")
    flags.DEFINE_string("style_tfds", None, "tensorflow-datasets name for style images")
    flags.DEFINE_string(
        "vgg_weights",
        None,
        "normalised VGG19: a converted SANet weights folder or "
        "vgg_normalised.weights.h5; 'random' for smoke tests",
    )
    flags.DEFINE_string("init_from", None, "SANetStylizer weights folder to fine-tune from")
    flags.DEFINE_enum(
        "recipe",
        "paper",
        list(RECIPES),
        "paper: Park & Lee 2019 as printed; port: the public PyTorch port's train.py "
        "(each flag below overrides its recipe's value; TRAINING.md)",
    )
    flags.DEFINE_float("learning_rate", None, "initial learning rate (recipe: 1e-4)")
    flags.DEFINE_float(
        "lr_decay", None, "lr = learning_rate / (1 + lr_decay * step) (recipe: paper 0, port 5e-5)"
    )
    flags.DEFINE_float("content_weight", None, "λc (recipe: 1)")
    flags.DEFINE_float("style_weight", None, "λs (recipe: 3)")
    flags.DEFINE_float("identity1_weight", None, "pixel identity loss weight (recipe: paper 1, port 50)")
    flags.DEFINE_float("identity2_weight", None, "feature identity loss weight (recipe: paper 50, port 1)")
    flags.DEFINE_enum(
        "resize",
        None,
        data.RESIZE_MODES,
        "fixed: size×size; shorter: shorter side to size, aspect kept (recipe: paper shorter, port fixed)",
    )
    flags.DEFINE_integer("image_size", None, "resize target before cropping (recipe: 512)")
    flags.DEFINE_integer("crop_size", None, "random crop side (recipe: 256)")
    flags.DEFINE_bool("flip", False, "random horizontal flips")
    flags.DEFINE_list(
        "levels",
        ["relu4_1", "relu5_1"],
        "attended levels: relu4_1,relu5_1 (multi-level, as the published weights) or relu4_1 "
        "(the paper's single-level model, Table 1 and Fig. 7)",
    )


def source_from_flags(folder, tfds_name, what) -> data.ImageSource:
    if bool(folder) == bool(tfds_name):
        raise app.UsageError(f"pass exactly one of --{what}_dir or --{what}_tfds")
    return data.ImageSource(path=folder) if folder else data.ImageSource(tfds_name=tfds_name)


def resolve_encoder(value: str) -> Optional[str]:
    """--vgg_weights: a SANet weights folder, its vgg_normalised.weights.h5, or random."""
    if value != weights_lib.RANDOM and os.path.isdir(os.path.expanduser(value)):
        return weights_lib.resolve_weights(value, weights_lib.SANET, option="--vgg_weights")
    return weights_lib.resolve_weights(value, weights_lib.VGG_NORMALISED, option="--vgg_weights")


def apply_recipe(flag_values) -> dict:
    """Fill every flag the command line left unset from ``--recipe``; returns what was filled."""
    filled = {}
    for name, value in RECIPES[flag_values.recipe].items():
        if flag_values[name].value is None:
            flag_values[name].value = value
            filled[name] = value
    return filled


def config_from_flags() -> SANetConfig:
    filled = apply_recipe(FLAGS)
    logging.info(
        "recipe %s: %s", FLAGS.recipe, ", ".join(f"{k}={v}" for k, v in filled.items()) or "all overridden"
    )
    if FLAGS.vgg_weights is None:
        raise app.UsageError(
            "--vgg_weights is required (a converted SANet folder, see "
            "'tfstyle weights import-sanet'); pass --vgg_weights=random for smoke tests"
        )
    return from_flags(
        SANetConfig,
        FLAGS,
        content=source_from_flags(FLAGS.content_dir, FLAGS.content_tfds, "content"),
        style=source_from_flags(FLAGS.style_dir, FLAGS.style_tfds, "style"),
        vgg_weights=resolve_encoder(FLAGS.vgg_weights),
        init_from=FLAGS.init_from
        and weights_lib.resolve_weights(FLAGS.init_from, weights_lib.SANET, option="--init_from"),
        pipeline=data.PipelineConfig(
            resize=FLAGS.resize, size=FLAGS.image_size, crop=FLAGS.crop_size, flip=FLAGS.flip, seed=FLAGS.seed
        ),
        levels=check_levels(FLAGS.levels),
    )


def main(argv):
    del argv
    config = config_from_flags()
    directory = run_task(SANetTask(config), config)
    logging.info("exported weights to %s (tfstyle stylize --weights %s)", directory, directory)


if __name__ == "__main__":
    define_flags()
    run(main, "training.sanet")
