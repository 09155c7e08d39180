r"""Export the on-device models (`export.mobile`) to TFLite, builtin ops only.

    python -m export.tflite --weights=~/.keras/models/tfstyle-sanet --output=mobile/ \
        --size=384 --style_size=256 --quantize=float16 [--representative_dir=photos/]
    python -m export.tflite --model=magenta --output=mobile-magenta/ --quantize=none,float16

writes ``style_encoder_Q.tflite``, ``transfer_Q.tflite`` and ``portrait_Q.tflite``
(Q: float32, float16, dynamic or int8; ``--quantize`` takes a comma list) and
``ops_report.json``. Every model is checked after conversion: an op that is not
a TFLite builtin (a Flex/SELECT_TF op or a custom op) fails the export with the
op's name, and nothing is written. The report lists each model's ops and the
ones the GPU delegate would leave on the CPU (`gpu_fallbacks`).

* ``none``/``float32``: float32 weights and compute;
* ``float16``: float16 weights, dequantized on CPU, native on the GPU delegate;
* ``dynamic``: int8 weights, float activations (dynamic range);
* ``int8``: int8 weights and activations calibrated on ``--representative_dir``
  images; inputs and outputs stay float32, so apps feed every variant alike.
"""

from __future__ import annotations

import collections
import json
import os

from absl import flags, logging

from export.common import (
    MOBILE_MODELS,
    ExportError,
    check_mobile_size,
    define_model_flags,
    define_portrait_flags,
    load_network_from_flags,
    portrait_settings_from_flags,
)
from tfstyle.files import write_atomic
from tfstyle.programs import run

FLAGS = flags.FLAGS
QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")
#: Opcodes for ops outside the builtin set.
_NOT_BUILTIN = ("CUSTOM", "DELEGATE", "PLACEHOLDER_FOR_GREATER_OP_CODES")


def frozen(function):
    """`function` with its weights as constants and its input/output names kept.

    Converted as it is, a function over Keras 3 variables keeps them as
    VAR_HANDLE/READ_VARIABLE ops with nothing to initialise them on the device;
    freezing alone would rename the outputs ``output_0``...
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    constant = convert_variables_to_constants_v2(function)
    structure = function.structured_outputs

    @tf.function(input_signature=function.structured_input_signature[0])
    def named(*inputs):
        return tf.nest.pack_sequence_as(structure, constant(*inputs))

    return named.get_concrete_function()


INT8_NEEDS_DATA = (
    "--quantize=int8 needs --representative_dir: a folder of photos "
    "like the ones the app will see (100-500 is plenty)"
)


def converter_for(function, trackable, quantize: str, representative=None):
    """A `TFLiteConverter` for a concrete function with `quantize` applied.

    SELECT_TF_OPS is allowed here on purpose: a model needing a TF op then
    converts, and `check_builtin_only` names every such op at once instead of
    the converter stopping at the first.
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [frozen(function)] if function is not None else [], trackable
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    if quantize in ("float16", "dynamic", "int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        if representative is None:
            raise ExportError(INT8_NEEDS_DATA)
        converter.representative_dataset = representative
    return converter


def _nodes(model: bytes) -> list:
    """(op name, operator, subgraph) for every node of `model`, from one parse.

    The op name is the builtin's, or the custom code of custom and Flex ops.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.python import schema_util
    from tensorflow.lite.tools import flatbuffer_utils

    names = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    parsed = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    codes = []
    for code in parsed.operatorCodes:
        builtin = names.get(schema_util.get_builtin_code_from_operator_code(code), "?")
        custom = code.customCode.decode() if code.customCode else None
        codes.append(custom if builtin in _NOT_BUILTIN or custom else builtin)
    return [(codes[op.opcodeIndex], op, graph) for graph in parsed.subgraphs for op in graph.operators or []]


def check_builtin_only(ops: list[str], name: str) -> None:
    """Raise `ExportError` naming every op in `ops` (node op names) that is not a TFLite
    builtin, or the variable ops left by an unfrozen function."""
    from tensorflow.lite.python import schema_py_generated as schema

    builtin = {n for n in vars(schema.BuiltinOperator) if not n.startswith("_")} - set(_NOT_BUILTIN)
    if "VAR_HANDLE" in ops:
        raise ExportError(
            f"{name}: the weights were left as variables; freeze the function "
            f"before converting; nothing was written"
        )
    foreign = sorted({op for op in ops if op not in builtin})
    if foreign:
        raise ExportError(
            f"{name}: needs ops that are not TFLite builtins ({', '.join(foreign)}); the app "
            f"would need the Flex delegate or a custom op. Replace them with builtin-friendly "
            f"TF ops; nothing was written"
        )


#: Ops the GPU delegate accepts: the cases of CheckGpuDelegateCompatibility in
#: tensorflow/lite/tools/versioning/gpu_compatibility.cc. The model analyzer
#: (tf.lite.experimental.Analyzer, gpu_compatibility=True) in TF 2.21's wheel
#: calls even TOPK_V2 and GATHER_ND compatible, which that code refuses.
GPU_OPS = frozenset(
    """
    ABS ADD ADD_N ATAN2 AVERAGE_POOL_2D BATCH_MATMUL CAST CEIL CONCATENATION CONV_2D COS CUMSUM
    DENSIFY DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE DIV DYNAMIC_UPDATE_SLICE ELU
    EMBEDDING_LOOKUP EQUAL EXP FLOOR FLOOR_DIV FLOOR_MOD FULLY_CONNECTED GATHER GELU GREATER
    GREATER_EQUAL HARD_SWISH LEAKY_RELU LESS LESS_EQUAL LOG LOGICAL_AND LOGISTIC LSTM MAXIMUM
    MAX_POOL_2D MEAN MINIMUM MIRROR_PAD MUL NEG NOT_EQUAL ONE_HOT PACK PAD PADV2 POW PRELU
    QUANTIZE REDUCE_MAX REDUCE_MIN REDUCE_PROD RELU RELU6 RELU_N1_TO_1 RESHAPE RESIZE_BILINEAR
    RESIZE_NEAREST_NEIGHBOR RSQRT SELECT SELECT_V2 SIGN SIN SLICE SOFTMAX SPACE_TO_DEPTH SPLIT
    SPLIT_V SQRT SQUARE SQUARED_DIFFERENCE STABLEHLO_CLAMP STRIDED_SLICE SUB SUM TANH TILE
    TRANSPOSE TRANSPOSE_CONV""".split()
)


def gpu_fallbacks(model: bytes) -> list[str]:
    """Ops the GPU delegate would leave on the CPU, each with the reason.

    Checks the op list (`GPU_OPS`), tensors of more than 4 dimensions (the
    delegate works in BHWC), MIRROR_PAD other than REFLECT and SOFTMAX with
    beta ≠ 1, the rules of gpu_compatibility.cc that graphs like ours can hit.
    """
    return _gpu_problems(_nodes(model))


def _gpu_problems(nodes) -> list[str]:
    from tensorflow.lite.python import schema_py_generated as schema

    problems = set()
    for name, op, graph in nodes:
        ranks = [
            len(graph.tensors[t].shape if graph.tensors[t].shape is not None else [])
            for t in [*op.inputs, *op.outputs]
            if t >= 0
        ]
        options = op.builtinOptions
        if name not in GPU_OPS:
            problems.add(f"{name}: not supported by the GPU delegate")
        elif max(ranks, default=0) > 4:
            problems.add(f"{name}: {max(ranks)}-D tensors (the GPU delegate takes up to 4-D)")
        elif name == "MIRROR_PAD" and options.mode != schema.MirrorPadMode.REFLECT:
            problems.add("MIRROR_PAD: only REFLECT mode runs on the GPU delegate")
        elif name == "SOFTMAX" and options.beta != 1.0:
            problems.add("SOFTMAX: beta != 1 does not run on the GPU delegate")
    return sorted(problems)


def convert_model(function, trackable, name: str, quantize: str, representative=None) -> dict:
    """Convert and check one model; returns its bytes and report (nothing written)."""
    converter = converter_for(function, trackable, quantize, representative)
    try:
        model = converter.convert()
    except Exception as e:  # the converter's own errors are many kinds, with long messages
        first = next((line for line in str(e).splitlines() if "error" in line.lower()), str(e))
        raise ExportError(f"{name}: TFLite conversion failed ({first.strip()[:300]})") from None
    nodes = _nodes(model)
    ops = [op for op, _, _ in nodes]
    check_builtin_only(ops, name)
    return {
        "model": model,
        "report": {
            "bytes": len(model),
            "ops": dict(sorted(collections.Counter(ops).items())),
            "gpu_delegate_fallbacks": _gpu_problems(nodes),
        },
    }


def export_all(models, output_dir: str, quantizations, names=None, representative_images=None) -> dict:
    """Convert `models` (`export.mobile.MobileModels`) for every quantization; write the
    .tflite files and ops_report.json only after all of them passed the checks."""
    from export.mobile import representative_inputs

    converted = {}
    for quantize in quantizations:
        for name in names or MOBILE_MODELS:
            representative = None
            if quantize == "int8" and representative_images:
                representative = lambda n=name: representative_inputs(  # noqa: E731
                    models, representative_images, n
                )
            filename = f"{name}_{quantize}.tflite"
            logging.info("converting %s", filename)
            converted[filename] = convert_model(
                models.function(name), models, filename, quantize, representative
            )
    os.makedirs(output_dir, exist_ok=True)
    for filename, item in converted.items():
        write_atomic(os.path.join(output_dir, filename), item["model"])
    choice = getattr(models.stylizer, "precision_choice", None)
    report = {
        "size": models.size,
        "style_size": models.style_size,
        # the Keras network traced (float32), then each file's --quantize
        "precision": {
            "keras": choice.record() if choice is not None else "float32",
            "files": {f"{name}_{q}.tflite": q for q in quantizations for name in names or MOBILE_MODELS},
        },
        "models": {k: v["report"] for k, v in converted.items()},
    }
    write_atomic(os.path.join(output_dir, "ops_report.json"), json.dumps(report, indent=1).encode())
    return report


#: The example paintings the web page offers (copied next to the models by --web).
WEB_PAINTINGS = "examples/styles"


def write_web_files(output_dir: str, report: dict, quantize: str) -> dict:
    """What web/ loads from its models folder: manifest.json (model files, sizes, value range),
    MediaPipe's selfie segmenter, face detector and landmarker for portrait mode, and the example
    paintings."""
    import shutil

    from tfstyle import weights as weights_lib

    segmenter = weights_lib.resolve_weights(None, weights_lib.SELFIE_SEGMENTATION)
    assert segmenter is not None
    shutil.copyfile(segmenter, os.path.join(output_dir, "selfie_segmentation.tflite"))
    models = {
        name: {"file": f"{name}_{quantize}.tflite"}
        for name in ("style_encoder", "transfer", "portrait")
        if f"{name}_{quantize}.tflite" in report["models"]
    }
    models["segmenter"] = {"file": "selfie_segmentation.tflite", "input": "input_1", "size": 256}
    for name, source in (
        ("face_detector", weights_lib.FACE_DETECTION),
        ("face_landmarks", weights_lib.FACE_LANDMARKS),
    ):
        path = weights_lib.resolve_weights(None, source)
        assert path is not None
        shutil.copyfile(path, os.path.join(output_dir, os.path.basename(path)))
        models[name] = {"file": os.path.basename(path)}
    paintings = []
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), WEB_PAINTINGS)
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            if name.lower().endswith((".jpg", ".png")):
                shutil.copyfile(os.path.join(root, name), os.path.join(output_dir, name))
                paintings.append(name)
    manifest = {
        "network": "magenta",
        "size": report["size"],
        "style_size": report["style_size"],
        "value_range": [0.0, 1.0],
        "layout": "NHWC float32 RGB",
        "models": models,
        "paintings": paintings,
    }
    write_atomic(os.path.join(output_dir, "manifest.json"), json.dumps(manifest, indent=1).encode())
    return manifest


def load_representative(folder: str, limit: int = 200) -> list:
    from tfstyle.errors import ImageError
    from tfstyle.image import MIN_SIDE, list_images, load_image

    if not os.path.isdir(folder):
        raise ExportError(f"--representative_dir {folder}: no such folder")
    images = []
    for path in list_images(folder)[: limit * 2]:
        try:
            images.append(load_image(path, min_side=MIN_SIDE, max_side=512))
        except ImageError as e:
            logging.warning("skipping %s", e)
        if len(images) == limit:
            break
    if len(images) < 2:
        raise ExportError(
            f"--representative_dir {folder}: needs at least 2 readable images, found {len(images)}"
        )
    return images


def main(argv):
    del argv
    # every option is refused before TensorFlow loads
    quantizations = ["float32" if q == "none" else q for q in FLAGS.quantize]
    unknown = sorted(set(quantizations) - set(QUANTIZATIONS))
    if unknown:
        raise ExportError(f"--quantize {','.join(unknown)}: use none, float16, dynamic or int8")
    unknown = sorted(set(FLAGS.models) - set(MOBILE_MODELS))
    if unknown:
        raise ExportError(f"--models {','.join(unknown)}: use {', '.join(MOBILE_MODELS)}")
    check_mobile_size("size", FLAGS.size)
    check_mobile_size("style_size", FLAGS.style_size or FLAGS.size)
    if "int8" in quantizations and not FLAGS.representative_dir:
        raise ExportError(INT8_NEEDS_DATA)
    if FLAGS.web and FLAGS.model != "magenta":
        raise ExportError("--web: the page runs Magenta's models; add --model=magenta")
    settings = portrait_settings_from_flags()
    representative = load_representative(FLAGS.representative_dir) if FLAGS.representative_dir else None
    from export.mobile import MagentaMobileModels, MobileModels

    # float32 on the device: the converter quantizes (--quantize); SANet's attention unchunked
    stylizer = load_network_from_flags("float32", **({"chunk_size": 0} if FLAGS.model == "sanet" else {}))
    kind = MagentaMobileModels if FLAGS.model == "magenta" else MobileModels
    models = kind(stylizer, FLAGS.size, FLAGS.style_size or FLAGS.size, settings)
    report = export_all(models, FLAGS.output, quantizations, FLAGS.models, representative)
    if FLAGS.web:
        write_web_files(FLAGS.output, report, quantizations[0])
    for filename, item in report["models"].items():
        fallbacks = item["gpu_delegate_fallbacks"]
        print(
            f"{filename}: {item['bytes'] / 2**20:.1f} MiB, {sum(item['ops'].values())} ops, "
            f"GPU delegate: {'all ops' if not fallbacks else 'falls back for ' + '; '.join(fallbacks)}"
        )
    print(f"wrote {FLAGS.output}")


def define_flags() -> None:
    define_model_flags()
    flags.DEFINE_string("output", None, "folder for the .tflite files and ops_report.json")
    flags.DEFINE_integer("size", 384, "content size S (the models take S×S), a multiple of 16")
    flags.DEFINE_integer("style_size", 256, "style size T (T×T), a multiple of 16; 0: same as S")
    flags.DEFINE_list("quantize", ["none"], "none|float16|dynamic|int8, or a comma list")
    flags.DEFINE_string("representative_dir", None, "photos for int8 calibration")
    flags.DEFINE_list("models", ["style_encoder", "transfer", "portrait"], "which models")
    flags.DEFINE_bool(
        "web", False, "also write what web/ needs: manifest.json, the person segmenter, example paintings"
    )
    define_portrait_flags()
    flags.mark_flags_as_required(["output"])


if __name__ == "__main__":
    define_flags()
    run(main, "export.tflite")
