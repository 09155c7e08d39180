"""VGG19's layer layout and tap names, without TensorFlow (the CLI validates names with it).

Taps are named ``relu{block}_{layer}``; the Keras names (``block4_conv2``) and
``conv4_2`` are accepted as aliases (Simonyan & Zisserman 2015, table 1, column E).
"""

from __future__ import annotations

import re

from tfstyle.errors import ConfigError

#: (filters, convs) per block of VGG19.
VGG19_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))

FLAVOURS = ("imagenet", "normalised")

_TAP_RE = re.compile(r"^(?:relu|conv)(\d)_(\d)$|^block(\d)_conv(\d)$")


def canonical_tap(name: str, flavour: str = "imagenet") -> str:
    """Map ``block4_conv2`` / ``conv4_2`` / ``relu4_2`` to ``relu4_2``; reject unknown names."""
    match = _TAP_RE.match(name)
    if match is None:
        raise ConfigError(f"unknown VGG19 layer {name!r}; use names like relu4_2 or block4_conv2")
    block, layer = (int(g) for g in (match.group(1, 2) if match.group(1) else match.group(3, 4)))
    if not 1 <= block <= 5:
        raise ConfigError(f"VGG19 has no layer {name!r}; its blocks are numbered 1 to 5")
    if not 1 <= layer <= VGG19_BLOCKS[block - 1][1]:
        raise ConfigError(
            f"VGG19 has no layer {name!r}; block {block} has {VGG19_BLOCKS[block - 1][1]} convs"
        )
    if flavour == "normalised":
        if not name.startswith("relu"):
            raise ConfigError(f"the normalised VGG19 exposes only relu taps, got {name!r}")
        if layer != 1:
            raise ConfigError(f"the normalised VGG19 taps are relu1_1..relu5_1, got {name!r}")
    return f"relu{block}_{layer}"


def tap_depth(tap: str) -> tuple[int, int]:
    """(block, layer) of a canonical tap name, for sorting taps by depth."""
    return int(tap[4]), int(tap[6])
