"""VGG19 feature extractors returning a dict of named taps.

Two flavours share one naming scheme for taps, ``relu{block}_{layer}``:

* ``imagenet``: the keras-applications VGG19 (Simonyan & Zisserman 2015)
  with caffe preprocessing inside the model. Its convs have the ReLU fused,
  so ``relu4_2`` is the output of ``block4_conv2``; the Keras names
  (``block4_conv2``) and ``conv4_2`` are accepted as aliases.
* ``normalised``: the AdaIN/SANet encoder (``vgg_normalised.pth``): a 1×1
  preprocessing conv, reflection padding, unpadded 3×3 convs, ceil-mode
  max-pooling; taps ``relu1_1`` .. ``relu5_1``.

Inputs are RGB float in [0, 1], any size of at least `tfstyle.image.MIN_SIDE` px. Only the
layers up to the deepest requested tap are part of the returned model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

import keras

from tfstyle import weights as weights_lib
from tfstyle.errors import ConfigError
from tfstyle.layers import CaffePreprocess, ReflectionPadding2D
from tfstyle.models.vgg_taps import FLAVOURS, VGG19_BLOCKS, canonical_tap, tap_depth


def _imagenet_trunk(inputs, dtype) -> dict:
    """keras-applications VGG19 layers (same names, same order) after caffe preprocessing."""
    x = CaffePreprocess(name="preprocess", dtype=dtype)(inputs)
    taps = {}
    for block, (filters, convs) in enumerate(VGG19_BLOCKS, start=1):
        for layer in range(1, convs + 1):
            x = keras.layers.Conv2D(
                filters, 3, padding="same", activation="relu", name=f"block{block}_conv{layer}", dtype=dtype
            )(x)
            taps[f"relu{block}_{layer}"] = x
        x = keras.layers.MaxPooling2D(2, 2, name=f"block{block}_pool", dtype=dtype)(x)
    return taps


def _normalised_trunk(inputs, dtype) -> dict:
    """The AdaIN "vgg_normalised" encoder up to relu5_1 (Huang & Belongie 2017, their released encoder)."""
    # Index 0 of the published file: a 1x1 conv that maps RGB [0,1] to
    # mean-subtracted BGR [0,255]; loaded from the file, never hard-coded.
    x = keras.layers.Conv2D(3, 1, name="conv0", dtype=dtype)(inputs)
    taps = {}
    for block, (filters, convs) in enumerate(VGG19_BLOCKS, start=1):
        for layer in range(1, convs + 1 if block < 5 else 2):
            x = ReflectionPadding2D(1, name=f"pad{block}_{layer}", dtype=dtype)(x)
            x = keras.layers.Conv2D(filters, 3, padding="valid", name=f"conv{block}_{layer}", dtype=dtype)(x)
            x = keras.layers.ReLU(name=f"relu{block}_{layer}", dtype=dtype)(x)
            if layer == 1:
                taps[f"relu{block}_{layer}"] = x
        if block < 5:  # ceil_mode=True pooling == Keras "same" for 2x2/2 windows
            x = keras.layers.MaxPooling2D(2, 2, padding="same", name=f"pool{block}", dtype=dtype)(x)
    return taps


def _load(model: keras.Model, weights: str, flavour: str) -> None:
    if flavour == "imagenet":
        spec = weights_lib.VGG19_IMAGENET
        path = weights_lib.download(spec) if weights == "imagenet" else weights
    else:
        if weights == "imagenet":
            raise ConfigError(
                "the normalised VGG19 has no 'imagenet' weights; pass the converted "
                "vgg_normalised file (tfstyle weights import-sanet)"
            )
        path = weights
    weights_lib.load_into(model, path, f"{flavour} VGG19 weights", "check the file")


def build_vgg19(
    taps: Iterable[str],
    *,
    weights: Optional[str],
    flavour: str = "imagenet",
    dtype: Optional[str] = None,
    name: Optional[str] = None,
) -> keras.Model:
    """A VGG19 feature extractor: RGB [0, 1] image batch → ``{tap: features}``.

    Args:
      taps: layer names (``relu4_2``, ``block4_conv2``, ``conv4_2``).
      weights: ``"imagenet"`` (the registry's keras-applications file,
        ``imagenet`` flavour only), a path to a weights file (keras-applications
        ``.h5`` layout or Keras ``.weights.h5``), or ``None`` for random
        initialisation. Required, so that weights are never silently random.
      flavour: ``"imagenet"`` or ``"normalised"``.
      dtype: a Keras dtype policy, e.g. ``"mixed_bfloat16"``; features then
        come out in the compute dtype.
    Returns:
      a functional `keras.Model`, not trainable, whose outputs are a dict from
      canonical tap name to features [N, h, w, C]; it contains the layers up
      to the deepest tap only.
    """
    if flavour not in FLAVOURS:
        raise ConfigError(f"unknown VGG19 flavour {flavour!r}; use one of {', '.join(FLAVOURS)}")
    wanted = sorted({canonical_tap(t, flavour) for t in taps}, key=tap_depth)
    if not wanted:
        raise ConfigError("build_vgg19 needs at least one tap")
    inputs = keras.Input((None, None, 3), name="image")
    trunk = _imagenet_trunk if flavour == "imagenet" else _normalised_trunk
    all_taps = trunk(inputs, dtype)
    if weights is not None:
        full = keras.Model(inputs, all_taps[max(all_taps, key=tap_depth)])
        _load(full, weights, flavour)
    model = keras.Model(inputs, {t: all_taps[t] for t in wanted}, name=name or f"vgg19_{flavour}")
    model.trainable = False
    return model


def vgg19_full(
    *, weights: Optional[str], flavour: str = "imagenet", dtype: Optional[str] = None
) -> keras.Model:
    """Every tap of a flavour: the model whose ``.weights.h5`` file a flavour loads."""
    if flavour == "normalised":
        taps = [f"relu{b}_1" for b in range(1, 6)]
    else:
        taps = [f"relu{b}_{i}" for b, (_, n) in enumerate(VGG19_BLOCKS, 1) for i in range(1, n + 1)]
    return build_vgg19(taps, weights=weights, flavour=flavour, dtype=dtype)


def tap_layer_name(tap: str, flavour: str = "imagenet") -> str:
    """Name of the Keras layer whose output is `tap`."""
    tap = canonical_tap(tap, flavour)
    block, layer = tap_depth(tap)
    return f"block{block}_conv{layer}" if flavour == "imagenet" else tap


def select_taps(encoder: keras.Model, taps: Iterable[str], flavour: str = "imagenet") -> keras.Model:
    """A model over `encoder`'s layers (weights shared) that computes only up to `taps`."""
    wanted = sorted({canonical_tap(t, flavour) for t in taps}, key=tap_depth)
    outputs = {}
    for tap in wanted:
        try:
            outputs[tap] = encoder.get_layer(tap_layer_name(tap, flavour)).output
        except ValueError:
            raise ConfigError(f"layer {tap} is deeper than this encoder; build it with that tap") from None
    model = keras.Model(encoder.input, outputs, name=f"{encoder.name}_to_{wanted[-1]}")
    model.trainable = False
    return model
