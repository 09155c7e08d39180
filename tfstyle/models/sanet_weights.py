"""The SANet weights folder: three ``.weights.h5`` files, read into and written from a `SANetStylizer`.

``tfstyle weights import-sanet`` and ``python -m training.sanet`` write the
folder; ``tfstyle stylize --weights DIR`` and the export programs read it.
Where the folder comes from (a path, the default cache folder, ``random``)
is `tfstyle.weights.resolve_weights`' business, not this module's.
"""

from __future__ import annotations

import os
from typing import Optional

import keras

from tfstyle import weights as weights_lib
from tfstyle.errors import WeightsError
from tfstyle.models.base import weights_fingerprint
from tfstyle.models.sanet import SANetStylizer
from tfstyle.models.vgg import vgg19_full

#: File names inside a SANetStylizer weights folder.
ENCODER_FILE = "vgg_normalised.weights.h5"
TRANSFORM_FILE = "sanet_transform.weights.h5"
DECODER_FILE = "sanet_decoder.weights.h5"
FILES = (ENCODER_FILE, TRANSFORM_FILE, DECODER_FILE)
#: The folder's architecture record: ``{"levels": ["relu4_1"]}`` for the single-level model; a
#: folder without it (the published weights, older folders) holds the multi-level model.
ARCHITECTURE_FILE = "sanet.json"

_REIMPORT = "re-create it with 'tfstyle weights import-sanet' (or python -m training.sanet)"


def folder_levels(directory: str) -> tuple:
    """The attended levels of the model a weights folder holds (`ARCHITECTURE_FILE`)."""
    import json

    from tfstyle.models.sanet import MULTI_LEVEL, check_levels

    path = os.path.join(directory, ARCHITECTURE_FILE)
    if not os.path.isfile(path):
        return MULTI_LEVEL
    try:
        with open(path, encoding="utf-8") as f:
            return check_levels(json.load(f)["levels"])
    except (OSError, ValueError, KeyError) as e:
        raise WeightsError(f"{path}: not a SANet architecture record ({e}); {_REIMPORT}") from None


def load_sanet(directory: Optional[str], **kwargs) -> SANetStylizer:
    """A `SANetStylizer` with the weights of `directory` (random for ``None``); kwargs go to its class.
    The folder's levels (`ARCHITECTURE_FILE`) decide the architecture unless kwargs name them."""
    if directory is not None and os.path.isdir(directory):
        kwargs.setdefault("levels", folder_levels(directory))
    model = SANetStylizer(**kwargs)
    if directory is not None:
        load_weights_dir(model, directory)
    return model


def full_encoder(stylizer: SANetStylizer) -> keras.Model:
    """The encoder with every relu tap: the layout of ``vgg_normalised.weights.h5``."""
    if stylizer.training_taps:
        return stylizer.encoder
    return vgg19_full(weights=None, flavour="normalised", dtype=stylizer.dtype_policy)


def load_encoder(stylizer: SANetStylizer, path: str) -> None:
    """Load a ``vgg_normalised.weights.h5`` into the stylizer's encoder."""
    encoder = full_encoder(stylizer)
    weights_lib.load_into(encoder, path, "the normalised VGG19 encoder", _REIMPORT)
    if encoder is not stylizer.encoder:
        for layer in stylizer.encoder.layers:
            if layer.weights:
                layer.set_weights(encoder.get_layer(layer.name).get_weights())


def load_weights_dir(stylizer: SANetStylizer, directory: str) -> None:
    """Read the three files of `directory` into `stylizer`; one-line `WeightsError` otherwise."""
    if not os.path.isdir(directory):
        raise WeightsError(
            f"--weights {directory}: not a folder; pass the folder written by 'tfstyle weights import-sanet'"
        )
    missing = [name for name in FILES if not os.path.isfile(os.path.join(directory, name))]
    if missing:
        raise WeightsError(
            f"{directory}: missing {', '.join(missing)}; convert the published "
            f"SANet files with 'tfstyle weights import-sanet' or pass --weights DIR"
        )
    levels = folder_levels(directory)
    if tuple(stylizer.levels) != levels:
        raise WeightsError(
            f"{directory}: holds the {'single' if len(levels) == 1 else 'multi'}-level SANet "
            f"({','.join(levels)}), the model is {','.join(stylizer.levels)}; "
            f"load it with levels={list(levels)}"
        )
    load_encoder(stylizer, os.path.join(directory, ENCODER_FILE))
    stylizer.weights_id = weights_fingerprint(stylizer.encoder)
    for name, model in ((TRANSFORM_FILE, stylizer.transform), (DECODER_FILE, stylizer.decoder)):
        weights_lib.load_into(model, os.path.join(directory, name), "SANet weights", _REIMPORT)


def save_weights_dir(stylizer: SANetStylizer, directory: str) -> None:
    """Write the three files of a weights folder (the encoder with every tap)."""
    os.makedirs(directory, exist_ok=True)
    encoder = full_encoder(stylizer)
    if encoder is not stylizer.encoder:
        for layer in stylizer.encoder.layers:
            if layer.weights:
                encoder.get_layer(layer.name).set_weights(layer.get_weights())
    encoder.save_weights(os.path.join(directory, ENCODER_FILE))
    stylizer.transform.save_weights(os.path.join(directory, TRANSFORM_FILE))
    stylizer.decoder.save_weights(os.path.join(directory, DECODER_FILE))
    record = os.path.join(directory, ARCHITECTURE_FILE)
    from tfstyle.models.sanet import MULTI_LEVEL

    if tuple(stylizer.levels) != MULTI_LEVEL:
        import json

        from tfstyle.files import write_atomic

        write_atomic(record, json.dumps({"levels": list(stylizer.levels)}).encode())
    elif os.path.exists(record):
        os.remove(record)
