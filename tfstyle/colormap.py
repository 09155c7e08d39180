"""A perceptually ordered colour map for depth pictures (no plotting library needed)."""

import numpy as np

# Anchor colours of matplotlib's "viridis" at 0, 0.25, 0.5, 0.75, 1 (sRGB, 0-255).
_ANCHORS = (
    np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], np.float32) / 255.0
)


def colorize(values: np.ndarray, near_is_bright: bool = True) -> np.ndarray:
    """[H, W] values → [H, W, 3] RGB in [0, 1], normalised to the map's range.

    With `near_is_bright` (depth: larger = farther) near things are yellow and
    far ones dark purple.
    """
    values = np.asarray(values, np.float64)
    span = values.max() - values.min()
    t = (values - values.min()) / span if span > 0 else np.zeros_like(values)
    if near_is_bright:
        t = 1.0 - t
    stops = np.linspace(0.0, 1.0, len(_ANCHORS))
    return np.stack([np.interp(t, stops, _ANCHORS[:, c]) for c in range(3)], axis=-1).astype(np.float32)
