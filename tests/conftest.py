import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pathlib  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

DATA = pathlib.Path(__file__).parent / "data"
PORTRAIT = DATA / "grace_hopper.jpg"
PAINTING = DATA / "hokusai_great_wave.jpg"


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
