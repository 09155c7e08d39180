"""VGG19 encoders: keras-applications parity, truncation, the normalised flavour against NumPy."""

import h5py
import keras
import numpy as np
import pytest

from tfstyle.errors import ConfigError, WeightsError
from tfstyle.models import vgg


def write_keras_applications_h5(model, path):
    """Write `model`'s weights in the Keras 2 layout keras-applications publishes.

    Root attrs ``layer_names``; per layer a group with attr ``weight_names``
    (``block1_conv1/kernel:0`` ...) and one dataset per name.
    """
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            group = f.create_group(layer.name)
            names = [f"{layer.name}/{v.name}:0".encode() for v in layer.weights]
            group.attrs["weight_names"] = names
            for name, value in zip(names, layer.get_weights()):
                group.create_dataset(name.decode(), data=value)


@pytest.fixture(scope="module")
def applications_file(tmp_path_factory):
    keras.utils.set_random_seed(7)
    reference = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path_factory.mktemp("vgg") / "vgg19_notop.h5"
    write_keras_applications_h5(reference, path)
    return path


@pytest.mark.parametrize("size", [(40, 52), (33, 47)])
def test_imagenet_flavour_matches_keras_applications(applications_file, size, rng):
    reference = keras.applications.VGG19(
        include_top=False, weights=str(applications_file), input_shape=(None, None, 3)
    )
    taps = ["block1_conv1", "relu3_2", "conv4_2", "block5_conv4"]
    ours = vgg.build_vgg19(taps, weights=str(applications_file))
    image = rng.uniform(size=(2, *size, 3)).astype(np.float32)
    got = ours(image)
    caffe = keras.applications.vgg19.preprocess_input(image * 255.0)
    for tap, layer in [
        ("relu1_1", "block1_conv1"),
        ("relu3_2", "block3_conv2"),
        ("relu4_2", "block4_conv2"),
        ("relu5_4", "block5_conv4"),
    ]:
        expected = keras.Model(reference.input, reference.get_layer(layer).output)(caffe).numpy()
        assert got[tap].shape == expected.shape
        scale = np.abs(expected).max()
        assert scale > 0
        np.testing.assert_allclose(got[tap].numpy(), expected, atol=1e-5 * scale, rtol=1e-4)


def test_model_stops_at_deepest_tap():
    model = vgg.build_vgg19(["relu2_1", "relu1_2"], weights=None)
    conv_names = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert conv_names == ["block1_conv1", "block1_conv2", "block2_conv1"]
    assert sorted(model(np.zeros((1, 32, 32, 3), np.float32))) == ["relu1_2", "relu2_1"]


