"""examples/papers/: every script runs end to end with --smoke (seeded random weights, tiny sizes,
a temporary folder) and says which paper's figure or table it reproduces and which weights it needs."""

import ast
import os
import pathlib
import re
import subprocess
import sys

import pytest

PAPERS = pathlib.Path(__file__).resolve().parents[1] / "examples" / "papers"
SCRIPTS = sorted(p.name for p in PAPERS.glob("*_20??_*.py"))


def test_every_script_names_its_paper_figure_and_weights():
    assert len(SCRIPTS) == 6, SCRIPTS
    import unicodedata

    for name in SCRIPTS:
        doc = ast.get_docstring(ast.parse((PAPERS / name).read_text()))
        assert doc is not None, name
        author, year = name.split("_")[0], re.search(r"_(20\d\d)_", name).group(1)
        first = unicodedata.normalize("NFKD", doc.splitlines()[0]).encode("ascii", "ignore").decode()
        assert first.startswith(f"{author.capitalize()}") and year in first, (name, first)
        assert any(word in doc for word in ("Fig.", "Figs.", "Table", "figure")), name
        assert "weights" in doc, name  # which real weights it needs (or that it needs none)


@pytest.mark.slow
@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_with_smoke(name):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, name, "--smoke"], capture_output=True, text=True, cwd=PAPERS, env=env, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "smoke run: random weights and tiny sizes" in done.stdout and "is not a result" in done.stdout
