"""Flags every training program shares, and turning them into a `TrainerConfig`."""

import os

import keras
from absl import flags, logging

from training.trainer import (PRECISIONS, STRATEGIES, Task, Trainer, TrainerConfig, make_strategy,
                              set_precision)

FLAGS = flags.FLAGS


def define_trainer_flags(steps: int, batch_size: int) -> None:
    flags.DEFINE_string("model_dir", None, "checkpoints, TensorBoard logs and the export go here")
    flags.DEFINE_integer("steps", steps, "training steps")
    flags.DEFINE_integer("batch_size", batch_size, "global batch size (split across replicas)")
    flags.DEFINE_integer("seed", 0, "seed of data order, augmentation and initial weights")
    flags.DEFINE_enum("strategy", "default", STRATEGIES, "tf.distribute strategy")
    flags.DEFINE_string("tpu", "", "TPU name or address for --strategy=tpu")
    flags.DEFINE_enum("precision", "float32", PRECISIONS, "Keras dtype policy")
    flags.DEFINE_bool("xla", False, "compile the train step with XLA")
    flags.DEFINE_integer("log_every", 100, "steps between log lines and scalar summaries")
    flags.DEFINE_integer("image_every", 1000, "steps between image summaries")
    flags.DEFINE_integer("checkpoint_every", 1000, "steps between checkpoints")
    flags.DEFINE_integer("eval_every", 1000, "steps between validation runs (0: never)")
    flags.DEFINE_string("export_dir", None, "where the final weights go (default MODEL_DIR/export)")
    flags.mark_flag_as_required("model_dir")


def trainer_config_from_flags() -> TrainerConfig:
    return TrainerConfig(model_dir=FLAGS.model_dir, steps=FLAGS.steps,
                         global_batch_size=FLAGS.batch_size, log_every=FLAGS.log_every,
                         summary_every=FLAGS.log_every, image_every=FLAGS.image_every,
                         checkpoint_every=FLAGS.checkpoint_every, eval_every=FLAGS.eval_every,
                         jit_compile=FLAGS.xla)


def setup_run():
    """Seed, precision, resolved flags in MODEL_DIR/flags.txt; returns the strategy."""
    keras.utils.set_random_seed(FLAGS.seed)
    set_precision(FLAGS.precision)
    os.makedirs(FLAGS.model_dir, exist_ok=True)
    with open(os.path.join(FLAGS.model_dir, "flags.txt"), "w") as f:
        f.write(FLAGS.flags_into_string())  # reusable as --flagfile=MODEL_DIR/flags.txt
    strategy = make_strategy(FLAGS.strategy, FLAGS.tpu)
    logging.info("strategy %s with %d replicas, precision %s", FLAGS.strategy,
                 strategy.num_replicas_in_sync, FLAGS.precision)
    return strategy


def export_dir() -> str:
    return FLAGS.export_dir or os.path.join(FLAGS.model_dir, "export")


def run_task(task: Task) -> str:
    """Set up the run, train `task` (resuming from MODEL_DIR if it holds a checkpoint),
    export it; returns what `task.export` wrote."""
    strategy = setup_run()
    trainer = Trainer(task, trainer_config_from_flags(), strategy)
    trainer.restore()
    trainer.train()
    return task.export(export_dir())
