"""Which kernels a traced graph is written for: this process's TensorFlow on the CPU, a
SavedModel for TF Serving, or TFLite.

Some operations have a faster exact form on TensorFlow's CPU kernels than their
one-op form (`benchmarks/cpu_rewrites.py`, BENCHMARKS.md):

* a float32 3×3 conv on many channels runs faster as a batch of its row halves,
  gathered straight from the unpadded input when a reflection pad comes first
  (`tfstyle.tiling.conv_rows_as_batch`, `padded_conv_rows_as_batch`);
* a reflection pad runs faster as one gather than as TF's ``MirrorPad``
  (`tfstyle.layers.padding.reflect_pad`);
* the attention's bfloat16 Q·Kᵀ with float32 output runs as one XLA dot, which
  oneDNN has no TF kernel for (`tfstyle.layers.attention.attention_logits`).

The numbers are the same either way (up to float32 summation order). TFLite runs
its own kernels, which those measurements say nothing about, so graphs for it
are traced inside `for_tflite` and keep the one-op forms. TF Serving runs XLA
only behind an experimental flag, so SavedModels are traced inside
`for_serving`: CPU forms, no XLA.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable

import tensorflow as tf

_TF, _SERVING, _TFLITE = "tf", "serving", "tflite"
_target = contextvars.ContextVar("kernel_target", default=_TF)


def _traced_for(target: str, fn: Callable) -> Callable:
    @functools.wraps(fn)
    def traced(*args, **kwargs):
        token = _target.set(target)
        try:
            return fn(*args, **kwargs)
        finally:
            _target.reset(token)

    return traced


def for_tflite(fn: Callable) -> Callable:
    """`fn`, run (so traced) with the one-op forms every TFLite delegate knows."""
    return _traced_for(_TFLITE, fn)


def for_serving(fn: Callable) -> Callable:
    """`fn`, run (so traced) with TF's CPU forms but no XLA (TF Serving's XLA is opt-in)."""
    return _traced_for(_SERVING, fn)


@functools.cache
def _on_cpu() -> bool:
    """Whether TF places ops on the CPU (oneDNN), the kernels the rewrites were measured on."""
    return not tf.config.list_logical_devices("GPU")


def cpu_rewrites() -> bool:
    """Whether the op being traced may use its faster exact TF-CPU form (not for TFLite; GPUs
    were not measured, so they keep the one-op forms)."""
    return _target.get() != _TFLITE and _on_cpu()


def xla_kernels() -> bool:
    """Whether the op being traced may run as an XLA cluster: in this process, on the CPU."""
    return _target.get() == _TF and _on_cpu()
