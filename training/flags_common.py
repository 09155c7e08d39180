"""Flags every training program shares, and the one way a run starts from them."""

import os

import keras
from absl import flags, logging

from tfstyle.errors import MissingExtraError
from tfstyle.precision import PRECISIONS
from training.config import from_flags, write_config
from training.trainer import STRATEGIES, Task, Trainer, TrainerConfig, make_strategy

FLAGS = flags.FLAGS


def define_trainer_flags(steps: int, batch_size: int) -> None:
    flags.DEFINE_string("model_dir", None, "checkpoints, TensorBoard logs and the export go here")
    flags.DEFINE_integer("steps", steps, "training steps")
    flags.DEFINE_integer("batch_size", batch_size, "global batch size (split across replicas)")
    flags.DEFINE_integer("seed", 0, "seed of data order, augmentation and initial weights")
    flags.DEFINE_enum("strategy", "default", STRATEGIES, "tf.distribute strategy")
    flags.DEFINE_string("tpu", "", "TPU name or address for --strategy=tpu")
    flags.DEFINE_enum(
        "precision",
        "float32",
        PRECISIONS,
        "float32, bfloat16 (mixed, for AMX CPUs, Ampere+ GPUs, TPUs) or float16 (mixed, with "
        "dynamic loss scaling); auto = bfloat16 where the device has it",
    )
    flags.DEFINE_bool("xla", False, "compile the train step with XLA")
    flags.DEFINE_integer("log_every", 100, "steps between log lines and scalar summaries")
    flags.DEFINE_integer("image_every", 1000, "steps between image summaries")
    flags.DEFINE_integer("checkpoint_every", 1000, "steps between checkpoints")
    flags.DEFINE_integer("eval_every", 1000, "steps between validation runs (0: never)")
    flags.DEFINE_string("export_dir", None, "where the final weights go (default MODEL_DIR/export)")
    flags.mark_flag_as_required("model_dir")


def export_dir() -> str:
    return FLAGS.export_dir or os.path.join(FLAGS.model_dir, "export")


def run_task(task: Task, task_config) -> str:
    """Seed, write the resolved configuration, train `task` (resuming from MODEL_DIR if it
    holds a checkpoint) and export it; returns what `task.export` wrote.

    MODEL_DIR gets ``flags.txt`` (reusable as ``--flagfile``) and ``config.json``
    (the trainer's and the task's resolved configs, see `training.config`).
    """
    trainer_config = from_flags(TrainerConfig, FLAGS)
    # refuse what can be known now, before MODEL_DIR gets a single file
    trainer_config.validate()
    task.check(task_config)
    try:
        import tensorboard  # noqa: F401  (tf.summary writes nothing without it)
    except ImportError:
        raise MissingExtraError("tensorboard", "train", "training summaries") from None
    keras.utils.set_random_seed(FLAGS.seed)
    os.makedirs(FLAGS.model_dir, exist_ok=True)
    with open(os.path.join(FLAGS.model_dir, "flags.txt"), "w") as f:
        f.write(FLAGS.flags_into_string())
    write_config(FLAGS.model_dir, trainer=trainer_config, task=task_config)
    strategy = make_strategy(FLAGS.strategy, FLAGS.tpu)
    logging.info(
        "strategy %s with %d replicas, precision %s",
        FLAGS.strategy,
        strategy.num_replicas_in_sync,
        trainer_config.precision,
    )
    trainer = Trainer(task, trainer_config, strategy)
    trainer.restore()
    trainer.train()
    return task.export(export_dir())
