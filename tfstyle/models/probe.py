"""``--precision auto``, measured: the probe that picks a network's plan for its own weights.

A fixed plan cannot be right for every checkpoint: bfloat16 after SANet's
encoder stays ≥ 48 dB from float32 on some trained-scale weights and falls
to 35 dB on others. So `load_measured` loads the weights in float32,
stylizes a fixed generated content/style pair (`probe_pair`) with them and
with each candidate plan (`tfstyle.precision.CANDIDATES`, fastest first),
and keeps the first plan within `tfstyle.precision.MIN_PSNR_DB` of float32
(plus `tfstyle.precision.PROBE_MARGIN_DB`: real photos at 512² fare worse than the probe).
The decision is cached by the weights' fingerprint and the device
(`device_id`), so it costs once per checkpoint and machine.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np

from tfstyle import precision as precision_lib
from tfstyle.models.base import weights_fingerprint
from tfstyle.precision import FLOAT32, Choice, Plan

#: Side of the probe's square content and style: large enough for SANet's relu5_1 attention
#: to see 16×16 positions, small enough that the probe costs seconds, not minutes.
PROBE_SIZE = 256


def probe_pair(size: int = PROBE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """A fixed content and style [size, size, 3] in [0, 1], generated (no file to ship):
    a photo-like content (smooth colour fields, hard-edged shapes, fine grain) and a
    painting-like style (saturated oriented strokes at several scales)."""
    rng = np.random.default_rng(2026)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    content = np.full((size, size, 3), 0.5)
    for _ in range(8):  # soft light and shade
        cy, cx, width = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.15, 0.45)
        blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * width**2))
        content += blob[..., None] * rng.uniform(-0.35, 0.35, 3)
    for _ in range(6):  # objects with edges
        cy, cx = rng.uniform(0.1, 0.9, 2)
        ry, rx = rng.uniform(0.05, 0.2, 2)
        inside = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1
        content[inside] = content[inside] * 0.3 + rng.uniform(0, 1, 3) * 0.7
    content += rng.normal(0, 0.02, content.shape)  # grain
    style = np.zeros((size, size, 3))
    for _ in range(12):  # strokes: oriented waves of one colour each
        angle, frequency = rng.uniform(0, np.pi), rng.uniform(4, 40)
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * frequency * (x * np.cos(angle) + y * np.sin(angle)) + phase)
        style += np.maximum(wave, 0)[..., None] ** 3 * rng.uniform(0, 1, 3) / 3
    style += rng.normal(0, 0.05, style.shape)
    return (np.clip(content, 0, 1).astype(np.float32), np.clip(style, 0, 1).astype(np.float32))


def device_id() -> str:
    """What the decision depends on besides the weights: the device TensorFlow computes on,
    whether it has native bfloat16, and TensorFlow's version (its kernels' rounding)."""
    import platform

    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        device = f"gpu:{details.get('device_name', '?')}:{details.get('compute_capability', '?')}"
    else:
        model = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
            model = names[0] if names else model
        except OSError:
            pass
        device = f"cpu:{model}"
    native = "bf16" if precision_lib.bf16_native() else "no-bf16"
    return f"{device}:{native}:tf{tf.__version__}"


def psnr_db(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of two images in [0, 1] (peak 1), inf when equal."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


def twin(network, plan: Plan, options: dict):
    """`network`'s class built at `plan` with `network`'s weights."""
    other = type(network).load_at(None, plan, **{**network.architecture(), **options})
    other.set_weights(network.get_weights())
    other.weights_id = network.weights_id
    return other


#: The built-in styles the probe runs (that network takes style numbers, not images).
PROBE_BUILTIN_STYLES = (0, 9, 18)


def probe_styles(network, painting: np.ndarray) -> list:
    """The probe's styles for `network`: the generated `painting`, or a few built-in styles."""
    return [painting] if network.spec.style_images else list(PROBE_BUILTIN_STYLES)


def measure(reference, plans, options: dict, *, stop_at_pass: bool = True, timed: bool = False) -> list:
    """For each plan: (plan, PSNR from `reference` (float32) on the probe (the minimum over its
    styles), seconds or None, the network at that plan). Stops at the first plan within the bar
    when `stop_at_pass`."""
    content, painting = probe_pair()
    styles = probe_styles(reference, painting)
    want = [reference.stylize(content, style) for style in styles]
    rows = []
    for plan in plans:
        network = twin(reference, plan, options)
        got = [network.stylize(content, style) for style in styles]
        seconds = None
        if timed:
            start = time.perf_counter()
            network.stylize(content, styles[0])
            seconds = time.perf_counter() - start
        rows.append((plan, min(map(psnr_db, got, want)), seconds, network))
        if stop_at_pass and rows[-1][1] >= precision_lib.probe_bar_db():
            break
    return rows


def decide(reference, rows: list, seconds: float) -> tuple:
    """(auto's `Choice` from measured `rows` of candidates, the network at that plan); the
    decision is stored in the cache under `reference`'s weights and this device."""
    from absl import logging

    passed = [row for row in rows if row[1] >= precision_lib.probe_bar_db()]
    plan, network = (passed[0][0], passed[0][3]) if passed else (FLOAT32, reference)
    choice = Choice("auto", plan, {row[0].name: row[1] for row in rows}, "measured", seconds)
    precision_lib.store_choice(cache_key(reference), choice)
    logging.info("%s: %s", reference.network_name, choice.describe())
    return choice, network


def cache_key(reference) -> str:
    return precision_lib.cache_key(reference.network_name, weights_fingerprint(reference), device_id())


def load_measured(cls, folder: Optional[str], **options):
    """`cls` (a `StyleNetwork` class) with the weights of `folder` at the plan ``auto`` picks
    for them on this device; ``network.precision_choice`` says which and why."""
    reference = cls.load_at(folder, FLOAT32, **options)
    choice = precision_lib.cached_choice(cache_key(reference), cls.network_name)
    if choice is None:
        start = time.perf_counter()
        rows = measure(reference, precision_lib.candidates(cls.network_name), options)
        choice, network = decide(reference, rows, time.perf_counter() - start)
    else:
        network = reference if choice.plan.is_float32 else twin(reference, choice.plan, options)
    network.precision_choice = choice
    return network
