"""The README's picture of the web page: a real stylization (Magenta's real weights) in headless Chromium.

python -m export.tflite --model=magenta --size=384 --style_size=256 --output=web/models --web
(cd web && npm ci --ignore-scripts)
python examples/web_screenshot.py            # → examples/gallery/web_page.jpg
"""

import functools
import http.server
import pathlib
import subprocess
import sys
import tempfile
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from tfstyle.image import load_image, resize, to_uint8  # noqa: E402


def main() -> None:
    models = ROOT / "web" / "models"
    size = 384
    Image.fromarray(
        to_uint8(resize(load_image(ROOT / "tests/data/woman_smiling_portrait.jpg"), (size, size)))
    ).save(models / "content.png")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(ROOT / "web"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = (
        f"http://127.0.0.1:{server.server_address[1]}/index.html?test=1"
        "&content=models/content.png&style=models/munch_the_scream.jpg"
    )
    with tempfile.TemporaryDirectory() as profile:
        shot = pathlib.Path(profile) / "page.png"
        subprocess.run(
            [
                "/usr/lib/chromium/chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=900,700",
                "--virtual-time-budget=60000",  # until the models ran and the canvas is drawn
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        Image.open(shot).convert("RGB").save(ROOT / "examples/gallery/web_page.jpg", quality=85)
    server.shutdown()
    print("wrote examples/gallery/web_page.jpg")


if __name__ == "__main__":
    main()
