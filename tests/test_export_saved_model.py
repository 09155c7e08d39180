"""SavedModel export: every signature, called in a fresh process with TF Serving REST bodies,
equals the Keras SANetStylizer; bad requests fail with a clear InvalidArgument."""

import base64
import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from helpers import DATA, PAINTING, PORTRAIT, psnr, trained_like
from PIL import Image

from tfstyle.image import fit, load_image, to_uint8
from tfstyle.models.sanet import SANetStylizer
from tfstyle.models.sanet_weights import save_weights_dir
from tfstyle.portraits.compose import PortraitSettings, PortraitStylizer
from tfstyle.portraits.segment import SegNetSegmenter
from tfstyle.style_features import StyleFeatures

ROOT = DATA.parent.parent
MAX_SIZE = 96
SECOND = DATA / "woman_smiling_portrait.jpg"


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode("ascii")}


def png_bytes(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def decode_png(reply) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(reply["b64"]))))


def run(args, **kwargs):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, **kwargs
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Random-but-trained-like weights written to disk, exported by the program."""
    from tfstyle.models.segnet import build_segnet

    root = tmp_path_factory.mktemp("saved_model")
    stylizer = trained_like(SANetStylizer(dtype="float32"))
    save_weights_dir(stylizer, str(root / "sanet"))
    segnet = build_segnet(2, weights=None)
    segnet.save_weights(str(root / "segnet.weights.h5"))
    result = run(
        [
            "-m",
            "export.saved_model",
            f"--weights={root / 'sanet'}",
            f"--segnet_weights={root / 'segnet.weights.h5'}",
            f"--output_dir={root / 'models'}",
            f"--max_size={MAX_SIZE}",
            "--feather=0.02",
        ]
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (root / "models" / "1" / "saved_model.pb").is_file()
    return root, stylizer, segnet


@pytest.fixture(scope="module")
def inputs():
    content_file, style_file, second_file = (p.read_bytes() for p in (PORTRAIT, PAINTING, SECOND))
    small = lambda path, side: to_uint8(fit(load_image(path), side, upscale=False))  # noqa: E731
    return dict(
        content_file=content_file,
        style_file=style_file,
        second_file=second_file,
        content_u8=small(PORTRAIT, 80),
        style_u8=small(PAINTING, 64),
        face_mask_u8=face_mask_of(fit(load_image(SECOND), MAX_SIZE, upscale=False)),
    )


def face_mask_of(content) -> np.ndarray:
    """The face oval MediaPipe's models find on `content`, as an 8-bit mask [H, W, 3] (as an app
    would send it)."""
    from tfstyle.portraits.faces import FaceFinder, feature_masks

    oval = feature_masks(FaceFinder().find(content), content.shape)["oval"]
    assert oval.mean() > 0.02
    return np.repeat(to_uint8(oval[..., None]), 3, axis=-1)


def requests(inputs) -> dict:
    """One TF Serving REST :predict body per signature, as a client would send it."""
    i = inputs
    return {
        "serving_default": {
            "instances": [{"content_bytes": b64(i["content_file"]), "style_bytes": b64(i["style_file"])}]
        },
        "stylize_bytes": {
            "signature_name": "stylize_bytes",
            "instances": [
                {
                    "content_bytes": b64(i["content_file"]),
                    "style_bytes": b64(i["style_file"]),
                    "alpha": 0.5,
                    "max_size": 64,
                },
                {
                    "content_bytes": b64(i["second_file"]),
                    "style_bytes": b64(png_bytes(i["style_u8"])),
                    "alpha": 1.0,
                    "max_size": 72,
                },
            ],
        },
        "stylize": {
            "signature_name": "stylize",
            "instances": [
                {"content": i["content_u8"].tolist(), "style": i["style_u8"].tolist(), "alpha": 0.7}
            ],
        },
        "encode_style": {"signature_name": "encode_style", "instances": [{"style": i["style_u8"].tolist()}]},
        "portrait": {
            "signature_name": "portrait",
            "instances": [{"content_bytes": b64(i["second_file"]), "style_bytes": b64(i["style_file"])}],
        },
        "portrait_faces": {
            "signature_name": "portrait_faces",
            "instances": [
                {
                    "content_bytes": b64(i["second_file"]),
                    "style_bytes": b64(i["style_file"]),
                    "face_mask_bytes": b64(png_bytes(i["face_mask_u8"])),
                }
            ],
        },
        # bad requests: (body, expected error text)
        "bad_bytes": (
            {"instances": [{"content_bytes": b64(b"GIF? no, text"), "style_bytes": b64(i["style_file"])}]},
            "content_bytes: not a JPEG, PNG, WebP, GIF or BMP file",
        ),
        "bad_truncated": (
            {
                "instances": [
                    {"content_bytes": b64(i["content_file"][:300]), "style_bytes": b64(i["style_file"])}
                ]
            },
            "",
        ),
        "bad_max_size": (
            {
                "signature_name": "stylize_bytes",
                "instances": [
                    {
                        "content_bytes": b64(i["content_file"]),
                        "style_bytes": b64(i["style_file"]),
                        "alpha": 1.0,
                        "max_size": 100000,
                    }
                ],
            },
            "max_size must be between 32 and 2048",
        ),
        "bad_alpha": (
            {
                "signature_name": "stylize_bytes",
                "instances": [
                    {
                        "content_bytes": b64(i["content_file"]),
                        "style_bytes": b64(i["style_file"]),
                        "alpha": 2.0,
                        "max_size": 64,
                    }
                ],
            },
            "alpha must be in [0, 1]",
        ),
        "bad_tiny": (
            {
                "instances": [
                    {
                        "content_bytes": b64(png_bytes(np.zeros((16, 40, 3)))),
                        "style_bytes": b64(i["style_file"]),
                    }
                ]
            },
            "smaller than 32 px on its shorter side",
        ),
        "bad_missing": (
            {
                "signature_name": "stylize_bytes",
                "instances": [{"content_bytes": b64(i["content_file"]), "style_bytes": b64(i["style_file"])}],
            },
            "input size does not match signature",
        ),
        "bad_batch": (
            {
                "signature_name": "stylize_bytes",
                "inputs": {  # columnar format
                    "content_bytes": [b64(i["content_file"]), b64(i["second_file"])],
                    "style_bytes": [b64(i["style_file"])],
                    "alpha": [1.0, 1.0],
                    "max_size": [64, 64],
                },
            },
            "every input needs the same batch size",
        ),
        "bad_features": (
            {
                "signature_name": "stylize_with_style",
                "instances": [
                    {
                        "content": i["content_u8"].tolist(),
                        "alpha": 1.0,
                        "relu4_1": np.zeros((4, 4, 512)).tolist(),
                        "relu5_1": np.zeros((4, 4, 512)).tolist(),
                    }
                ],
            },
            "relu5_1 must have the batch of relu4_1 and half its height and width",
        ),
        "bad_large_tensor": (
            {
                "signature_name": "encode_style",
                "inputs": {"style": np.zeros((1, 32, 2100, 3), np.uint8).tolist()},
            },
            "larger than 2048 px on its longer side",
        ),
    }


FRESH_PROCESS = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    from export.rest import RequestError, error_line, predict
    model = tf.saved_model.load(sys.argv[1])
    requests = json.load(open(sys.argv[2]))
    replies = {}
    for name, body in requests.items():
        expect_error = isinstance(body, list)
        body = body[0] if expect_error else body
        signature = model.signatures[body.get("signature_name", "serving_default")]
        try:
            replies[name] = predict(signature, body)
        except (RequestError, tf.errors.InvalidArgumentError) as e:
            replies[name] = {"error": error_line(getattr(e, "message", str(e)))}
    if "stylize_with_style" in sys.argv[3:]:
        features = replies["encode_style"]["predictions"][0]
        body = {"signature_name": "stylize_with_style", "instances": [
            {"content": requests["stylize"]["instances"][0]["content"], "alpha": 1.0, **features}]}
        replies["stylize_with_style"] = predict(model.signatures["stylize_with_style"], body)
    json.dump(replies, open(sys.argv[2] + ".out", "w"))
""")


