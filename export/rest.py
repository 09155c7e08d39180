r"""Call a SavedModel signature with a TF Serving REST ``:predict`` body, without a server.

    python -m export.rest --model_dir=MODELS/tfstyle/1 --request=request.json [--output=out.json]

Follows TF Serving's REST API (https://www.tensorflow.org/tfx/serving/api_rest):
``{"signature_name": ..., "instances": [{name: value, ...}, ...]}`` (row
format, stacked along dimension 0) or ``{"inputs": {name: [...]}}`` (columnar);
``{"b64": "..."}`` is base64 bytes; every input of the signature must be given.
The reply is ``{"predictions": [...]}`` (``{"outputs": ...}`` for columnar
requests), outputs named ``*_bytes`` as ``{"b64": ...}``; errors are
``{"error": "..."}`` with exit status 1. Use it to try requests before
deploying, or to serve a batch of files from a script.
"""

from __future__ import annotations

import base64
import json
import os
import sys

import numpy as np
import tensorflow as tf
from absl import app, flags

from tfstyle.files import write_atomic

FLAGS = flags.FLAGS


class RequestError(ValueError):
    """A request TF Serving would reject (400)."""


def _decode_b64(value):
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_decode_b64(v) for v in value]
    return value


def _encode(name: str, value):
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype == object:  # strings
            return [_encode(name, v) for v in value] if value.ndim else _encode(name, value.item())
        return value.tolist()
    if isinstance(value, bytes):
        if name.endswith("_bytes"):
            return {"b64": base64.b64encode(value).decode("ascii")}
        return value.decode("utf-8", errors="replace")
    return value


def _columns(request: dict, names) -> tuple[dict, bool]:
    """{input name: list of per-instance values} and whether the request was row format."""
    if ("instances" in request) == ("inputs" in request):
        raise RequestError('the request needs exactly one of "instances" or "inputs"')
    if "instances" in request:
        rows = request["instances"]
        if not isinstance(rows, list) or not rows:
            raise RequestError('"instances" must be a non-empty list')
        if all(isinstance(row, dict) and "b64" not in row for row in rows):
            keys = {frozenset(row) for row in rows}
            if len(keys) > 1:
                raise RequestError("every instance must name the same inputs")
            return {name: [row[name] for row in rows] for name in next(iter(keys))}, True
        if len(names) != 1:
            raise RequestError(f"unnamed instances need a one-input signature; name them: {names}")
        return {names[0]: rows}, True
    inputs = request["inputs"]
    return (inputs if isinstance(inputs, dict) else {names[0]: inputs}), False


def predict(signature, request: dict) -> dict:
    """Run `signature` (a loaded concrete function) on a REST request body."""
    specs = signature.structured_input_signature[1]
    columns, rows = _columns(request, sorted(specs))
    if set(columns) != set(specs):
        missing, extra = sorted(set(specs) - set(columns)), sorted(set(columns) - set(specs))
        raise RequestError(f"input size does not match signature: missing {missing}, extra {extra}")
    tensors = {}
    for name, values in columns.items():
        dtype = specs[name].dtype
        try:
            values = _decode_b64(values)
            if dtype.is_integer:  # TF would wrap 300 to 44 in uint8 silently
                array = np.asarray(values)
                if (
                    array.dtype.kind in "iuf"
                    and array.size
                    and (array.min() < dtype.min or array.max() > dtype.max)
                ):
                    raise RequestError(
                        f"{name}: values must be in [{dtype.min}, {dtype.max}] for {dtype.name}, "
                        f"got {array.min()}..{array.max()}"
                    )
            tensors[name] = tf.constant(values, dtype=dtype)
        except (ValueError, TypeError) as e:
            if isinstance(e, RequestError):
                raise
            raise RequestError(f"{name}: cannot make a {dtype.name} tensor ({e})") from None
    outputs = {name: value.numpy() for name, value in signature(**tensors).items()}
    if not rows:
        return {"outputs": {name: _encode(name, value) for name, value in outputs.items()}}
    count = len(next(iter(outputs.values())))
    if len(outputs) == 1:
        ((name, value),) = outputs.items()
        return {"predictions": [_encode(name, value[i]) for i in range(count)]}
    return {
        "predictions": [
            {name: _encode(name, value[i]) for name, value in outputs.items()} for i in range(count)
        ]
    }


def error_line(message: str) -> str:
    """The informative line of a TF error: the failed assertion's text, else the first
    line that is not graph-execution boilerplate."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in lines:
        if "assertion failed:" in line:
            return line.split("assertion failed:", 1)[1].strip()
    boilerplate = ("Graph execution error", "Detected at node", "<stack traces", "[[")
    return next((line for line in lines if not line.startswith(boilerplate)), message.strip())


def resolve_model_dir(path: str) -> str:
    """A SavedModel folder: `path` itself, or, given a base path (MODELS/tfstyle) as TF
    Serving takes, its highest numeric version."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    if not os.path.isdir(path):
        raise RequestError(f"--model_dir {path}: no such folder; pass MODELS/NAME or MODELS/NAME/VERSION")
    versions = [
        name
        for name in os.listdir(path)
        if name.isdigit() and os.path.isfile(os.path.join(path, name, "saved_model.pb"))
    ]
    if not versions:
        raise RequestError(f"--model_dir {path}: no saved_model.pb here nor in a numbered version folder")
    return os.path.join(path, max(versions, key=int))


def read_request(path: str) -> dict:
    """The JSON body of a :predict request, as TF Serving would refuse it when malformed."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise RequestError(f"--request {path}: cannot read ({e.strerror})") from None
    if not text.strip():
        raise RequestError(f"--request {path}: empty body; send a JSON object")
    try:
        request = json.loads(text)
    except ValueError as e:
        raise RequestError(f"--request {path}: not JSON ({e})") from None
    if not isinstance(request, dict):
        raise RequestError(
            f'--request {path}: the body must be a JSON object with "instances" or "inputs", '
            f"not a {type(request).__name__}"
        )
    return request


def main(argv):
    del argv
    try:
        request = read_request(FLAGS.request)
        loaded = tf.saved_model.load(resolve_model_dir(FLAGS.model_dir))
        name = request.get("signature_name", "serving_default")
        if name not in loaded.signatures:
            raise RequestError(
                f'Serving signature name: "{name}" not found in signature def; '
                f"have {sorted(loaded.signatures)}"
            )
        reply, status = predict(loaded.signatures[name], request), 0
    except (RequestError, tf.errors.InvalidArgumentError) as e:
        message = e.message if isinstance(e, tf.errors.OpError) else str(e)
        reply, status = {"error": error_line(message)}, 1
    text = json.dumps(reply)
    if FLAGS.output:
        write_atomic(FLAGS.output, text.encode())
    else:
        print(text)
    sys.exit(status)


if __name__ == "__main__":
    flags.DEFINE_string(
        "model_dir", None, "a SavedModel: the base path (MODELS/tfstyle; the newest version) or a version"
    )
    flags.DEFINE_string("request", None, "JSON file with the :predict request body")
    flags.DEFINE_string("output", None, "write the reply here (default: stdout)")
    flags.mark_flags_as_required(["model_dir", "request"])
    app.run(main)
