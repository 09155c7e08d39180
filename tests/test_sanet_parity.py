"""SANet against a PyTorch reference written from the public port (needs PyTorch)."""

import numpy as np
import pytest

from tfstyle.errors import WeightsError
from tfstyle.models.sanet_weights import load_sanet

torch = pytest.importorskip("torch", reason="parity tests need PyTorch: pip install 'tfstyle[torch]'")
from reference.torch_sanet import save_published_files, seeded_reference, to_numpy, to_torch  # noqa: E402

from tfstyle.importers.sanet_torch import import_sanet  # noqa: E402


@pytest.fixture(scope="module")
def reference():
    return seeded_reference(0)


@pytest.fixture(scope="module")
def converted(reference, tmp_path_factory):
    directory = tmp_path_factory.mktemp("sanet")
    paths = save_published_files(reference, directory)
    import_sanet(paths["vgg"], paths["decoder"], paths["transformer"], str(directory / "tfstyle"))
    return directory / "tfstyle"


@pytest.fixture(scope="module")
def stylizer(converted):
    return load_sanet(str(converted), dtype="float32")


def images(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.uniform(size=(1, *shape, 3)).astype(np.float32) for shape in shapes]


@pytest.mark.parametrize("content_hw,style_hw", [((64, 64), (48, 64)), ((96, 80), (64, 48))])
def test_parity_with_reference(reference, stylizer, content_hw, style_hw):
    content, style = images(1, content_hw, style_hw)
    with torch.no_grad():
        expected = to_numpy(reference(to_torch(content), to_torch(style)))
    assert 0.0 < expected.min() and expected.max() < 1.0  # in [0,1] units, like a trained decoder
    raw = stylizer([content, style]).numpy()
    assert np.abs(raw - expected).max() <= 1e-4
    np.testing.assert_allclose(stylizer.stylize(content, style[0]), np.clip(expected, 0, 1), atol=1e-4)


def test_size_where_reference_fails_still_runs(reference, stylizer):
    content, style = images(2, (72, 56), (40, 40))  # ceil(72/8) = 9 is odd
    with pytest.raises(RuntimeError, match="must match"):
        with torch.no_grad():
            reference(to_torch(content), to_torch(style))
    out = stylizer.stylize(content, style[0])
    assert out.shape == content.shape and np.isfinite(out).all()


def test_importer_refuses_wrong_files(reference, tmp_path):
    paths = save_published_files(reference, tmp_path)
    with pytest.raises(WeightsError, match="missing key"):  # files swapped
        import_sanet(paths["decoder"], paths["vgg"], paths["transformer"], str(tmp_path / "out"))
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(WeightsError, match="not a PyTorch state dict"):
        import_sanet(
            str(tmp_path / "junk.pth"), paths["decoder"], paths["transformer"], str(tmp_path / "out")
        )
    with pytest.raises(WeightsError, match="missing vgg_normalised.weights.h5"):
        load_sanet(str(tmp_path))
