"""Weight resolution: explicit path, cache with hash check, download, offline errors."""

import dataclasses
import hashlib

import pytest

from tfstyle import weights
from tfstyle.errors import WeightsError


@pytest.fixture
def published(tmp_path):
    """A 'published' file served from a file:// URL, and its spec."""
    source = tmp_path / "server" / "model.h5"
    source.parent.mkdir()
    source.write_bytes(b"weights" * 1000)
    spec = weights.WeightSpec(
        name="test-model",
        url=source.as_uri(),
        file_hash=hashlib.sha256(source.read_bytes()).hexdigest(),
        filename="model.h5",
        format="keras-weights-h5",
        option="--test-weights",
        description="test model",
        used_by="tests",
    )
    return spec, source


def test_explicit_path_wins(published, tmp_path):
    spec, source = published
    assert weights.resolve_weights(str(source), spec) == str(source)


def test_missing_explicit_path_names_option(published, tmp_path):
    spec, _ = published
    with pytest.raises(WeightsError, match=r"--test-weights .*nope.h5: no such file"):
        weights.resolve_weights(str(tmp_path / "nope.h5"), spec)
    with pytest.raises(WeightsError, match=r"--other .*: is a folder"):
        weights.resolve_weights(str(tmp_path), spec, option="--other")


def test_download_then_cache_hit(published, tmp_path):
    spec, source = published
    root = tmp_path / "cache"
    path = weights.download(spec, root=str(root))
    assert path == weights.cached_path(spec, str(root))
    assert open(path, "rb").read() == source.read_bytes()
    source.unlink()  # a second call must not need the server
    assert weights.download(spec, root=str(root)) == path


def test_hash_mismatch_is_refused(published, tmp_path):
    spec, _ = published
    bad = dataclasses.replace(spec, file_hash="0" * 64)
    with pytest.raises(WeightsError, match="does not match its hash"):
        weights.download(bad, root=str(tmp_path / "cache"))


def test_unreachable_url_gives_one_line_with_url_cache_and_option(published, tmp_path):
    spec, _ = published
    gone = dataclasses.replace(spec, url="http://127.0.0.1:9/model.h5")
    with pytest.raises(WeightsError) as e:
        weights.download(gone, root=str(tmp_path / "cache"))
    message = str(e.value)
    assert "\n" not in message
    assert "http://127.0.0.1:9/model.h5" in message
    assert weights.cached_path(gone, str(tmp_path / "cache")) in message
    assert "--test-weights PATH" in message


def test_offline_mode_never_downloads(published, offline, monkeypatch):
    spec, _ = published
    with pytest.raises(WeightsError, match="TFSTYLE_OFFLINE"):
        weights.resolve_weights(None, spec)


def test_offline_mode_uses_the_cache(published, offline, monkeypatch):
    spec, source = published
    target = weights.cached_path(spec)
    import os

    os.makedirs(os.path.dirname(target))
    with open(target, "wb") as f:
        f.write(source.read_bytes())
    assert weights.resolve_weights(None, spec) == target


def test_registry_entry_for_vgg19():
    spec = weights.get_spec("vgg19-imagenet")
    assert spec.url.endswith("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
    assert spec.filename == "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert spec.cache_subdir == "models"  # shared with keras.applications' own cache
    with pytest.raises(WeightsError, match="unknown weights"):
        weights.get_spec("vgg42")


def test_random_means_untrained_and_says_so(published, caplog):
    spec, _ = published
    import logging

    with caplog.at_level(logging.WARNING):
        assert weights.resolve_weights("random", spec) is None
    assert "untrained" in caplog.text and "--test-weights random" in caplog.text


def test_local_folder_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    with pytest.raises(
        WeightsError, match="no .*SANet.* at .*tfstyle-sanet; make them with 'tfstyle weights import-sanet"
    ):
        weights.resolve_weights(None, weights.SANET)
    (tmp_path / "file").write_text("x")
    with pytest.raises(WeightsError, match="--weights .*file: is a file; pass the folder"):
        weights.resolve_weights(str(tmp_path / "file"), weights.SANET)
    default = tmp_path / "home" / "models" / "tfstyle-sanet"
    default.mkdir(parents=True)
    assert weights.resolve_weights(None, weights.SANET) == str(default)
    with pytest.raises(WeightsError, match="pass --depth-weights PATH: .*training.depth"):
        weights.resolve_weights(None, weights.HOURGLASS)
