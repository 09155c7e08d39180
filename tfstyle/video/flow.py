"""Optical flow between video frames, warping by it, and where the warp can be trusted.

OpenCV's DIS flow (Kroeger et al. 2016) on grey frames; the occlusion test is
the forward–backward consistency check of Ruder, Dosovitskiy & Brox 2016
("Artistic style transfer for videos", §3.2): a pixel is trusted when
|w + ŵ|² ≤ 0.01 (|w|² + |ŵ|²) + 0.5, with w the backward flow at the pixel and
ŵ the forward flow where w lands. Used by the temporal blending of
`tfstyle.video.stream` and by the warping error of `tfstyle.video.metrics`.

Needs ``opencv-python-headless`` (``pip install 'tfstyle[video]'``).
"""

from __future__ import annotations

import functools
from typing import Optional

import numpy as np

from tfstyle.errors import MissingExtraError


def cv2():
    try:
        import cv2 as module
    except ImportError:
        raise MissingExtraError("opencv-python-headless", "video", "optical flow") from None
    return module


def grey(frame: np.ndarray) -> np.ndarray:
    """[H, W, 3] RGB in [0, 1] (or uint8) → uint8 luma, what DIS flow takes."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return cv2().cvtColor(frame, cv2().COLOR_RGB2GRAY)


#: DIS presets by name (Kroeger et al. 2016's operating points).
PRESETS = ("ultrafast", "fast", "medium")


class Flow:
    """DIS optical flow between consecutive grey frames.

    `preset`: ``medium`` (accurate; the warping error's) or ``fast`` (the
    blending's, about 4× cheaper). `working_side`: frames whose shorter side is
    longer are downscaled to it for the flow and the consistency test, and the
    flow and mask scaled back (a 720p frame costs a quarter); ``None``: full
    resolution.
    """

    def __init__(self, preset: str = "medium", working_side: Optional[int] = None):
        code = {name: getattr(cv2(), f"DISOPTICAL_FLOW_PRESET_{name.upper()}") for name in PRESETS}[preset]
        self._dis = cv2().DISOpticalFlow_create(code)
        self.working_side = working_side

    def __call__(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Flow [H, W, 2] (x, y) such that source(p) ≈ target(p + flow(p))."""
        return self._dis.calc(source, target, None)

    def backward(self, previous: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(flow from `current` into `previous`, trust mask [H, W] in {0, 1}) for grey frames."""
        h, w = current.shape[:2]
        scale = 1.0
        if self.working_side and min(h, w) > self.working_side:
            scale = self.working_side / min(h, w)
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            previous = cv2().resize(previous, size, interpolation=cv2().INTER_AREA)
            current = cv2().resize(current, size, interpolation=cv2().INTER_AREA)
        back = self(current, previous)
        trusted = consistent(back, self(previous, current))
        if scale != 1.0:
            back = cv2().resize(back, (w, h), interpolation=cv2().INTER_LINEAR) / np.float32(scale)
            trusted = cv2().resize(trusted, (w, h), interpolation=cv2().INTER_NEAREST)
        return back, trusted


@functools.lru_cache(maxsize=4)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """image(p + flow(p)), bilinear, borders replicated: the previous frame brought to the current."""
    xs, ys = _grid(*flow.shape[:2])
    return cv2().remap(
        np.asarray(image, np.float32),
        xs + flow[..., 0],
        ys + flow[..., 1],
        interpolation=cv2().INTER_LINEAR,
        borderMode=cv2().BORDER_REPLICATE,
    )


def consistent(back: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Ruder et al. 2016's forward–backward test: 1 where the backward flow can be trusted."""
    h, w = back.shape[:2]
    xs, ys = _grid(h, w)
    x, y = xs + back[..., 0], ys + back[..., 1]
    there = cv2().remap(forward, x, y, interpolation=cv2().INTER_LINEAR, borderMode=cv2().BORDER_REPLICATE)
    bx, by, fx, fy = back[..., 0], back[..., 1], there[..., 0], there[..., 1]
    mismatch = (bx + fx) ** 2 + (by + fy) ** 2
    bound = 0.01 * (bx**2 + by**2 + fx**2 + fy**2) + 0.5
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return ((mismatch <= bound) & inside).astype(np.float32)
