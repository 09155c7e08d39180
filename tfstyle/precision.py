"""Choosing the compute precision from what the device supports and what it does to the picture.

bfloat16 is fast where the hardware has it (AMX / AVX512_BF16 CPUs, GPUs of
compute capability 8.0 and newer) and can be slower than float32 elsewhere.
It keeps 8 bits of mantissa: enough to stall an optimisation short of the float32
loss (Gatys), visible for a feed-forward network run in it throughout. So
the precision words mean:

- ``auto`` (the default): the fastest plan whose output stays ≥ 40 dB PSNR
  from float32 (minimum over photo/painting pairs and weight seeds, measured
  by benchmarks/precision.py, BENCHMARKS.md "Precision"): bfloat16 in the
  parts where it is harmless, float32 elsewhere; float32 without native
  bfloat16. For the Gatys optimisation ``auto`` is float32 too: a bfloat16
  loss network is faster per step but never reaches float32's loss.
- ``fast``: bfloat16 everywhere it is native (the speed, with its measured
  PSNR in BENCHMARKS.md and ``--help``); float32 elsewhere.
- ``float32``, ``bfloat16``, ``float16``: that Keras policy for the whole
  network (the mixed ones keep float32 weights).
"""

from __future__ import annotations

import functools

from tfstyle.errors import ConfigError

PRECISIONS = ("auto", "fast", "float32", "bfloat16", "float16")
_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
#: Networks whose ``auto`` stays float32 even where bfloat16 is native, with the measurement
#: (min PSNR from float32 over 3 photos × 3 styles at 512², under the project's 40 dB bar):
#: Magenta's transformer 28.9 dB and 12-14 % faster (BENCHMARKS.md); the 26-style network
#: 32.8 dB and 3 % faster at 1024². ``gatys``: with a bfloat16 loss network neither Adam
#: nor L-BFGS reaches the loss float32 reaches (the gradient's rounding stalls them), so
#: float32 L-BFGS is the fastest way to a finished picture (benchmarks/gatys_time_to_quality.py).
AUTO_FLOAT32 = frozenset({"magenta", "builtin", "gatys"})
#: SANet's ``auto`` where bfloat16 is native: the parts (`tfstyle.models.sanet.PARTS`)
#: that run in bfloat16; the encoder stays float32. benchmarks/precision.py: bfloat16
#: in any encoder block costs 5-15 dB (its feature errors reach the attention logits,
#: and the softmax sharpens them), bfloat16 after the encoder ≥ 47 dB from float32
#: (BENCHMARKS.md "Precision").
SANET_AUTO_PLAN: dict = dict.fromkeys(("attention", "merge", "decoder", "output"), "mixed_bfloat16")
#: ``--precision`` help of the feed-forward commands, with benchmarks/precision.py's numbers
#: (PSNR from float32, minimum over 3 photo/painting pairs × 5 weight sets at 512²; AMX CPU).
FEED_FORWARD_HELP = (
    "auto (default): no visible change from float32 -- SANet runs its encoder in float32 and "
    "the rest in bfloat16 where the device has it (>= 48 dB PSNR from float32, 1.2x faster), "
    "Magenta float32; fast: bfloat16 throughout where the device has it (SANet 35.5 dB min, "
    "44.6 dB median, 1.9x faster; Magenta 30 dB, 1.15x); float32 / bfloat16 / float16: that "
    "policy everywhere"
)


@functools.cache
def cpu_has_bf16() -> bool:
    """True when /proc/cpuinfo lists AMX-BF16 or AVX512_BF16."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def _gpu_has_bf16() -> bool | None:
    """None without a GPU, else whether the first GPU has compute capability ≥ 8.0."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
    return bool(capability and capability >= (8, 0))


def bf16_native() -> bool:
    """Whether the device TensorFlow will use runs bfloat16 natively."""
    gpu = _gpu_has_bf16()
    return cpu_has_bf16() if gpu is None else gpu


def dtype_policy(precision: str = "auto", network: str = "") -> str:
    """Map a user precision to one Keras dtype policy name for a whole network.

    ``auto`` and ``fast`` pick ``mixed_bfloat16`` where bfloat16 is native and
    ``float32`` otherwise; ``auto`` stays float32 for a `network` in
    `AUTO_FLOAT32` (SANet's ``auto`` is a per-part plan: `stylizer_dtypes`).
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision not in ("auto", "fast"):
        return _POLICIES[precision]
    if precision == "auto" and network in AUTO_FLOAT32:
        return "float32"
    return "mixed_bfloat16" if bf16_native() else "float32"


def stylizer_dtypes(precision: str = "auto") -> dict:
    """SANet `SANetStylizer` keyword arguments (``dtype``, ``precision_plan``) for a user precision."""
    policy = dtype_policy(precision, "sanet")
    if precision == "auto" and policy != "float32":
        return {"dtype": "float32", "precision_plan": dict(SANET_AUTO_PLAN)}
    return {"dtype": policy}


def describe(precision: str = "auto", network: str = "sanet") -> str:
    """What a precision word resolves to here, for logs and benchmark tables."""
    if network == "sanet":
        dtypes = stylizer_dtypes(precision)
        plan = dtypes.get("precision_plan")
        if plan is not None:
            parts = ", ".join(sorted(p for p, d in plan.items() if d != "float32")) or "nothing"
            return f"{precision}: bfloat16 in {parts}, float32 elsewhere"
        return f"{precision}: {dtypes['dtype']}"
    return f"{precision}: {dtype_policy(precision, network)}"
