"""Convert the published PyTorch SANet files to a tfstyle SANetStylizer weights folder.

Inputs (GlebSBrykin/SANET, plain state dicts): ``vgg_normalised.pth``,
``decoder_iter_500000.pth``, ``transformer_iter_500000.pth``. Output: the
three ``.weights.h5`` files `tfstyle.models.sanet_weights.load_weights_dir` reads. PyTorch is
needed here only (``pip install 'tfstyle[torch]'``); inference never imports it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from tfstyle.errors import MissingExtraError, WeightsError

#: Published encoder index → tfstyle layer name (the port's vgg Sequential). 45, 48
#: and 51 (relu5_2..relu5_4) are in the file but never used.
ENCODER_LAYERS = {
    0: "conv0",
    2: "conv1_1",
    5: "conv1_2",
    9: "conv2_1",
    12: "conv2_2",
    16: "conv3_1",
    19: "conv3_2",
    22: "conv3_3",
    25: "conv3_4",
    29: "conv4_1",
    32: "conv4_2",
    35: "conv4_3",
    38: "conv4_4",
    42: "conv5_1",
}
SANET_CONVS = ("f", "g", "h", "out_conv")

#: Where users get the originals.
PUBLISHED_AT = "https://github.com/GlebSBrykin/SANET (README: links to the three .pth files)"


def load_state_dict(path: str) -> dict[str, np.ndarray]:
    """A PyTorch state dict as NumPy arrays (tensors only, on the CPU)."""
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "torch", "reading .pth files") from None
    if not os.path.isfile(path):
        raise WeightsError(f"{path}: no such file; download it from {PUBLISHED_AT}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise WeightsError(f"{path}: not a PyTorch state dict ({' '.join(str(e).split())[:120]})") from None
    if not isinstance(state, Mapping):
        raise WeightsError(f"{path}: expected a state dict, found {type(state).__name__}")
    return {k: v.detach().cpu().numpy() for k, v in state.items() if hasattr(v, "detach")}


def conv_weights(state: Mapping[str, np.ndarray], prefix: str, path: str, expected_shape=None):
    """[kernel, bias] in Keras layout from ``{prefix}weight`` ([out, in, kh, kw]) and ``{prefix}bias``."""
    try:
        weight, bias = state[f"{prefix}weight"], state[f"{prefix}bias"]
    except KeyError as e:
        raise WeightsError(f"{path}: missing key {e.args[0]}; is this the right file?") from None
    if expected_shape is not None and tuple(weight.shape) != tuple(expected_shape):
        raise WeightsError(
            f"{path}: {prefix}weight has shape {list(weight.shape)}, expected "
            f"{list(expected_shape)}; is this the right file?"
        )
    return [np.transpose(weight, (2, 3, 1, 0)), bias]


def _assign(layer, weights, path, key):
    expected = [tuple(w.shape) for w in layer.get_weights()]
    got = [tuple(w.shape) for w in weights]
    if expected != got:
        raise WeightsError(
            f"{path}: {key} has shapes {got}, tfstyle expects {expected}; is this the right file?"
        )
    layer.set_weights(weights)


def import_sanet(vgg_path: str, decoder_path: str, transformer_path: str, output_dir: str):
    """Convert the three published files into `output_dir`; returns the SANetStylizer built from them."""
    from tfstyle.models.sanet import SANetStylizer
    from tfstyle.models.sanet_weights import save_weights_dir

    stylizer = SANetStylizer(training_taps=True)
    vgg = load_state_dict(vgg_path)
    for index, name in ENCODER_LAYERS.items():
        _assign(
            stylizer.encoder.get_layer(name),
            conv_weights(vgg, f"{index}.", vgg_path),
            vgg_path,
            f"{index}.weight",
        )
    decoder = load_state_dict(decoder_path)
    for layer in stylizer.decoder.layers:
        if layer.weights:
            index = layer.name[len("conv") :]
            _assign(layer, conv_weights(decoder, f"{index}.", decoder_path), decoder_path, f"{index}.weight")
    transformer = load_state_dict(transformer_path)
    for block in ("sanet4_1", "sanet5_1"):
        attention = getattr(stylizer.transform, block)
        for conv in SANET_CONVS:
            key = f"{block}.{conv}."
            _assign(
                getattr(attention, conv),
                conv_weights(transformer, key, transformer_path),
                transformer_path,
                key + "weight",
            )
    _assign(
        stylizer.transform.merge_conv,
        conv_weights(transformer, "merge_conv.", transformer_path),
        transformer_path,
        "merge_conv.weight",
    )
    save_weights_dir(stylizer, output_dir)
    return stylizer
