"""The optimisation objective: a weighted sum of `Term`s (Gatys, Ecker & Bethge 2016).

Each term names the encoder taps it reads and maps (image, features) to a
scalar, so new terms (a depth loss, per-pixel content weights) plug in without
touching the optimisation loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

import tensorflow as tf

from tfstyle import losses
from tfstyle.errors import ConfigError

Features = Mapping[str, tf.Tensor]


class Term:
    """One weighted part of the objective.

    Subclasses set `name`, `weight` and `taps` (encoder taps they read) and
    implement `__call__(image, features) → scalar float32` (unweighted).
    """

    name: str = "term"
    weight: float = 1.0
    taps: tuple[str, ...] = ()

    def __call__(self, image: tf.Tensor, features: Features) -> tf.Tensor:
        raise NotImplementedError


class ContentTerm(Term):
    """Σ_l w_l · content_loss(Φ_l(x), Φ_l(x_c)), optionally with per-pixel weight maps."""

    name = "content"

    def __init__(
        self,
        targets: Mapping[str, tf.Tensor],
        weight: float,
        layer_weights: Optional[Mapping[str, float]] = None,
        weight_maps: Optional[Mapping[str, tf.Tensor]] = None,
    ):
        self.targets = dict(targets)
        self.taps = tuple(self.targets)
        self.weight = weight
        self.layer_weights = dict(layer_weights or {t: 1.0 / len(self.taps) for t in self.taps})
        self.weight_maps = dict(weight_maps or {})

    def __call__(self, image, features):
        return tf.add_n(
            [
                self.layer_weights[t]
                * losses.content_loss(features[t], self.targets[t], self.weight_maps.get(t))
                for t in self.taps
            ]
        )


class StyleTerm(Term):
    """Σ_l w_l · style_loss(Φ_l(x), G_l(x_s)) (Gatys et al. 2016, eq. 5)."""

    name = "style"

    def __init__(
        self,
        target_grams: Mapping[str, tf.Tensor],
        weight: float,
        layer_weights: Optional[Mapping[str, float]] = None,
        centred: bool = False,
    ):
        self.targets = dict(target_grams)
        self.taps = tuple(self.targets)
        self.weight, self.centred = weight, centred
        self.layer_weights = dict(layer_weights or {t: 1.0 / len(self.taps) for t in self.taps})

    def __call__(self, image, features):
        return tf.add_n(
            [
                self.layer_weights[t] * losses.style_loss(features[t], self.targets[t], self.centred)
                for t in self.taps
            ]
        )


class TotalVariationTerm(Term):
    """Total variation of the image (see `losses.total_variation`)."""

    name = "tv"

    def __init__(self, weight: float, variant: str = "squared", beta: float = 2.0):
        self.weight, self.variant, self.beta = weight, variant, beta

    def __call__(self, image, features):
        return losses.total_variation(image, self.variant, self.beta)


class Objective:
    """A weighted sum of terms; calling it returns (total, {name: weighted value})."""

    def __init__(self, terms: Sequence[Term]):
        self.terms = [t for t in terms if t.weight != 0]
        if not self.terms:
            raise ConfigError("the objective has no term with a non-zero weight")
        names = [t.name for t in self.terms]
        if len(set(names)) != len(names):
            raise ConfigError(f"objective terms need distinct names, got {names}")

    @property
    def taps(self) -> tuple[str, ...]:
        return tuple(sorted({tap for term in self.terms for tap in term.taps}))

    def __call__(self, image: tf.Tensor, features: Features):
        parts = {t.name: tf.cast(t.weight, tf.float32) * t(image, features) for t in self.terms}
        return tf.add_n(list(parts.values())), parts
