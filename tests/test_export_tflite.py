"""TFLite export: every model on LiteRT against the Keras models, builtin ops only, GPU report."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from helpers import DATA, PAINTING, SELFIE_MODEL, psnr, trained_like

from export.common import ExportError
from export.tflite import convert_model, export_all, gpu_fallbacks
from tfstyle.image import load_image, resize
from tfstyle.models.sanet import SANetStylizer
from tfstyle.models.sanet_weights import save_weights_dir
from tfstyle.portraits.compose import PortraitSettings, PortraitStylizer
from tfstyle.portraits.faces import FaceFinder
from tfstyle.tiling import ROW_HALVES

pytest.importorskip("ai_edge_litert", reason="needs pip install 'tfstyle[export]'")
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

ROOT = DATA.parent.parent
SIZE, STYLE_SIZE = 96, 64
SECOND = DATA / "woman_smiling_portrait.jpg"
SETTINGS = PortraitSettings(person_alpha=0.5, person_levels=(1.0, 0.3), feather=0.02)
#: PSNR floors: float32 and float16 from the issue; dynamic-range and int8 are
#: guarded about 5 dB under what they measured here (40 and 35 dB; see EXPORT.md).
FLOORS = {"float32": 45.0, "float16": 35.0, "dynamic": 35.0, "int8": 30.0}


def square(path, side):
    return resize(load_image(path), (side, side))[None]


def feature_psnr(got, expected):
    return psnr(got, expected, peak=float(np.abs(expected).max()))


def run_signature(path, **inputs):
    interpreter = Interpreter(model_path=str(path), num_threads=2)
    runner = interpreter.get_signature_runner()
    return runner(**{k: np.asarray(v, np.float32) for k, v in inputs.items()})


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("tflite")
    stylizer = trained_like(SANetStylizer(dtype="float32", chunk_size=0))
    save_weights_dir(stylizer, str(root / "sanet"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "export.tflite",
            f"--weights={root / 'sanet'}",
            f"--output={root / 'mobile'}",
            f"--size={SIZE}",
            f"--style_size={STYLE_SIZE}",
            "--quantize=none,float16,dynamic,int8",
            f"--representative_dir={DATA}",
            "--person_alpha=0.5",
            "--person_levels=1,0.3",
            "--feather=0.02",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return root / "mobile", stylizer


@pytest.fixture(scope="module")
def reference(exported):
    """Keras outputs for the shared images: features, transfer and portrait (TFLite mask)."""
    from tfstyle.portraits.segment import TFLiteSegmenter

    _, stylizer = exported
    content, style = square(SECOND, SIZE), square(PAINTING, STYLE_SIZE)
    features = stylizer.encode_style(style[0])
    mask = TFLiteSegmenter(str(SELFIE_MODEL)).segment(content[0])
    face_mask = PortraitStylizer(stylizer, face_finder=FaceFinder()).face_mask(content[0], SETTINGS)
    assert face_mask is not None and face_mask.mean() > 0.02  # a real face, found by MediaPipe's models
    portrait = PortraitStylizer(stylizer).stylize(
        content[0],
        encoded=features,
        settings=dataclasses.replace(SETTINGS, face_crop=False),  # the graphs have no face crop
        mask=mask,
        face_mask=face_mask,
    )
    return dict(
        content=content,
        style=style,
        features=features,
        mask=mask,
        face_mask=face_mask,
        transfer=stylizer.stylize(content[0], encoded=features),
        portrait=portrait.image,
    )


@pytest.mark.slow  # exports 12 models with the program (~1.5 min)
@pytest.mark.parametrize("quantize", ["float32", "float16", "dynamic", "int8"])
def test_each_model_matches_keras_on_litert(exported, reference, quantize):
    folder, _ = exported
    r = reference
    encoded = run_signature(folder / f"style_encoder_{quantize}.tflite", style=r["style"])
    scores = {
        tap: feature_psnr(encoded[f"style_{tap}"], getattr(r["features"], tap))
        for tap in ("relu4_1", "relu5_1")
    }
    style = {"style_relu4_1": r["features"].relu4_1, "style_relu5_1": r["features"].relu5_1}
    transfer = run_signature(folder / f"transfer_{quantize}.tflite", content=r["content"], **style)
    scores["transfer"] = psnr(transfer["image"][0], r["transfer"], peak=1.0)
    portrait = run_signature(
        folder / f"portrait_{quantize}.tflite",
        content=r["content"],
        mask=r["mask"][None, :, :, None],
        face_mask=r["face_mask"][None, :, :, None],
        **style,
    )
    scores["portrait"] = psnr(portrait["image"][0], r["portrait"], peak=1.0)
    # the app's chain: TFLite style features into the TFLite transfer model
    chained = run_signature(
        folder / f"transfer_{quantize}.tflite", content=r["content"], **{k: encoded[k] for k in style}
    )
    scores["chain"] = psnr(chained["image"][0], r["transfer"], peak=1.0)
    print(quantize, " ".join(f"{k} {v:.1f} dB" for k, v in scores.items()))
    assert min(scores.values()) >= FLOORS[quantize], scores


@pytest.mark.slow  # exports 12 models with the program (~1.5 min)
def test_psnr_bar_can_fail(reference):
    """Other settings of the same model are far below the bars: the check can fail."""
    r = reference
    assert psnr(r["transfer"], r["portrait"], peak=1.0) < 35


@pytest.mark.slow  # exports 12 models with the program (~1.5 min)
def test_models_have_the_documented_interface_and_all_ops_run_on_the_gpu_delegate(exported):
    folder, _ = exported
    report = json.loads((folder / "ops_report.json").read_text())
    assert len(report["models"]) == 12
    # the record says what each file was built at: the float32 network, then its quantization
    assert report["precision"]["keras"]["plan"] == "float32: float32"
    assert set(report["precision"]["files"]) == set(report["models"])
    assert {q for f, q in report["precision"]["files"].items() if f.startswith("transfer_")} == set(FLOORS)
    for name, item in report["models"].items():
        assert item["gpu_delegate_fallbacks"] == [], name
        assert "BATCH_MATMUL" in item["ops"] or name.startswith("style_encoder")
    signature = Interpreter(model_path=str(folder / "portrait_float32.tflite")).get_signature_list()
    assert signature == {
        "serving_default": {
            "inputs": ["content", "face_mask", "mask", "style_relu4_1", "style_relu5_1"],
            "outputs": ["image"],
        }
    }
    sizes = {q: (folder / f"transfer_{q}.tflite").stat().st_size for q in FLOORS}
    assert sizes["float16"] < 0.6 * sizes["float32"] and sizes["dynamic"] < 0.35 * sizes["float32"]


class _FlexModels(tf.Module):
    """A stand-in for `MobileModels` whose model needs a Flex op."""

    size, style_size = 8, 8

    @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32, name="image")])
    def transfer(self, image):
        return {"image": image * tf.linalg.det(image[0, :3, :3, 0])}

    def function(self, name):
        return self.transfer.get_concrete_function()


def test_a_flex_op_fails_the_export_and_nothing_is_written(tmp_path):
    with pytest.raises(ExportError, match="FlexMatrixDeterminant.*nothing was written"):
        export_all(_FlexModels(), str(tmp_path / "out"), ["float32"], ["transfer"])
    assert not (tmp_path / "out").exists()


def test_gpu_report_flags_what_the_delegate_refuses():
    class Model(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32)])
        def call(self, x):
            padded = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="SYMMETRIC")
            return {
                "five_d": tf.reshape(x, [1, 2, 4, 8, 3]) * 2.0,
                "padded": padded,
                "top": tf.math.top_k(tf.reshape(x, [1, -1]), 3).values,
                "soft": tf.nn.softmax(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], "REFLECT")),
            }

    model = Model()
    converted = convert_model(model.call.get_concrete_function(), model, "m", "float32")
    flagged = " | ".join(gpu_fallbacks(converted["model"]))
    assert "TOPK_V2: not supported" in flagged and "5-D tensors" in flagged
    assert "MIRROR_PAD: only REFLECT" in flagged and "SOFTMAX" not in flagged
    assert converted["report"]["gpu_delegate_fallbacks"] == gpu_fallbacks(converted["model"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--quantize=int8"], "needs --representative_dir"),
        (["--size=100"], "--size must be a multiple of 16"),
        (["--quantize=int4"], "--quantize int4: use none, float16, dynamic or int8"),
    ],
)
def test_program_bad_options_one_line_exit_2(tmp_path, args, message):
    result = subprocess.run(
        [sys.executable, "-m", "export.tflite", "--weights=random", f"--output={tmp_path / 'o'}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("export.tflite: error:")]
    assert result.returncode == 2 and len(errors) == 1 and message in errors[0], result.stderr[-800:]
    assert not (tmp_path / "o").exists()


def test_mobile_functions_in_process_equal_keras():
    """The transfer and portrait functions the TFLite models are converted from, run as
    TF graphs here (no conversion), against the Keras API at the same fixed size."""
    from export.mobile import MobileModels

    stylizer = trained_like(SANetStylizer(dtype="float32", chunk_size=0))
    models = MobileModels(stylizer, 64, 64, PortraitSettings(feather=0.0))
    content, style = square(PAINTING, 64), square(DATA / "woman_smiling_portrait.jpg", 64)
    features = models.style_encoder(tf.constant(style))
    image = models.transfer(tf.constant(content), **features)["image"].numpy()[0]
    np.testing.assert_allclose(image, stylizer.stylize(content[0], style[0]), atol=1e-4)
    mask = np.zeros((1, 64, 64, 1), np.float32)
    mask[:, :, 32:] = 1.0
    none = tf.zeros_like(mask)
    portrait = models.portrait(tf.constant(content), **features, mask=tf.constant(mask), face_mask=none)
    expected = PortraitStylizer(stylizer).stylize(
        content[0], style[0], mask=mask[0, :, :, 0], settings=PortraitSettings(feather=0.0)
    )
    np.testing.assert_allclose(portrait["image"].numpy()[0], expected.image, atol=1e-4)
    face = np.zeros_like(mask)
    face[:, 8:30, 36:56] = 1.0  # inside the person
    portrait = models.portrait(tf.constant(content), **features, mask=tf.constant(mask), face_mask=face)
    expected = PortraitStylizer(stylizer).stylize(
        content[0],
        style[0],
        mask=mask[0, :, :, 0],
        face_mask=face[0, :, :, 0],
        settings=PortraitSettings(feather=0.0, face_crop=False),  # the graphs have no face crop
    )
    np.testing.assert_allclose(portrait["image"].numpy()[0], expected.image, atol=1e-4)

    # the Keras side above ran its CPU forms (tfstyle.kernels): float32 512-channel convs on row
    # halves stacked as a batch (in tiling.ROW_HALVES scopes) and reflection pads as gathers; the
    # graphs TFLite converts keep every conv whole and every pad one MirrorPad
    def cpu_forms(graph):
        ops = graph.get_operations()
        return {
            "row-batched convs": [o.name for o in ops if o.type == "Conv2D" and ROW_HALVES in o.name],
            "mirror pads": [o.name for o in ops if o.type == "MirrorPad"],
        }

    for name in ("style_encoder", "transfer", "portrait"):
        forms = cpu_forms(models.function(name).graph)
        assert not forms["row-batched convs"] and forms["mirror pads"], name
    forms = cpu_forms(stylizer._graphs["encode"].get_concrete_function().graph)
    assert forms["row-batched convs"] and not forms["mirror pads"]
