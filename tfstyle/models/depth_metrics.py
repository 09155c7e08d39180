"""Relative-depth metrics on labelled point pairs (Chen et al. 2016, §5).

They take the predicted differences z_A − z_B ([..., P], see
`tfstyle.losses.gather_pair_depths`), labels in {−1, 0, +1} (+1: A farther)
and an optional validity mask, and return Python floats.
"""

from __future__ import annotations

import numpy as np


def _flat(diff, labels, valid):
    diff, labels = np.asarray(diff, np.float64).ravel(), np.asarray(labels).ravel()
    keep = np.ones_like(labels, bool) if valid is None else np.asarray(valid).ravel().astype(bool)
    return diff[keep], labels[keep]


def ordinal_accuracy(diff, labels, valid=None) -> float:
    """Fraction of ordinal (r ≠ 0) pairs with sign(z_A − z_B) = r."""
    diff, labels = _flat(diff, labels, valid)
    ordinal = labels != 0
    if not ordinal.any():
        return float("nan")
    return float(np.mean(np.sign(diff[ordinal]) == labels[ordinal]))


def whdr(diff, labels, valid=None) -> float:
    """Weighted human disagreement rate (DIW): 1 − ordinal accuracy."""
    return 1.0 - ordinal_accuracy(diff, labels, valid)


def wkdr(diff, labels, tau: float, valid=None) -> dict:
    """WKDR with threshold τ: the predicted relation is +1 if z_A − z_B > τ, −1 if < −τ, else 0.

    Returns {"wkdr": all pairs, "wkdr_eq": equal pairs, "wkdr_neq": ordinal pairs}
    as error rates (NaN where a group is empty).
    """
    diff, labels = _flat(diff, labels, valid)
    predicted = np.where(diff > tau, 1, np.where(diff < -tau, -1, 0))
    wrong = predicted != labels
    rate = lambda mask: float(wrong[mask].mean()) if mask.any() else float("nan")  # noqa: E731
    return {"wkdr": rate(np.ones_like(wrong)), "wkdr_eq": rate(labels == 0), "wkdr_neq": rate(labels != 0)}
