"""The feed-forward networks behind one interface: which one, loaded from where, and one call.

`load_network` resolves a network's weights (`tfstyle.weights`, Magenta's
imported on first use) and builds it at the precision asked for;
`stylize` calls the network's own ``stylize`` with its own names for the same
controls (SANet: ``alpha``, cached ``style_features``; Magenta: ``strength``,
cached ``style_vectors``; built-in styles: indices). ``tfstyle stylize``,
``tfstyle video`` and `tfstyle.bulk` all go through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

#: ``--model`` values, and ``builtin`` for ``--builtin-style``.
NETWORKS = ("sanet", "magenta", "builtin")


def load_network(
    model: str = "sanet",
    weights: Optional[str] = None,
    precision: str = "auto",
    memory_budget_mb: float = 256.0,
    **sanet_kwargs,
):
    """A `Stylizer`, `MagentaStylizer` or `PasticheStylizer`; `weights` as ``--weights`` takes it.

    `memory_budget_mb` bounds SANet's attention chunks and the full-resolution strips of SANet
    and Magenta (`tfstyle.tiling`); the 26-style network runs whole.
    """
    from tfstyle import weights as weights_lib
    from tfstyle.errors import ConfigError
    from tfstyle.precision import dtype_policy, stylizer_dtypes

    if model not in NETWORKS:
        raise ConfigError(f"unknown network {model!r}; use one of {', '.join(NETWORKS)}")
    if model == "sanet":
        from tfstyle.models.sanet_weights import load_stylizer

        folder = weights_lib.resolve_weights(weights, weights_lib.SANET)
        return load_stylizer(
            folder, **stylizer_dtypes(precision), memory_budget_mb=memory_budget_mb, **sanet_kwargs
        )
    dtype = dtype_policy(precision, model)
    if model == "magenta":
        from tfstyle.models.magenta_weights import load_magenta

        folder = weights_lib.resolve_weights(weights, weights_lib.MAGENTA)
        return load_magenta(folder, dtype=dtype, memory_budget_mb=memory_budget_mb)
    from tfstyle.models.magenta_weights import load_builtin

    return load_builtin(weights_lib.resolve_weights(weights, weights_lib.BUILTIN_STYLES), dtype=dtype)


def stylize(
    network,
    image,
    styles: Optional[Sequence] = None,
    *,
    encoded: Optional[Sequence[Any]] = None,
    alpha: float = 1.0,
    style_weights: Optional[Sequence[float]] = None,
    masks=None,
    preserve_color: Optional[str] = None,
    level_weights=(1.0, 1.0),
):
    """`network`'s stylization of `image` by style images, or by styles `encoded` once
    (``encode_style`` results; built-in style indices for the built-in network)."""
    from tfstyle.models.magenta import MagentaStylizer
    from tfstyle.models.pastiche import PasticheStylizer

    common = {"style_weights": style_weights, "masks": masks, "preserve_color": preserve_color}
    if isinstance(network, PasticheStylizer):
        return network.stylize(image, list(encoded or []), **common)
    if isinstance(network, MagentaStylizer):
        return network.stylize(image, styles, style_vectors=encoded, strength=alpha, **common)
    return network.stylize(
        image, styles, style_features=encoded, alpha=alpha, level_weights=level_weights, **common
    )
