"""Choosing the compute precision from what the device supports.

bfloat16 is fast where the hardware has it (AMX / AVX512_BF16 CPUs, GPUs of
compute capability 8.0 and newer) and can be slower than float32 elsewhere;
see BENCHMARKS.md for its effect on speed and on the losses.
"""

from __future__ import annotations

import functools

from tfstyle.errors import ConfigError

PRECISIONS = ("auto", "float32", "bfloat16", "float16")
_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
#: Networks whose ``auto`` stays float32 even where bfloat16 is native, with the measurement
#: (min PSNR from float32 over 3 photos × 3 styles at 512², under the project's 40 dB bar):
#: Magenta's transformer 28.9 dB and 12-14 % faster (BENCHMARKS.md); the 26-style network
#: 32.8 dB and 3 % faster at 1024².
AUTO_FLOAT32 = frozenset({"magenta", "builtin"})


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


def dtype_policy(precision: str = "auto", network: str = "") -> str:
    """Map a user precision to a Keras dtype policy name.

    ``auto`` picks ``mixed_bfloat16`` where bfloat16 is native (see module
    docstring) and ``float32`` otherwise, or for a `network` in `AUTO_FLOAT32`.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return _POLICIES[precision]
    if network in AUTO_FLOAT32:
        return "float32"
    gpu = _gpu_has_bf16()
    native = cpu_has_bf16() if gpu is None else gpu
    return "mixed_bfloat16" if native else "float32"