@pytest.fixture(scope="module")
def replies(exported, inputs):
    root, _, _ = exported
    bodies = requests(inputs)
    path = root / "requests.json"
    path.write_text(json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in bodies.items()}))
    result = run(["-c", FRESH_PROCESS, str(root / "models" / "1"), str(path), "stylize_with_style"])
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((root / "requests.json.out").read_text()), bodies


def reference(stylizer, content, style, **kwargs):
    return to_uint8(stylizer.stylize(content, style, **kwargs))


@pytest.mark.slow  # exports the SavedModel with the program
def test_serving_default_equals_keras(exported, replies):
    _, stylizer, _ = exported
    reply, _ = replies
    got = decode_png(reply["serving_default"]["predictions"][0])
    content = fit(load_image(PORTRAIT), MAX_SIZE, upscale=False)
    style = fit(load_image(PAINTING), MAX_SIZE, upscale=False)
    expected = reference(stylizer, content, style)
    assert got.shape == expected.shape
    print(f"serving_default PSNR {psnr(got, expected):.1f} dB")
    assert psnr(got, expected) >= 45
    # the check can fail: a different alpha is far below the bar
    assert psnr(expected, reference(stylizer, content, style, strength=0.5)) < 40


@pytest.mark.slow  # exports the SavedModel with the program
def test_stylize_bytes_mixed_sizes_alpha_and_max_size(exported, replies, inputs):
    _, stylizer, _ = exported
    reply, _ = replies
    first, second = (decode_png(p) for p in reply["stylize_bytes"]["predictions"])
    content = fit(load_image(PORTRAIT), 64, upscale=False)
    expected = reference(stylizer, content, fit(load_image(PAINTING), 64, upscale=False), strength=0.5)
    assert first.shape == expected.shape and max(first.shape[:2]) == 64
    print(f"stylize_bytes PSNR {psnr(first, expected):.1f} dB")
    assert psnr(first, expected) >= 45
    content = fit(load_image(SECOND), 72, upscale=False)
    expected = reference(stylizer, content, inputs["style_u8"] / 255.0)
    assert second.shape == expected.shape and max(second.shape[:2]) == 72
    assert psnr(second, expected) >= 45