def test_select_taps_shares_weights_and_truncates():
    encoder = vgg.build_vgg19(["relu5_1"], weights=None)
    shallow = vgg.select_taps(encoder, ["relu2_1"])
    x = np.random.default_rng(1).uniform(size=(1, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(
        shallow(x)["relu2_1"].numpy(), vgg.select_taps(encoder, ["relu2_1", "relu5_1"])(x)["relu2_1"].numpy()
    )
    assert not any(layer.name.startswith("block3") for layer in shallow.layers)


def test_unknown_and_wrong_flavour_taps_are_refused():
    with pytest.raises(ConfigError, match="unknown VGG19 layer"):
        vgg.build_vgg19(["fc7"], weights=None)
    with pytest.raises(ConfigError, match="no layer"):
        vgg.build_vgg19(["relu2_3"], weights=None)
    with pytest.raises(ConfigError, match="relu1_1..relu5_1"):
        vgg.build_vgg19(["relu4_2"], weights=None, flavour="normalised")


def test_bad_weights_file_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"garbage")
    with pytest.raises(WeightsError, match="cannot load as imagenet VGG19 weights"):
        vgg.build_vgg19(["relu1_1"], weights=str(bad))


def test_bfloat16_policy_stays_close_to_float32(applications_file, rng):
    image = rng.uniform(size=(1, 48, 48, 3)).astype(np.float32)
    f32 = vgg.build_vgg19(["relu4_1"], weights=str(applications_file))(image)["relu4_1"].numpy()
    bf16 = vgg.build_vgg19(["relu4_1"], weights=str(applications_file), dtype="mixed_bfloat16")(image)[
        "relu4_1"
    ]
    assert bf16.dtype == "bfloat16"
    rel = np.linalg.norm(np.asarray(bf16, np.float32) - f32) / np.linalg.norm(f32)
    assert rel < 0.05


# ---- normalised flavour ---------------------------------------------------


def np_conv(x, kernel, bias, reflect):
    """[H, W, Cin] * [kh, kw, Cin, Cout], stride 1, reflect-pad by kh//2 first."""
    k = kernel.shape[0]
    if reflect and k > 1:
        x = np.pad(x, ((k // 2, k // 2), (k // 2, k // 2), (0, 0)), mode="reflect")
    h, w = x.shape[0] - k + 1, x.shape[1] - k + 1
    out = np.zeros((h, w, kernel.shape[-1]))
    for i in range(k):
        for j in range(k):
            out += x[i : i + h, j : j + w] @ kernel[i, j]
    return out + bias


def np_ceil_pool(x):
    h, w = -(-x.shape[0] // 2) * 2, -(-x.shape[1] // 2) * 2
    padded = np.full((h, w, x.shape[2]), -np.inf)
    padded[: x.shape[0], : x.shape[1]] = x
    return padded.reshape(h // 2, 2, w // 2, 2, -1).max(axis=(1, 3))


def test_normalised_flavour_matches_numpy_reference(rng):
    model = vgg.vgg19_full(weights=None, flavour="normalised")
    image = rng.uniform(size=(1, 35, 37, 3)).astype(np.float32)
    got = model(image)
    w = {layer.name: layer.get_weights() for layer in model.layers if layer.get_weights()}
    x = np_conv(image[0].astype(np.float64), *w["conv0"], reflect=False)
    expected = {}
    for block, (_, convs) in enumerate(vgg.VGG19_BLOCKS[:3], start=1):
        for layer in range(1, convs + 1):
            x = np.maximum(np_conv(x, *w[f"conv{block}_{layer}"], reflect=True), 0)
            if layer == 1:
                expected[f"relu{block}_1"] = x
        x = np_ceil_pool(x)
    for tap in ("relu1_1", "relu2_1", "relu3_1"):
        assert got[tap].shape[1:] == expected[tap].shape
        np.testing.assert_allclose(
            got[tap].numpy()[0], expected[tap], rtol=1e-4, atol=1e-5 * np.abs(expected[tap]).max()
        )
    assert got["relu5_1"].shape == (1, 3, 3, 512)  # 35 → 18 → 9 → 5 → 3 with ceil-mode pooling


def test_normalised_weights_h5_roundtrip_and_keras_format(tmp_path, rng):
    full = vgg.vgg19_full(weights=None, flavour="normalised")
    path = tmp_path / "vgg_normalised.weights.h5"
    full.save_weights(path)
    encoder = vgg.build_vgg19(["relu4_1"], weights=str(path), flavour="normalised")
    image = rng.uniform(size=(1, 40, 40, 3)).astype(np.float32)
    np.testing.assert_array_equal(encoder(image)["relu4_1"].numpy(), full(image)["relu4_1"].numpy())
    encoder.save(tmp_path / "encoder.keras")
    reloaded = keras.models.load_model(tmp_path / "encoder.keras")
    np.testing.assert_array_equal(reloaded(image)["relu4_1"].numpy(), full(image)["relu4_1"].numpy())


def test_normalised_parameter_count():
    # conv0 (3·3+3) + the 3x3 convs up to relu5_1, from the spec's shapes.
    shapes = (
        [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256)]
        + [(256, 256)] * 3
        + [(256, 512)]
        + [(512, 512)] * 4
    )
    expected = 12 + sum(9 * cin * cout + cout for cin, cout in shapes)
    assert vgg.vgg19_full(weights=None, flavour="normalised").count_params() == expected
