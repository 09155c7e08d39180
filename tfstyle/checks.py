"""The checks of user numbers, shared by every entry point so each refuses the same
values with the same words (no TensorFlow)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Optional

from tfstyle.errors import ConfigError


def check_finite(
    value: float,
    name: str,
    *,
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_open: bool = False,
) -> float:
    """`value` as a float if finite and within [low, high] (or (low, high] with `low_open`)."""
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    if not math.isfinite(value) or too_low or (high is not None and value > high):
        bound = "" if low is None else (f" > {low:g}" if low_open else f" >= {low:g}")
        if high is not None:
            bound = f" in [{low:g}, {high:g}]"
        raise ConfigError(f"{name} must be a finite number{bound}, got {value}")
    return value


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """`alpha` as a float in [0, 1], else `ConfigError`."""
    alpha = float(alpha)
    if not math.isfinite(alpha) or not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1] (1 = full style), got {alpha}")
    return alpha


def check_level_weights(level_weights: Sequence[float], name: str = "level weights") -> tuple[float, float]:
    """(W1, W2): two finite, non-negative numbers."""
    values = tuple(float(w) for w in level_weights)
    if len(values) != 2:
        raise ConfigError(f"{name} take two numbers W1,W2, got {list(values)}")
    if not all(math.isfinite(w) and w >= 0 for w in values):
        raise ConfigError(f"{name} must be finite and >= 0, got {list(values)}")
    return values[0], values[1]


def convex_weights(style_weights: Optional[Sequence[float]], count: int) -> list[float]:
    """Style weights normalised to sum to 1 (equal when ``None``)."""
    if style_weights is None:
        return [1.0 / count] * count
    if len(style_weights) != count:
        raise ConfigError(f"{len(style_weights)} style weights for {count} styles; give one each")
    if not all(math.isfinite(w) and w >= 0 for w in style_weights) or sum(style_weights) <= 0:
        raise ConfigError(
            f"style weights must be finite and >= 0 with a positive sum, got {list(style_weights)}"
        )
    total = float(sum(style_weights))
    return [w / total for w in style_weights]