@pytest.mark.slow  # exports the SavedModel with the program
def test_stylize_uint8_tensors(exported, replies, inputs):
    _, stylizer, _ = exported
    reply, _ = replies
    got = np.asarray(reply["stylize"]["predictions"][0], np.uint8)
    expected = reference(stylizer, inputs["content_u8"] / 255.0, inputs["style_u8"] / 255.0, strength=0.7)
    assert got.shape == inputs["content_u8"].shape
    assert psnr(got, expected) >= 45


@pytest.mark.slow  # exports the SavedModel with the program
def test_cached_style_split(exported, replies, inputs):
    _, stylizer, _ = exported
    reply, _ = replies
    features = reply["encode_style"]["predictions"][0]
    expected = stylizer.encode_style(inputs["style_u8"] / 255.0)
    for tap in ("relu4_1", "relu5_1"):
        got, want = np.asarray(features[tap]), np.asarray(getattr(expected, tap))[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-4 * np.abs(want).max())
    got = np.asarray(reply["stylize_with_style"]["predictions"][0], np.uint8)
    cached = StyleFeatures(*(np.asarray(features[t], np.float32)[None] for t in ("relu4_1", "relu5_1")))
    expected = to_uint8(stylizer.stylize(inputs["content_u8"] / 255.0, encoded=cached))
    assert psnr(got, expected) >= 45


@pytest.mark.slow  # exports the SavedModel with the program
def test_portrait_segments_inside_the_graph(exported, replies):
    _, stylizer, segnet = exported
    reply, _ = replies
    prediction = reply["portrait"]["predictions"][0]
    image, mask = decode_png(prediction["image_bytes"]), decode_png(prediction["mask_bytes"])
    segmenter = SegNetSegmenter(None)
    segmenter.model = segnet
    content = fit(load_image(SECOND), MAX_SIZE, upscale=False)
    style = fit(load_image(PAINTING), MAX_SIZE, upscale=False)
    expected = PortraitStylizer(stylizer, segmenter).stylize(
        content, style, settings=PortraitSettings(feather=0.02)
    )
    assert image.shape == content.shape and mask.shape == content.shape[:2]
    print(
        f"portrait PSNR image {psnr(image, to_uint8(expected.image)):.1f} dB, "
        f"mask {psnr(mask, to_uint8(expected.mask)):.1f} dB"
    )
    assert psnr(mask, to_uint8(expected.mask)) >= 45
    assert psnr(image, to_uint8(expected.image)) >= 45


