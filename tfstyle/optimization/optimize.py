"""Optimisation style transfer (Gatys, Ecker & Bethge 2016) with GradientTape.

The objective is a weighted sum of `Term`s (`tfstyle.optimization.objective`), so new
terms (a depth loss, per-pixel content weights) plug in without touching the
loop::

    transfer = GatysTransfer(vgg_weights="imagenet")
    result = transfer.run(content, style, OptimizeConfig(steps=300))
    tfstyle.image.save_image("out.png", result.image)

One encoder pass per step computes every tap; content and style targets are
computed once per scale; the Adam step is a compiled `tf.function`.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tfstyle import color
from tfstyle.errors import ConfigError
from tfstyle.image import MIN_SIDE, fit, resize
from tfstyle.models.vgg import build_vgg19, select_taps
from tfstyle.ops import area_resize, gram_matrix
from tfstyle.optimization.objective import ContentTerm, Objective, StyleTerm, Term, TotalVariationTerm
from tfstyle.optimization.settings import INITS, PRESETS, OptimizeConfig
from tfstyle.optimization.weight_maps import encoder_path, propagate
from tfstyle.precision import dtype_policy


@dataclasses.dataclass
class OptimizeResult:
    image: np.ndarray  # [H, W, 3] float32 in [0, 1]
    history: list  # one {"step", "total", term...} dict per step, across scales
    steps: int  # steps run in all
    stopped_early: bool
    seconds: float


Callback = Callable[[int, Mapping[str, float], tf.Tensor], None]


class GatysTransfer:
    """Owns the loss network; `run` optimises an image for one (content, style) pair.

    Args:
      vgg_weights: ``"imagenet"`` (registry download/cache), a path, or
        ``None`` for random weights (tests only: the output is not a stylization).
      precision: a `tfstyle.precision` word for the loss network (the image and
        the losses stay float32); ``auto`` is float32: with a bfloat16 loss
        network neither Adam nor L-BFGS reaches the float32 loss
        (BENCHMARKS.md, Gatys time to quality), ``fast`` is bfloat16.
      taps: the deepest layers any run may ask for; defaults to those of
        every preset. Each run computes only up to the taps its objective reads.
    """

    def __init__(
        self, vgg_weights: Optional[str], *, precision: str = "auto", taps: Optional[Sequence[str]] = None
    ):
        self.policy = dtype_policy(precision, "gatys")
        if taps is None:
            taps = sorted({t for c, s in PRESETS.values() for t in (*c, *s)})
        self.encoder = build_vgg19(taps, weights=vgg_weights, flavour="imagenet", dtype=self.policy)
        self._encoders: dict[tuple[str, ...], keras.Model] = {}

    def encoder_for(self, taps: Sequence[str]) -> keras.Model:
        """The encoder truncated to `taps` (cached)."""
        key = tuple(sorted(set(taps)))
        if key not in self._encoders:
            self._encoders[key] = select_taps(self.encoder, key)
        return self._encoders[key]

    # -- objective -------------------------------------------------------
    def encode(self, image: np.ndarray, taps: Sequence[str]) -> dict:
        return self.encoder_for(taps)(tf.convert_to_tensor(image[None], tf.float32))

    def objective(
        self,
        content: np.ndarray,
        style: np.ndarray,
        config: OptimizeConfig,
        extra_terms: Sequence[Term] = (),
        content_weight_map: Optional[np.ndarray] = None,
    ) -> Objective:
        """Content, style and TV terms with targets computed once, plus `extra_terms`.

        `content_weight_map` ([H, W] at the content's size) weights the content
        loss per pixel, carried down to each content layer (`tfstyle.optimization.weight_maps`).
        """
        content_taps, style_taps = config.layers()
        content_features = self.encode(content, content_taps)
        style_features = self.encode(style, style_taps)
        style_weights = None
        if config.style_layer_weights is not None:
            style_weights = dict(zip(style_taps, config.style_layer_weights))
        maps = None
        if content_weight_map is not None:
            maps = {
                t: propagate(content_weight_map, encoder_path(self.encoder, t))[None, :, :, None]
                for t in content_taps
            }
        terms = [
            ContentTerm(
                {t: content_features[t] for t in content_taps}, config.content_weight, weight_maps=maps
            ),
            StyleTerm(
                {
                    t: gram_matrix(tf.cast(style_features[t], tf.float32), config.centred_gram)
                    for t in style_taps
                },
                config.style_weight,
                style_weights,
                centred=config.centred_gram,
            ),
            TotalVariationTerm(config.tv_weight, config.tv_variant, config.tv_beta),
            *extra_terms,
        ]
        return Objective(terms)

    # -- loop ------------------------------------------------------------
    def run(
        self,
        content: np.ndarray,
        style: np.ndarray,
        config: Optional[OptimizeConfig] = None,
        *,
        extra_terms: Callable[[np.ndarray], Sequence[Term]] | Sequence[Term] = (),
        content_weight_map: Optional[np.ndarray] = None,
        callback: Optional[Callback] = None,
        verbose: bool = False,
    ) -> OptimizeResult:
        """Optimise an image that has `content`'s content and `style`'s style.

        Args:
          content, style: float32 RGB [H, W, 3] in [0, 1]; the result has the
            content's size (coarse-to-fine over `config.scales` levels).
          extra_terms: more objective terms, or a function of the (resized)
            content image returning them, called once per scale.
          content_weight_map: per-pixel content weights [H, W] at the content's
            size (e.g. `weight_maps.depth_to_alpha` of its depth, or a mask).
          callback: called after every step with (global step, losses, image).
          verbose: show a Keras progress bar with each loss term.
        """
        config = config or OptimizeConfig()
        config.validate()
        started = time.perf_counter()
        original_content = content
        if config.preserve_color:
            style = color.match_luminance(style, content)
            content = color.luminance(content)
        height, width = content.shape[:2]
        image: Optional[np.ndarray] = None
        history: list[dict] = []
        stopped = False
        for level, (h, w) in enumerate(pyramid_sizes(height, width, config.scales)):
            level_content = resize(content, (h, w))
            level_style = fit(style, round(max(h, w) * config.style_scale))
            terms = extra_terms(level_content) if callable(extra_terms) else extra_terms
            level_map = None
            if content_weight_map is not None:
                level_map = area_resize(  # not image.resize: weights are not clipped to [0, 1]
                    np.asarray(content_weight_map, np.float32)[None, ..., None], (h, w)
                ).numpy()[0, ..., 0]
            objective = self.objective(level_content, level_style, config, terms, level_map)
            if image is None:
                image = initial_image(config.init, level_content, level_style, config.seed)
            else:
                image = resize(image, (h, w))
            loop = self._adam if config.optimizer == "adam" else self._lbfgs
            image, stopped = loop(
                objective,
                image,
                config,
                history,
                callback,
                verbose,
                f"scale {level + 1}/{config.scales} {w}x{h}",
            )
        assert image is not None  # pyramid_sizes always has a level
        if config.preserve_color:
            image = color.restore_content_color(image, original_content)
        return OptimizeResult(
            image=image,
            history=history,
            steps=len(history),
            stopped_early=stopped,
            seconds=time.perf_counter() - started,
        )

    def _value_and_grad_fn(self, objective: Objective):
        encoder = self.encoder_for(objective.taps) if objective.taps else (lambda image: {})

        def value_and_grad(image):
            with tf.GradientTape() as tape:
                tape.watch(image)
                total, parts = objective(image, encoder(image))
            return total, parts, tape.gradient(total, image)

        return value_and_grad

    def _adam(self, objective, image, config, history, callback, verbose, label):
        # Adam settings of the TensorFlow tutorial (beta_1 0.99, epsilon 0.1),
        # which suit pixels in [0, 1].
        optimizer = keras.optimizers.Adam(config.learning_rate, beta_1=0.99, epsilon=0.1)
        variable = tf.Variable(image[None], dtype=tf.float32)
        optimizer.build([variable])
        value_and_grad = self._value_and_grad_fn(objective)

        @tf.function
        def step():
            total, parts, grad = value_and_grad(tf.convert_to_tensor(variable))
            optimizer.apply_gradients([(grad, variable)])
            variable.assign(tf.clip_by_value(variable, 0.0, 1.0))
            return total, parts

        bar = _progress(config.steps, objective, label) if verbose else None
        stopped = False
        start = len(history)
        for i in range(config.steps):
            total, parts = step()
            record = _record(len(history) + 1, total, parts)
            history.append(record)
            _report(bar, i + 1, record, callback, variable)
            if _converged(history[start:], config):
                stopped = True
                break
        return variable.numpy()[0], stopped

    def _lbfgs(self, objective, image, config, history, callback, verbose, label):
        import scipy.optimize

        value_and_grad = tf.function(self._value_and_grad_fn(objective))
        shape = (1, *image.shape)
        bar = _progress(config.steps, objective, label) if verbose else None
        last = {}

        def fun(x):
            total, parts, grad = value_and_grad(tf.constant(x.reshape(shape), tf.float32))
            last["record"] = _record(0, total, parts)
            return float(total), grad.numpy().astype(np.float64).ravel()

        def on_iteration(intermediate_result):
            record = dict(last["record"], step=len(history) + 1, total=float(intermediate_result.fun))
            history.append(record)
            x = tf.constant(intermediate_result.x.reshape(shape), tf.float32)
            _report(bar, record["step"] - start, record, callback, x)
            if _converged(history[start:], config):
                raise StopIteration  # SciPy ends the run and returns this iterate

        start = len(history)
        # L-BFGS-B with box constraints keeps pixels in [0, 1] (Zhu et al. 1997).
        result = scipy.optimize.minimize(
            fun,
            image.astype(np.float64).ravel(),
            jac=True,
            method="L-BFGS-B",
            bounds=scipy.optimize.Bounds(0.0, 1.0),
            callback=on_iteration,
            # the stopping rule is `_converged`'s, as for Adam; L-BFGS-B's own ftol only
            # catches a loss that no longer moves at all
            options={"maxiter": config.steps, "ftol": 1e-12, "gtol": 0.0, "maxcor": 100},
        )
        stopped = len(history) - start < config.steps
        return result.x.reshape(image.shape).astype(np.float32), stopped


def pyramid_sizes(height: int, width: int, levels: int) -> list[tuple[int, int]]:
    """Sizes of a coarse-to-fine schedule: halving per level, never below `MIN_SIDE`."""
    sizes = []
    for level in reversed(range(levels)):
        scale = 0.5**level
        h, w = round(height * scale), round(width * scale)
        if min(h, w) >= MIN_SIDE:
            sizes.append((h, w))
    return sizes or [(height, width)]


def initial_image(init: str, content: np.ndarray, style: np.ndarray, seed: int = 0) -> np.ndarray:
    """The starting image: the content, uniform noise, or the style resized to the content."""
    if init == "content":
        return np.array(content, np.float32)
    if init == "noise":
        return np.random.default_rng(seed).uniform(0, 1, content.shape).astype(np.float32)
    if init == "style":
        return resize(style, content.shape[:2])
    raise ConfigError(f"unknown init {init!r}; use one of {', '.join(INITS)}")


def _record(step, total, parts) -> dict:
    return {"step": step, "total": float(total), **{k: float(v) for k, v in parts.items()}}


def _converged(history, config) -> bool:
    """Relative decrease of the total over the last `tolerance_window` steps below tolerance."""
    window = config.tolerance_window
    if config.tolerance <= 0 or len(history) <= window:
        return False
    old, new = history[-1 - window]["total"], history[-1]["total"]
    return (old - new) / max(abs(old), 1e-12) < config.tolerance


def _progress(steps, objective, label):
    print(label)
    names = ["total", *(t.name for t in objective.terms)]
    # a bar on a terminal; a pipe or log file gets one plain line per scale instead
    verbose = 1 if sys.stdout.isatty() else 2
    return keras.utils.Progbar(steps, stateful_metrics=names, unit_name="step", verbose=verbose)


def _report(bar, step_in_level, record, callback, image):
    if bar is not None:
        bar.update(step_in_level, [(k, v) for k, v in record.items() if k != "step"])
    if callback is not None:
        callback(record["step"], record, image)


def snapshot_callback(save: Callable[[int, np.ndarray], None], every: int) -> Callback:
    """A callback that calls ``save(step, image [H, W, 3])`` every `every` steps."""

    def callback(step, losses_, image):
        if every > 0 and step % every == 0:
            save(step, np.asarray(image)[0])

    return callback
