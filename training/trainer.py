"""A custom-loop trainer shared by the training programs, knowing nothing about flags.

A task (SANet, depth, segmentation) subclasses `Task`: it builds the model
and the input pipeline, and computes a dict of losses for a batch. `Trainer`
runs it under a `tf.distribute` strategy with a compiled train step, resumable
checkpoints (model, optimizer and step; the seeded input pipeline is rebuilt
at the step reached), TensorBoard summaries and a log line every N steps.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from typing import Optional

import keras
import tensorflow as tf
from absl import logging

from tfstyle.errors import ConfigError
from tfstyle.precision import dtype_policy

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def make_strategy(name: str = "default", tpu: str = "") -> tf.distribute.Strategy:
    """The distribution strategy named by a flag.

    ``multi_worker`` reads the cluster from the ``TF_CONFIG`` environment
    variable; ``tpu`` connects to `tpu` (a name or grpc address; empty for a
    local TPU VM).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError(
                "--strategy=multi_worker needs the TF_CONFIG environment variable (see TRAINING.md)"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ConfigError(f"unknown strategy {name!r}; use one of {', '.join(STRATEGIES)}")


def set_precision(precision: str) -> str:
    """Set the global Keras dtype policy for a precision word (models built afterwards use
    it); returns the policy name."""
    policy = dtype_policy(precision)
    keras.mixed_precision.set_global_policy(policy)
    return policy


@dataclasses.dataclass
class TrainerConfig:
    model_dir: str
    steps: int
    global_batch_size: int
    log_every: int = 100
    summary_every: int = 100
    image_every: int = 1000
    checkpoint_every: int = 1000
    max_checkpoints: int = 5
    eval_every: int = 0  # steps between Task.evaluate() calls; 0 = never
    jit_compile: bool = False
    #: precision of the models (`tfstyle.precision` words); float16 adds dynamic loss scaling.
    precision: str = "float32"

    def validate(self) -> None:
        """Refuse settings no run can use, before anything is built or written."""
        counts = {
            "steps": self.steps,
            "batch size": self.global_batch_size,
            "log_every": self.log_every,
            "summary_every": self.summary_every,
            "image_every": self.image_every,
            "checkpoint_every": self.checkpoint_every,
            "max_checkpoints": self.max_checkpoints,
        }
        bad = {name: value for name, value in counts.items() if value < 1}
        if bad or self.eval_every < 0:
            bad.update({"eval_every": self.eval_every} if self.eval_every < 0 else {})
            raise ConfigError(f"these must be >= 1 (eval_every >= 0): {bad}")
        dtype_policy(self.precision)


class Task:
    """What a training program provides to `Trainer`."""

    #: Keras models whose weights the checkpoint holds, by name.
    models: Mapping[str, keras.Model]

    def build(self) -> None:
        """Create models (called inside the strategy's scope)."""
        raise NotImplementedError

    def trainable_variables(self) -> list:
        raise NotImplementedError

    def make_optimizer(self) -> keras.optimizers.Optimizer:
        raise NotImplementedError

    def dataset(self, input_context: tf.distribute.InputContext, start: int) -> tf.data.Dataset:
        """The per-replica input pipeline (batch = per-replica batch).

        `start` is how many examples this pipeline delivered before (a resumed
        run), i.e. step × per-replica batch × replicas per pipeline: a seeded
        pipeline that skips them yields what an uninterrupted run would.
        """
        raise NotImplementedError

    def losses(self, batch) -> tuple[dict, dict]:
        """({name: scalar loss averaged over the replica batch, "total": ...}, images for summaries)."""
        raise NotImplementedError

    def summary_images(self, batch, images) -> Mapping[str, tf.Tensor]:
        """Image grids [N, H, W, 3] in [0, 1] for TensorBoard."""
        return {}

    def evaluate(self) -> Mapping[str, float]:
        """Validation metrics (called every `eval_every` steps), e.g. loss and accuracy."""
        return {}

    def check(self, config) -> None:
        """Refuse `config` (the task's resolved configuration) before a run writes anything:
        unusable numbers, data sources without usable examples."""

    #: File name of `export`'s output, for tasks with a single model.
    weights_file: str = "model.weights.h5"

    def export(self, directory: str) -> str:
        """Write the trained weights where tfstyle loads them; returns the path."""
        (model,) = self.models.values()
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, self.weights_file)
        model.save_weights(path)
        return path


class Trainer:
    """Runs a `Task`: decides the precision (the global dtype policy, set before the task
    builds its models) and the loss scaling (float16 only) for every task alike."""

    def __init__(self, task: Task, config: TrainerConfig, strategy: Optional[tf.distribute.Strategy] = None):
        config.validate()
        self.task, self.config = task, config
        self.strategy = strategy or tf.distribute.get_strategy()
        policy = set_precision(config.precision)
        with self.strategy.scope():
            task.build()
            self.optimizer = task.make_optimizer()
            if policy == "mixed_float16":  # float16 gradients underflow unscaled
                self.optimizer = keras.optimizers.LossScaleOptimizer(self.optimizer)
            self.step = tf.Variable(
                0,
                dtype=tf.int64,
                trainable=False,
                name="step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
            self.optimizer.build(task.trainable_variables())
        self._iterator = None  # built at the first train() call, after any restore
        self.checkpoint = tf.train.Checkpoint(**task.models, optimizer=self.optimizer, step=self.step)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, os.path.join(config.model_dir, "checkpoints"), max_to_keep=config.max_checkpoints
        )
        self.writer = tf.summary.create_file_writer(os.path.join(config.model_dir, "train"))
        self.eval_writer = tf.summary.create_file_writer(os.path.join(config.model_dir, "validation"))
        self._train_step = self._make_train_step()

    # -- state ---------------------------------------------------------------
    @property
    def current_step(self) -> int:
        return int(self.step.numpy())

    def restore(self) -> int:
        """Resume from the latest checkpoint in model_dir; returns the step (0 when fresh)."""
        latest = self.manager.latest_checkpoint
        if latest:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
            logging.info("resumed from %s at step %d", latest, self.current_step)
        return self.current_step

    def save(self) -> str:
        return self.manager.save(checkpoint_number=self.current_step)

    # -- the step ---------------------------------------------------------------
    def _make_train_step(self) -> Callable:
        task, optimizer, strategy = self.task, self.optimizer, self.strategy
        replicas = strategy.num_replicas_in_sync

        def replica_step(batch):
            variables = task.trainable_variables()
            with tf.GradientTape() as tape:
                losses, images = task.losses(batch)
                # each replica averages over its own batch; dividing by the
                # replica count makes the all-reduced sum the global mean
                scaled = losses["total"] / replicas
                if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
                    scaled = optimizer.scale_loss(scaled)
            grads = tape.gradient(scaled, variables)
            optimizer.apply_gradients(zip(grads, variables))
            return losses, images

        if self.config.jit_compile:  # XLA compiles the math, not the input pipeline
            replica_step = tf.function(replica_step, jit_compile=True)

        def train_step(iterator):
            batch = next(iterator)
            losses, images = strategy.run(replica_step, args=(batch,))
            losses = {k: strategy.reduce("MEAN", v, axis=None) for k, v in losses.items()}
            self.step.assign_add(1)
            return losses, batch, images

        return tf.function(train_step)

    def _make_iterator(self):
        step = self.current_step

        def dataset_fn(context: tf.distribute.InputContext):
            per_replica = context.get_per_replica_batch_size(self.config.global_batch_size)
            replicas_per_pipeline = context.num_replicas_in_sync // context.num_input_pipelines
            return self.task.dataset(context, step * per_replica * replicas_per_pipeline)

        return iter(self.strategy.distribute_datasets_from_function(dataset_fn))

    # -- the loop ----------------------------------------------------------------
    def train(self, steps: Optional[int] = None) -> dict:
        """Train until `steps` (default config.steps); returns the last losses as floats."""
        target = steps or self.config.steps
        if self._iterator is None:
            self._iterator = self._make_iterator()
        last, window_start, window_step = {}, time.perf_counter(), self.current_step
        while self.current_step < target:
            losses, batch, images = self._train_step(self._iterator)
            step = self.current_step
            last = {k: float(v) for k, v in losses.items()}
            for name, value in last.items():
                if not tf.math.is_finite(value):
                    raise FloatingPointError(
                        f"loss {name} is {value} at step {step}; lower the learning rate or check the data"
                    )
            if step % self.config.summary_every == 0 or step == target:
                elapsed = time.perf_counter() - window_start
                steps_per_s = (step - window_step) / max(elapsed, 1e-9)
                self._scalars(step, last, steps_per_s)
                if step % self.config.log_every == 0 or step == target:
                    logging.info(
                        "step %d/%d  %s  %.3f steps/s  %.2f images/s",
                        step,
                        target,
                        "  ".join(f"{k} {v:.4g}" for k, v in last.items()),
                        steps_per_s,
                        steps_per_s * self.config.global_batch_size,
                    )
                window_start, window_step = time.perf_counter(), step
            if step % self.config.image_every == 0 or step == target:
                self._images(step, batch, images)
            if self.config.eval_every and (step % self.config.eval_every == 0 or step == target):
                self.evaluate(step)
            if step % self.config.checkpoint_every == 0 or step == target:
                self.save()
        self.writer.flush()
        return last

    def evaluate(self, step: Optional[int] = None) -> dict:
        """Run the task's validation and write it under MODEL_DIR/validation."""
        step = self.current_step if step is None else step
        results = {k: float(v) for k, v in self.task.evaluate().items()}
        with self.eval_writer.as_default(step=step):
            for name, value in results.items():
                tf.summary.scalar(name, value)
        self.eval_writer.flush()
        if results:
            logging.info(
                "validation at step %d  %s", step, "  ".join(f"{k} {v:.4g}" for k, v in results.items())
            )
        return results

    def _scalars(self, step, losses, steps_per_s):
        lr = self.optimizer.learning_rate
        with self.writer.as_default(step=step):
            for name, value in losses.items():
                tf.summary.scalar(f"loss/{name}", value)
            tf.summary.scalar("learning_rate", float(lr.numpy() if hasattr(lr, "numpy") else lr))
            tf.summary.scalar("throughput/steps_per_second", steps_per_s)
            tf.summary.scalar("throughput/images_per_second", steps_per_s * self.config.global_batch_size)

    def _images(self, step, batch, images):
        local = lambda x: self.strategy.experimental_local_results(x)[0]  # noqa: E731
        grids = self.task.summary_images(
            tf.nest.map_structure(local, batch), tf.nest.map_structure(local, images)
        )
        with self.writer.as_default(step=step):
            for name, grid in grids.items():
                tf.summary.image(name, tf.clip_by_value(tf.cast(grid, tf.float32), 0, 1), max_outputs=4)
