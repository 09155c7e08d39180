"""The temporal stability of a stylized video: Lai et al. 2018's warping error."""

from __future__ import annotations

import numpy as np


def pair_warping_error(previous_output, output, back_flow, trusted) -> float:
    """One frame pair's warping error: Σ_p M(p)·‖O_t(p) − W(O_{t−1})(p)‖² / Σ_p M(p).

    `back_flow` brings frame t−1 to frame t (`tfstyle.video.flow.Flow.backward` on the
    input frames) and `trusted` is its occlusion mask M (Lai et al. 2018, eq. 9).
    """
    from tfstyle.video.flow import warp

    diff = np.sum((np.asarray(output, np.float32) - warp(previous_output, back_flow)) ** 2, axis=-1)
    total = float(np.sum(trusted))
    return float(np.sum(trusted * diff) / total) if total else float("nan")


def warping_error(frames, outputs) -> float:
    """Mean warping error of a stylized clip `outputs` ([H, W, 3] in [0, 1] each) over
    consecutive pairs, with the flow and occlusion mask of the input `frames`
    (Lai et al. 2018, "Learning blind video temporal consistency", eq. 9)."""
    from tfstyle.video.flow import Flow, grey

    flow, errors, previous = Flow(), [], None
    for frame, output in zip(frames, outputs):
        current = grey(frame)
        if previous is not None:
            back, trusted = flow.backward(previous[0], current)
            errors.append(pair_warping_error(previous[1], output, back, trusted))
        previous = (current, output)
    return float(np.nanmean(errors)) if errors else float("nan")
