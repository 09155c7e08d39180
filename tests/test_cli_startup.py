"""The command answers without TensorFlow: help, version, weights list, usage errors."""

import json
import subprocess
import sys
import time

import pytest

PROBE = """
import json, sys, time
started = time.perf_counter()
from tfstyle.cli import build_parser, main
build_parser()
after_parser = sorted(m for m in ("tensorflow", "keras", "torch") if m in sys.modules)
code = main(sys.argv[1:]) if len(sys.argv) > 1 else 0
print(json.dumps({"parser": after_parser, "code": code,
                  "tf": "tensorflow" in sys.modules, "seconds": time.perf_counter() - started}))
"""


def probe(*argv):
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120)
    return json.loads(result.stdout.strip().splitlines()[-1]), result


def test_building_the_parser_imports_no_tensorflow():
    report, _ = probe()
    assert report["parser"] == []
    assert report["seconds"] < 1.0


def test_weights_list_imports_no_tensorflow_nor_models():
    report, result = probe("weights", "list")
    assert report["code"] == 0 and not report["tf"]
    assert "vgg16-imagenet:" in result.stdout
    assert report["seconds"] < 1.0


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["stylize", "--alpha", "nan"], ["optimize", "--content", "a"], ["bogus"]],
)
def test_help_version_and_usage_errors_exit_without_tensorflow(argv):
    started = time.perf_counter()
    code = (
        "import sys\nfrom tfstyle.cli import main\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit as e:\n    print('TF' if 'tensorflow' in sys.modules else 'noTF', e.code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] in ("noTF 0", "noTF 2")
    assert time.perf_counter() - started < 5  # the interpreter's own start included


def test_registry_module_imports_no_model_code():
    code = (
        "import sys, tfstyle.weights as w; print(len(w.REGISTRY), "
        "sorted(m for m in sys.modules if m.startswith(('tfstyle.models', 'tensorflow', 'keras'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    count, modules = result.stdout.split(" ", 1)
    assert int(count) >= 6 and modules.strip() == "[]"


def test_import_tfstyle_and_its_api_names_load_no_tensorflow():
    """TensorFlow comes with the first call of an API function, not with ``import tfstyle``."""
    code = (
        "import sys, tfstyle\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules)\n"
        "print(heavy, sorted(dir(tfstyle)))\n"
        "tfstyle.load_network\n"
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    first, loaded = result.stdout.strip().splitlines()[-2:]
    assert first.startswith("[] [") and "'stylize'" in first, result.stderr[-500:]
    assert loaded == "False"  # tfstyle.api imports TensorFlow inside its functions
