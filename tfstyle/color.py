"""Colour helpers: luminance-only transfer and histogram matching.

Luminance-only transfer follows Gatys, Bethge, Hertzmann & Shechtman,
"Preserving Color in Neural Artistic Style Transfer" (2016), §2.2: transfer
on the YIQ luminance, with the style's luminance matched to the content's
mean and std, then put the content's I and Q channels back.
"""

from __future__ import annotations

import numpy as np

# NTSC RGB → YIQ (FCC 1953); rows give Y, I, Q.
_RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]],
    dtype=np.float64,
)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ)


def rgb_to_yiq(image: np.ndarray) -> np.ndarray:
    return (np.asarray(image, np.float64) @ _RGB_TO_YIQ.T).astype(np.float32)


def yiq_to_rgb(image: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(image, np.float64) @ _YIQ_TO_RGB.T, 0.0, 1.0).astype(np.float32)


def luminance(image: np.ndarray) -> np.ndarray:
    """Y of YIQ as a 3-channel grey image [..., 3] in [0, 1]."""
    y = rgb_to_yiq(image)[..., :1]
    return np.repeat(np.clip(y, 0.0, 1.0), 3, axis=-1)


def match_luminance(style: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Style's luminance with the content's mean and std (Gatys et al. 2016b, eq. 1)."""
    ys, yc = luminance(style)[..., 0], luminance(content)[..., 0]
    matched = (ys - ys.mean()) * (yc.std() / max(ys.std(), 1e-6)) + yc.mean()
    return np.repeat(np.clip(matched, 0.0, 1.0)[..., None], 3, axis=-1)


def restore_content_color(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Y from `result`, I and Q from `content` (same size), back to RGB."""
    yiq = rgb_to_yiq(content)
    yiq[..., 0] = rgb_to_yiq(result)[..., 0]
    return yiq_to_rgb(yiq)


def match_histograms(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per channel, remap `source` values so their histogram matches `reference`'s."""
    out = np.empty_like(np.asarray(source, np.float32))
    for c in range(source.shape[-1]):
        src = source[..., c].ravel()
        ref = np.sort(reference[..., c].ravel())
        ranks = np.argsort(np.argsort(src, kind="stable"), kind="stable")
        quantiles = (ranks + 0.5) / src.size
        out[..., c] = np.interp(quantiles, (np.arange(ref.size) + 0.5) / ref.size, ref).reshape(
            source.shape[:-1]
        )
    return out


# -- preserve_color for the feed-forward networks, in one place --------------------------
def check_mode(mode, modes=None) -> None:
    """Refuse an unknown ``preserve_color`` value (`modes`: default `settings.COLOR_MODES`)."""
    from tfstyle.errors import ConfigError
    from tfstyle.models.registry import COLOR_MODES

    modes = modes or COLOR_MODES
    if mode not in (None, *modes):
        raise ConfigError(f"unknown preserve_color {mode!r}; use {' or '.join(modes)}")


def match_styles(styles, content: np.ndarray, mode) -> list:
    """Style images prepared for `mode`: luminance matched (Gatys et al. 2016b, eq. 1) or
    histogram matched to `content` [H, W, 3]; unchanged for None."""
    styles = [np.asarray(s, np.float32) for s in styles]
    if mode == "luminance":
        return [match_luminance(s, content) for s in styles]
    if mode == "histogram":
        return [match_histograms(s, content) for s in styles]
    return styles


def network_content(content: np.ndarray, mode) -> np.ndarray:
    """What the network stylizes: the content's luminance for ``luminance``, else the content."""
    return luminance(content) if mode == "luminance" else content


def restore_batch(outputs: np.ndarray, contents: np.ndarray, mode) -> np.ndarray:
    """The contents' chroma put back into each output for ``luminance``; else the outputs."""
    if mode != "luminance":
        return outputs
    return np.stack([restore_content_color(o, c) for o, c in zip(outputs, contents)])
