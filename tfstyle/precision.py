"""Choosing the compute precision: the words, the plans, and the rule that picks one.

bfloat16 is fast where the hardware has it (AMX / AVX512_BF16 CPUs, GPUs of
compute capability 8.0 and newer) and can be slower than float32 elsewhere.
It keeps 8 bits of mantissa: enough to stall an optimisation short of the float32
loss (Gatys), and, for a feed-forward network, visible or not depending on the
weights: the same SANet plan stays ≥ 48 dB from float32 on one trained-scale
weight set and 35 dB on another. So the precision words mean:

- ``auto`` (the default): **measured on the weights being loaded**. Where
  bfloat16 is native, a small probe (`tfstyle.models.probe`) stylizes a fixed
  generated pair in float32 and in each of the network's `CANDIDATES`, fastest
  first, and keeps the first whose output stays ≥ `MIN_PSNR_DB` from float32
  (with `PROBE_MARGIN_DB` of margin on the probe); else float32. The decision
  is cached by the weights' fingerprint and the device (`cache_path`), so the
  probe runs once per checkpoint and machine.
  Without native bfloat16 there is nothing faster to try: float32, no probe.
  For the Gatys optimisation ``auto`` is float32: a bfloat16 loss network is
  faster per step but never reaches float32's loss.
- ``fast``: bfloat16 everywhere it is native (the speed, with its measured
  PSNR in BENCHMARKS.md and ``--help``); float32 elsewhere.
- ``float32``, ``bfloat16``, ``float16``: that Keras policy for the whole
  network (the mixed ones keep float32 weights).

This module imports no TensorFlow; the probe that measures is
`tfstyle.models.probe`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import tempfile
from typing import Optional

from tfstyle.errors import ConfigError

PRECISIONS = ("auto", "fast", "float32", "bfloat16", "float16")
_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
BF16 = "mixed_bfloat16"
#: The project's fidelity bar: a default precision stays this close to float32 (PSNR, 8-bit peak).
MIN_PSNR_DB = 40.0
#: The probe is one generated pair at 256²; real photo/painting pairs at 512² come out lower,
#: by up to 6.3 dB (SANet, bfloat16 everywhere, 5 trained-scale weight sets; BENCHMARKS.md
#: "Precision chosen by measurement"). A plan is kept when its probe PSNR clears the bar by this.
PROBE_MARGIN_DB = 6.5
#: Bumped when the probe's images, size or candidates change: older cached decisions are ignored.
PROBE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Plan:
    """A precision plan: one Keras dtype policy for the network, and per-part exceptions
    (SANet's `tfstyle.models.sanet.PARTS`; the other networks have none)."""

    name: str
    dtype: str = "float32"
    parts: tuple = ()  # ((part, policy), ...)

    def network_kwargs(self) -> dict:
        """The keyword arguments of the network's class that build it at this plan."""
        if self.parts:
            return {"dtype": self.dtype, "precision_plan": dict(self.parts)}
        return {"dtype": self.dtype}

    @property
    def is_float32(self) -> bool:
        return self.dtype == "float32" and all(policy == "float32" for _, policy in self.parts)

    def describe(self) -> str:
        """One line for logs, tables and export records."""
        if self.parts:
            reduced = ", ".join(part for part, policy in self.parts if policy != self.dtype)
            return f"{self.name}: {_short(self.parts[0][1])} in {reduced}, {_short(self.dtype)} elsewhere"
        return f"{self.name}: {_short(self.dtype)}"


def _short(policy: str) -> str:
    return policy.replace("mixed_", "")


def _parts(names, policy=BF16) -> tuple:
    return tuple((name, policy) for name in names)


FLOAT32 = Plan("float32")
#: The plans ``auto`` may pick where bfloat16 is native, fastest first (speed ratios from
#: BENCHMARKS.md "Precision", SANet at 512² on an AMX CPU; the probe measures only their
#: fidelity, since which is faster is a property of the hardware, how faithful of the weights).
#: float32 is the fallback when none stays ≥ `MIN_PSNR_DB`.
CANDIDATES = {
    "sanet": (
        Plan("bfloat16", BF16),  # 1.87× float32
        # 1.22×
        Plan("bfloat16 after the encoder", parts=_parts(("attention", "merge", "decoder", "output"))),
        Plan("bfloat16 in the decoder", parts=_parts(("merge", "decoder", "output"))),  # 1.11×
    ),
    # real weights: 28.9 dB in bfloat16 (12-14 % faster), so the probe falls back to float32
    "magenta": (Plan("bfloat16", BF16),),
    "builtin": (Plan("bfloat16", BF16),),  # real weights: 32.8 dB, 3 % faster at 1024²
}
#: ``auto`` of the Gatys loss network: float32 (with bfloat16 neither Adam nor L-BFGS reaches
#: float32's loss: benchmarks/gatys_time_to_quality.py).
AUTO_FLOAT32 = frozenset({"gatys"})
#: ``--precision`` help of the feed-forward commands, with benchmarks/precision.py's numbers.
FEED_FORWARD_HELP = (
    "auto (default): measured once per weights and device -- the fastest plan whose output stays "
    f">= {MIN_PSNR_DB:.0f} dB PSNR from float32 on a probe (bfloat16 parts where the device has "
    "it), else float32; --verbose shows the choice ('tfstyle weights check-precision' the "
    "table); fast: bfloat16 throughout where the device has it (SANet 35.5 dB min, 1.9x faster; "
    "Magenta 30 dB, 1.15x); float32 / bfloat16 / float16: that policy everywhere"
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


def probe_bar_db() -> float:
    """The probe PSNR a plan needs: the bar plus the probe's measured optimism."""
    return MIN_PSNR_DB + PROBE_MARGIN_DB


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    return precision


def dtype_policy(precision: str = "auto", network: str = "") -> str:
    """One Keras dtype policy for a whole network at a precision word, without measuring:
    ``fast`` (and ``auto`` outside `AUTO_FLOAT32`) is ``mixed_bfloat16`` where bfloat16 is
    native. The feed-forward networks' ``auto`` is measured instead (`is_measured`)."""
    check_precision(precision)
    if precision not in ("auto", "fast"):
        return _POLICIES[precision]
    if precision == "auto" and network in AUTO_FLOAT32:
        return "float32"
    return BF16 if bf16_native() else "float32"


def is_measured(precision: str, network: str) -> bool:
    """Whether loading `network` at `precision` runs (or reuses) the probe."""
    return check_precision(precision) == "auto" and network in CANDIDATES and bf16_native()


def fixed_plan(precision: str, network: str) -> Plan:
    """The plan of a precision word that needs no measurement (``auto`` without native bfloat16)."""
    if is_measured(precision, network):
        raise ConfigError(f"precision auto of the {network} network is measured: load it to know")
    if precision == "auto":
        return FLOAT32
    policy = dtype_policy(precision, network)
    return FLOAT32 if policy == "float32" else Plan(precision, policy)


def candidates(network: str) -> tuple:
    """The plans ``auto`` tries for `network`, fastest first (float32 is the fallback)."""
    return CANDIDATES.get(network, ())


def plan_named(network: str, name: str) -> Plan:
    """A candidate plan (or float32) by its name, as the cache stores it (hyphens for spaces
    too, as benchmark flags write it)."""
    for plan in (*candidates(network), FLOAT32):
        if name in (plan.name, plan.name.replace(" ", "-")):
            return plan
    raise KeyError(name)


@dataclasses.dataclass
class Choice:
    """What a loaded network runs at, and why: a fixed word, or the probe's measurement."""

    precision: str
    plan: Plan
    #: each tried plan's PSNR from float32 on the probe (dB), in the order tried
    psnr_db: dict = dataclasses.field(default_factory=dict)
    #: "measured", "cached" or "" (a fixed word: nothing was measured)
    source: str = ""
    probe_seconds: float = 0.0

    def describe(self) -> str:
        line = f"precision {self.precision} -> {self.plan.describe()}"
        if self.source:
            kept = self.psnr_db.get(self.plan.name)
            fidelity = (
                f"{kept:.1f} dB from float32 on the probe"
                if kept is not None
                else f"no faster plan reached {probe_bar_db():.1f} dB on the probe"
            )
            when = f"measured in {self.probe_seconds:.1f} s" if self.source == "measured" else "cached"
            line += f" ({fidelity}; {when})"
        return line

    def record(self) -> dict:
        """JSON-ready, for export records."""
        return {
            "precision": self.precision,
            "plan": self.plan.describe(),
            "probe_psnr_db": {k: round(v, 2) for k, v in self.psnr_db.items()},
            "source": self.source or "fixed",
        }


# -- the cache of measured decisions ---------------------------------------------------------
def cache_path() -> str:
    """``$TFSTYLE_PRECISION_CACHE``, or ``precision.json`` in tfstyle's folder of the Keras cache."""
    from tfstyle.weights import cache_dir

    return os.environ.get("TFSTYLE_PRECISION_CACHE") or os.path.join(cache_dir(), "tfstyle", "precision.json")


def cache_key(network: str, fingerprint: str, device: str) -> str:
    return f"{network}|{fingerprint}|{device}|probe{PROBE_VERSION}"


def read_cache() -> dict:
    try:
        with open(cache_path()) as f:
            entries = json.load(f)
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def cached_choice(key: str, network: str) -> Optional[Choice]:
    entry = read_cache().get(key) or {}
    try:
        plan = plan_named(network, entry["plan"])
        return Choice("auto", plan, dict(entry["psnr_db"]), "cached")
    except (KeyError, TypeError):
        return None


def store_choice(key: str, choice: Choice) -> None:
    """Add a measured decision to the cache (written to a temp file and renamed; a cache that
    cannot be written only means the probe runs again next time)."""
    entries = read_cache()
    entries[key] = {"plan": choice.plan.name, "psnr_db": choice.psnr_db, "seconds": choice.probe_seconds}
    path = cache_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".precision-", dir=os.path.dirname(path))
        with os.fdopen(fd, "w") as f:
            json.dump(entries, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass
