"""Magenta's transfer model in the browser (LiteRT.js wasm, 1 and 2 threads) against the Python LiteRT
interpreter and Keras, in one run, at 384² (style vector given).

The page (web/) runs in headless Chromium in its ``?bench=N`` mode, served with the COOP/COEP
headers that let LiteRT.js use wasm threads; it posts the median of N runs after a warm-up. The
interpreter and Keras run in this process: the same float32 model file, and the Keras model it
was converted from. Real Magenta weights.

    python -m export.tflite --model=magenta --size=384 --style_size=256 --output=web/models --web
    (cd web && npm ci --ignore-scripts)
    python benchmarks/web.py
"""

import functools
import http.server
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import threading

import numpy as np
from absl import app, flags
from timing import median_seconds  # benchmarks/timing.py

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLAGS = flags.FLAGS
flags.DEFINE_string("models", str(ROOT / "web" / "models"), "the exporter's --web folder (size 384)")
flags.DEFINE_integer("runs", 20, "timed runs per configuration")
CHROMIUM = "/usr/lib/chromium/chromium"


class Isolated(http.server.SimpleHTTPRequestHandler):
    """web/ with COOP/COEP (wasm threads), /models/ from the export, POST /result to the caller."""

    def __init__(self, *args, models=None, results=None, **kwargs):
        self.models, self.results = models, results
        super().__init__(*args, directory=str(ROOT / "web"), **kwargs)

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def translate_path(self, path):
        if path.startswith("/models/"):
            return str(pathlib.Path(self.models) / path[len("/models/") :].split("?")[0])
        return super().translate_path(path)

    def do_POST(self):  # noqa: N802
        self.results.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def browser(threads: int) -> dict:
    results: list = []
    handler = functools.partial(Isolated, models=FLAGS.models, results=results)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = (
        f"http://127.0.0.1:{server.server_address[1]}/index.html?models=/models/"
        f"&bench={FLAGS.runs}&threads={threads}"
    )
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(3000):
                if results:
                    break
                threading.Event().wait(0.1)
        finally:
            proc.kill()
            proc.wait()
    server.shutdown()
    return results[0] if results else {"error": "no result"}


def main(argv):
    del argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(ROOT))
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from tfstyle.models.registry import load_network

    manifest = json.loads((pathlib.Path(FLAGS.models) / "manifest.json").read_text())
    size = manifest["size"]
    content = np.full((1, size, size, 3), 0.5, np.float32)
    vector = np.full((1, 100), 0.1, np.float32)
    rows = []
    for threads in (1, 2):
        got = browser(threads)
        if "error" in got or not got.get("isolated"):
            rows.append((f"browser, LiteRT.js wasm, {threads} thread(s)", None, got))
        else:
            rows.append(
                (f"browser, LiteRT.js wasm, {got['threads']} thread(s)", got["median_ms"] / 1000, got)
            )
    path = str(pathlib.Path(FLAGS.models) / "transfer_float32.tflite")
    for threads in (1, 2):
        runner = Interpreter(model_path=path, num_threads=threads).get_signature_runner()
        seconds = median_seconds(lambda r=runner: r(content=content, style_vector=vector), FLAGS.runs)
        rows.append((f"Python LiteRT interpreter, {threads} thread(s)", seconds, {}))
    network = load_network("magenta")
    vectors, mix = tf.constant(vector[:, None, :]), tf.ones([1, 1, 1, 1])
    seconds = median_seconds(lambda: network.transform(content, vectors, mix), FLAGS.runs)
    rows.append((f"Keras (TF {tf.__version__}), float32, 2 threads", seconds, {}))
    keras_seconds = seconds
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; Magenta transfer, float32, {size}²; "
        f"median of {FLAGS.runs} runs after a warm-up\n"
    )
    print("| runtime | ms | vs Keras |")
    print("|---|---|---|")
    for name, seconds, extra in rows:
        if seconds is None:
            print(f"| {name} | failed: {extra} | |")
        else:
            print(f"| {name} | {1000 * seconds:.1f} | {seconds / keras_seconds:.2f}× |")


if __name__ == "__main__":
    app.run(main)
