"""TensorFlow.js graph models (``model.json`` + weight shards) run by TensorFlow.

A TFJS graph model is a TensorFlow GraphDef written as JSON with its
constants moved into binary shards (``weightsManifest``). `load_graph_model`
puts the constants back, rewrites the few ops the TFJS converter invents into
the TensorFlow ops they fuse, imports the GraphDef and returns it as a
concrete function: the same graph TensorFlow.js runs, on TensorFlow's kernels
(checked against TensorFlow.js itself in ``tests/test_identity.py``).

The TFJS format (``tfjs-converter``'s ``operations/`` and
``io/types.ts``): weights are little-endian; a weight with a
``quantization`` entry stores ``uint8``/``uint16`` values ``q`` for
``min + scale * q``, or ``float16`` values. The converter fuses
``Conv2D``/``DepthwiseConv2dNative`` (+ ``BiasAdd`` + activation) into
``_FusedConv2D`` / ``FusedDepthwiseConv2dNative`` and ``MatMul`` into
``_FusedMatMul``; `unfuse` writes them out again.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from tfstyle.errors import WeightsError

#: TFJS manifest dtypes → NumPy (little-endian, as the format stores them).
_DTYPES = {"float32": "<f4", "int32": "<i4", "bool": "?", "uint8": "u1", "uint16": "<u2", "float16": "<f2"}
#: Activations the TFJS converter fuses after the bias (tfjs-converter ``fused_ops``).
_ACTIVATIONS = {b"Relu": "Relu", b"Relu6": "Relu6", b"Elu": "Elu", b"Sigmoid": "Sigmoid", b"Tanh": "Tanh"}
#: The converter's fused ops and the TensorFlow op under each.
_FUSED = {
    "_FusedConv2D": "Conv2D",
    "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
    "_FusedMatMul": "MatMul",
}
#: Attributes of the fused node that the base op does not take.
_FUSION_ATTRS = ("fused_ops", "num_args", "epsilon", "leakyrelu_alpha", "num_host_args")


def read_weights(model_json: str, model: dict) -> dict[str, np.ndarray]:
    """The constants of a TFJS model by node name, dequantized to their stored dtype."""
    folder = os.path.dirname(os.path.abspath(model_json))
    values: dict[str, np.ndarray] = {}
    for group in model.get("weightsManifest", []):
        data = b"".join(_read(os.path.join(folder, name)) for name in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = [int(d) for d in spec["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            stored = quant["dtype"] if quant else spec["dtype"]
            if stored not in _DTYPES:
                raise WeightsError(
                    f"{model_json}: weight {spec['name']} has dtype {stored}, which tfstyle cannot read"
                )
            size = count * np.dtype(_DTYPES[stored]).itemsize
            if offset + size > len(data):
                raise WeightsError(
                    f"{model_json}: the weight shards end before {spec['name']}; the files are incomplete"
                )
            raw = np.frombuffer(data, _DTYPES[stored], count, offset).reshape(shape)
            offset += size
            if quant and stored in ("uint8", "uint16"):
                raw = quant["min"] + quant["scale"] * raw.astype(np.float32)
            values[spec["name"]] = raw.astype(_DTYPES[spec["dtype"]])
        if offset != len(data):
            raise WeightsError(
                f"{model_json}: {len(data) - offset} bytes of the weight shards are not in its manifest"
            )
    return values


def _read(path: str) -> bytes:
    if not os.path.isfile(path):
        raise WeightsError(f"{path}: weight shard missing; keep the .bin files next to the model.json")
    with open(path, "rb") as f:
        return f.read()


def graph_def(model_json: str):
    """The model's GraphDef with its constants filled in and the converter's fusions unfused."""
    import tensorflow as tf
    from google.protobuf import json_format

    try:
        with open(model_json, encoding="utf-8") as f:
            model = json.load(f)
        topology = model["modelTopology"]
    except (OSError, ValueError, KeyError) as e:
        raise WeightsError(f"{model_json}: not a TFJS graph model.json ({e})") from e
    if model.get("format") not in (None, "graph-model"):
        raise WeightsError(
            f"{model_json}: format {model.get('format')!r}; only TFJS graph models can be read"
        )
    weights = read_weights(model_json, model)
    graph = json_format.ParseDict(
        {"node": topology["node"], "versions": topology.get("versions", {})},
        tf.compat.v1.GraphDef(),
        ignore_unknown_fields=True,
    )
    nodes = []
    for node in graph.node:
        node.ClearField("device")
        if node.op == "Const" and node.name in weights:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
            node.attr["dtype"].type = node.attr["value"].tensor.dtype
        nodes.extend(unfuse(node) if node.op in _FUSED else [node])
    missing = [n.name for n in nodes if n.op == "Const" and not n.attr["value"].HasField("tensor")]
    if missing:
        raise WeightsError(f"{model_json}: constants {missing[:3]} have no values in the weight shards")
    del graph.node[:]
    graph.node.extend(nodes)
    return graph, model


def unfuse(node) -> list:
    """A converter-fused node as its TensorFlow ops: the base op, ``BiasAdd``, the activation.

    The last op keeps the fused node's name, so the consumers need no change.
    """
    import tensorflow as tf

    fused = [bytes(op) for op in node.attr["fused_ops"].list.s]
    steps = [op for op in fused if op != b"BiasAdd"]
    if fused[:1] != [b"BiasAdd"] or len(steps) > 1 or (steps and steps[0] not in _ACTIVATIONS):
        raise WeightsError(f"TFJS node {node.name}: fused ops {fused} are not supported")
    base = tf.compat.v1.NodeDef(name=f"{node.name}/base", op=_FUSED[node.op], input=node.input[:2])
    for key, value in node.attr.items():
        if key not in _FUSION_ATTRS and not (node.op == "_FusedMatMul" and key in ("explicit_paddings",)):
            base.attr[key].CopyFrom(value)
    if node.op == "FusedDepthwiseConv2dNative":
        base.attr.pop("explicit_paddings", None)
    bias = tf.compat.v1.NodeDef(name=node.name if not steps else f"{node.name}/bias", op="BiasAdd")
    bias.input.extend([base.name, node.input[2]])
    bias.attr["T"].CopyFrom(node.attr["T"])
    if "data_format" in node.attr:
        bias.attr["data_format"].CopyFrom(node.attr["data_format"])
    out = [base, bias]
    if steps:
        act = tf.compat.v1.NodeDef(name=node.name, op=_ACTIVATIONS[steps[0]], input=[bias.name])
        act.attr["T"].CopyFrom(node.attr["T"])
        out.append(act)
    return out


def load_graph_model(model_json: str, outputs: Any = None):
    """A concrete TensorFlow function running the TFJS graph model at `model_json`.

    `outputs`: the output node names (default: the model's signature, else the
    last node). The function takes the graph's placeholders in order.
    """
    import tensorflow as tf

    graph, model = graph_def(model_json)
    inputs = [n for n in graph.node if n.op == "Placeholder"]
    if outputs is None:
        signature = (model.get("userDefinedMetadata") or {}).get("signature", {}).get("outputs") or model.get(
            "signature", {}
        ).get("outputs")
        outputs = [v["name"] for v in signature.values()] if signature else [graph.node[-1].name]
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)

    def imported():
        tf.graph_util.import_graph_def(graph, name="")

    wrapped = tf.compat.v1.wrap_function(imported, [])
    feeds = [f"{n.name}:0" for n in inputs]
    fetches = [name if ":" in name else f"{name}:0" for name in outputs]
    pruned = wrapped.prune(feeds=feeds, fetches=fetches if len(fetches) > 1 else fetches[0])
    dtypes = [tf.as_dtype(n.attr["dtype"].type) for n in inputs]

    def run(*values):
        """The graph on `values` (arrays or tensors, one per placeholder)."""
        return pruned(*(tf.convert_to_tensor(v, dtype) for v, dtype in zip(values, dtypes)))

    return run