@pytest.mark.slow  # exports the SavedModel with the program
def test_portrait_faces_takes_the_clients_face_mask(exported, replies, inputs):
    _, stylizer, segnet = exported
    reply, _ = replies
    prediction = reply["portrait_faces"]["predictions"][0]
    image = decode_png(prediction["image_bytes"])
    segmenter = SegNetSegmenter(None)
    segmenter.model = segnet
    content = fit(load_image(SECOND), MAX_SIZE, upscale=False)
    style = fit(load_image(PAINTING), MAX_SIZE, upscale=False)
    settings = PortraitSettings(feather=0.02, face_crop=False)  # the graph has no face crop
    face = inputs["face_mask_u8"][..., 0] / 255.0
    expected = PortraitStylizer(stylizer, segmenter).stylize(
        content, style, settings=settings, face_mask=face
    )
    without = PortraitStylizer(stylizer, segmenter).stylize(content, style, settings=settings)
    print(f"portrait_faces PSNR {psnr(image, to_uint8(expected.image)):.1f} dB")
    assert psnr(image, to_uint8(expected.image)) >= 45
    assert psnr(image, to_uint8(without.image)) < 45  # the face region changed the picture


@pytest.mark.slow  # exports the SavedModel with the program
def test_bad_requests_fail_with_clear_invalid_argument(replies):
    reply, bodies = replies
    for name, (_, expected) in ((k, v) for k, v in bodies.items() if k.startswith("bad_")):
        assert "error" in reply[name], name
        print(f"{name}: {reply[name]['error']}")
        assert expected in reply[name]["error"], (name, reply[name]["error"])
        assert "Graph execution error" not in reply[name]["error"]


@pytest.mark.slow  # exports the SavedModel with the program
def test_rest_program_exits_1_with_the_error(exported, tmp_path, inputs):
    root, _, _ = exported
    body, expected = requests(inputs)["bad_max_size"]
    request, out = tmp_path / "bad.json", tmp_path / "reply.json"
    request.write_text(json.dumps(body))
    result = run(
        [
            "-m",
            "export.rest",
            f"--model_dir={root / 'models' / '1'}",
            f"--request={request}",
            f"--output={out}",
        ]
    )
    assert result.returncode == 1
    assert expected in json.loads(out.read_text())["error"]


@pytest.mark.slow  # exports the SavedModel with the program
def test_program_refuses_an_existing_version_and_writes_nothing(exported, tmp_path):
    root, _, _ = exported
    result = run(
        ["-m", "export.saved_model", "--weights=random", f"--output_dir={root / 'models'}", "--version=1"]
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "export.saved_model: error:" in line]
    assert len(errors) == 1 and "exists; pick another --version" in errors[0]
    assert sorted(p.name for p in (root / "models").iterdir()) == ["1"]
    result = run(
        ["-m", "export.saved_model", f"--weights={tmp_path / 'none'}", f"--output_dir={tmp_path / 'models'}"]
    )
    assert result.returncode == 2 and "--weights" in result.stderr
    assert "none: does not exist; pass the folder of SANet" in result.stderr
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


@pytest.mark.slow  # exports the SavedModel with the program
def test_the_export_records_the_precision_plan_tfstyle_stylize_runs(exported):
    """assets.extra/tfstyle.json names the plan the graphs were traced at: the plan
    ``tfstyle stylize --weights`` loads for the same weights here (auto, measured or fixed)."""
    from tfstyle.models.registry import load_network

    root, _, _ = exported
    record = json.loads((root / "models" / "1" / "assets.extra" / "tfstyle.json").read_text())
    command = load_network("sanet", str(root / "sanet"), "auto").precision_choice
    assert record["network"] == "sanet" and record["precision"]["precision"] == "auto"
    assert record["precision"]["plan"] == command.plan.describe()
    assert "portrait" in record["signatures"]


def test_serving_graph_in_process_equals_keras(inputs):
    """The `stylize` signature's function, traced in this process (no export), against
    `SANetStylizer.stylize` on the same uint8 tensors, α 1 and 0.5."""
    from export.serving import StylizeServing

    stylizer = trained_like(SANetStylizer(dtype="float32"))
    module = StylizeServing(stylizer)
    content, style = inputs["content_u8"], inputs["style_u8"]
    for alpha in (1.0, 0.5):
        got = module.stylize(tf.constant(content[None]), tf.constant(style[None]), tf.constant([alpha]))[
            "image"
        ].numpy()[0]
        expected = to_uint8(stylizer.stylize(content / 255.0, style / 255.0, strength=alpha))
        assert psnr(got, expected) >= 45
