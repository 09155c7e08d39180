"""SANet without PyTorch: attention, runtime controls, saving, on trained-scale random weights."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import PAINTING, PORTRAIT, trained_like

from tfstyle.errors import ConfigError, WeightsError
from tfstyle.image import load_image
from tfstyle.kernels import for_serving
from tfstyle.layers.attention import (
    SANetAttention,
    attention_logits,
    chunked_softmax_attention,
    softmax_attention,
)
from tfstyle.models.sanet import SANetStylizer, SANetTransform, build_decoder
from tfstyle.models.sanet_weights import load_sanet, save_weights_dir
from tfstyle.style_features import StyleFeatures


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """A weights folder of seeded, trained-scale weights (as the importer would write one)."""
    directory = tmp_path_factory.mktemp("sanet") / "tfstyle"
    save_weights_dir(trained_like(SANetStylizer(dtype="float32")), str(directory))
    return directory


@pytest.fixture(scope="module")
def stylizer(converted):
    return load_sanet(str(converted), dtype="float32")


def images(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.uniform(size=(1, *shape, 3)).astype(np.float32) for shape in shapes]


def np_attention(q, k, v):
    logits = np.einsum("bqc,bkc->bqk", q.astype(np.float64), k.astype(np.float64))
    logits -= logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_chunked_attention_equals_one_shot_and_numpy(chunk, rng):
    q = rng.normal(size=(2, 53, 8)).astype(np.float32)
    k = rng.normal(size=(1, 31, 8)).astype(np.float32)
    v = rng.normal(size=(1, 31, 8)).astype(np.float32)
    one_shot = softmax_attention(q, k, v).numpy()
    chunked = chunked_softmax_attention(q, k, v, chunk).numpy()
    np.testing.assert_allclose(
        one_shot, np_attention(q, np.repeat(k, 2, 0), np.repeat(v, 2, 0)), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(chunked, one_shot, rtol=1e-6, atol=1e-6)


def xla_functions(concrete) -> list:
    """Names of the functions in a traced graph that XLA must compile."""
    library = concrete.graph.as_graph_def().library.function
    return [f.signature.name for f in library if f.attr["_XlaMustCompile"].b]


def test_bfloat16_logits_are_the_exact_product_and_differentiate(rng):
    """bfloat16 Q·Kᵀ (one XLA dot here) against NumPy's float64 product of the same bfloat16
    values, a style shared by a batch of two contents; its gradient against NumPy's."""
    q = tf.cast(rng.normal(size=(2, 37, 16)) * 4, tf.bfloat16)
    k = tf.cast(rng.normal(size=(1, 29, 16)) * 4, tf.bfloat16)
    upstream = rng.normal(size=(2, 37, 29))
    q64, k64 = (tf.cast(t, tf.float64).numpy() for t in (q, k))

    def logits_and_gradients(q, k):
        with tf.GradientTape() as tape:
            tape.watch([q, k])
            logits = attention_logits(q, k)
            loss = tf.reduce_sum(logits * tf.constant(upstream, tf.float32))
        return logits, *tape.gradient(loss, [q, k])

    for run in (logits_and_gradients, tf.function(logits_and_gradients)):  # eager and in a graph
        logits, dq, dk = run(q, k)
        assert logits.dtype == tf.float32
        want = np.einsum("bqc,kc->bqk", q64, k64[0])
        np.testing.assert_allclose(logits.numpy(), want, rtol=1e-5, atol=1e-4)
        dq, dk = (tf.cast(g, tf.float64).numpy() for g in (dq, dk))
        np.testing.assert_allclose(dq, np.einsum("bqk,kc->bqc", upstream, k64[0]), rtol=1e-2, atol=0.3)
        np.testing.assert_allclose(dk, np.einsum("bqk,bqc->kc", upstream, q64)[None], rtol=1e-2, atol=0.3)


def test_bfloat16_attention_uses_xla_only_in_this_process(rng):
    """The chunked bfloat16 attention traced here runs its logits through XLA; traced for a
    SavedModel (TF Serving runs no XLA by default) it does not, and both give NumPy's numbers."""
    q, k, v = (tf.cast(rng.normal(size=(1, n, 16)), tf.bfloat16) for n in (23, 19, 19))

    def attend(q, k, v):
        return chunked_softmax_attention(q, k, v, 5)

    spec = tf.TensorSpec([1, None, 16], tf.bfloat16)
    here, serving = tf.function(attend), tf.function(for_serving(attend))
    assert xla_functions(here.get_concrete_function(spec, spec, spec))
    assert not xla_functions(serving.get_concrete_function(spec, spec, spec))
    expected = np_attention(*(tf.cast(t, tf.float64).numpy() for t in (q, k, v)))
    for graph in (here, serving):
        got = tf.cast(graph(q, k, v), tf.float64).numpy()
        np.testing.assert_allclose(got, expected, rtol=2e-2, atol=2e-2)


def test_attention_layer_budget_chunks_give_same_output(rng):
    content = rng.normal(size=(2, 9, 7, 16)).astype(np.float32)
    style = rng.normal(size=(1, 6, 5, 16)).astype(np.float32)
    one_shot = SANetAttention(16, chunk_size=0)
    expected = one_shot(content, style).numpy()
    tiny_budget = SANetAttention(16, memory_budget_mb=16 * 30 * 12 / 2**20)  # 16 rows a chunk
    tiny_budget(content, style)
    tiny_budget.set_weights(one_shot.get_weights())
    np.testing.assert_allclose(tiny_budget(content, style).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_alpha_zero_is_content_content_path(stylizer):
    content, style = images(3, (64, 64), (48, 48))
    np.testing.assert_allclose(
        stylizer.stylize(content, style[0], strength=0.0), stylizer.stylize(content, content[0]), atol=1e-5
    )


def test_alpha_interpolates_features(stylizer):
    content, style = images(4, (64, 64), (48, 48))
    c, s = stylizer.encode(content), stylizer.encode(style)
    f_cs, f_cc = stylizer.transformed(c, s), stylizer.transformed(c, c)
    decoded = tf.clip_by_value(stylizer.decoder(0.3 * f_cs + 0.7 * f_cc), 0, 1).numpy()
    np.testing.assert_allclose(stylizer.stylize(content, style[0], strength=0.3), decoded, atol=1e-5)


def test_interpolation_weights_one_zero_equal_single_style(stylizer):
    content, first, second = images(5, (64, 64), (48, 48), (56, 40))
    mixed = stylizer.stylize(content, [first[0], second[0]], style_weights=[1.0, 0.0])
    np.testing.assert_allclose(mixed, stylizer.stylize(content, first[0]), atol=1e-5)
    halves = stylizer.stylize(content, [first[0], second[0]], style_weights=[1, 1])
    assert not np.allclose(halves, mixed, atol=1e-3)


def test_mask_of_ones_equals_no_mask_and_masks_select(stylizer):
    content, first, second = images(6, (64, 192), (48, 48), (56, 40))
    ones = np.ones((64, 192), np.float32)
    np.testing.assert_allclose(
        stylizer.stylize(content, first[0], masks=[ones]), stylizer.stylize(content, first[0]), atol=1e-5
    )
    left = np.zeros((64, 192), np.float32)
    left[:, :96] = 1.0
    split = stylizer.stylize(content, [first[0], second[0]], masks=[left, 1 - left])
    only_first = stylizer.stylize(content, first[0])
    only_second = stylizer.stylize(content, second[0])
    # beyond the decoder's receptive field from the seam, each side is its own style
    assert np.abs(split[:, :, :16] - only_first[:, :, :16]).max() < 1e-4
    assert np.abs(split[:, :, -16:] - only_second[:, :, -16:]).max() < 1e-4
    assert np.abs(only_first[:, :, :16] - only_second[:, :, :16]).max() > 1e-2


def test_level_weights_scale_the_two_levels(stylizer):
    content, style = images(7, (64, 64), (48, 48))
    c, s = stylizer.encode(content), stylizer.encode(style)
    t = lambda w: stylizer.transformed(c, s, level_weights=w).numpy()  # noqa: E731
    base, only4, only5 = t((0.0, 0.0)), t((1.0, 0.0)), t((0.0, 1.0))
    expected = base + 0.7 * (only4 - base) + 1.8 * (only5 - base)  # merge conv is affine
    np.testing.assert_allclose(t((0.7, 1.8)), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    assert np.abs(only4 - only5).max() > 1e-3


def test_batch_of_contents_matches_one_by_one(stylizer):
    a, b, style = images(8, (64, 48), (64, 48), (48, 48))
    batch = stylizer.stylize(np.concatenate([a, b]), style[0])
    np.testing.assert_allclose(batch[1:], stylizer.stylize(b, style[0]), atol=1e-5)


def test_cached_style_features_roundtrip(stylizer, tmp_path):
    content, style = images(9, (64, 64), (48, 48))
    features = stylizer.encode_style(style)
    features.save(tmp_path / "style.npz")
    cached = StyleFeatures.load(tmp_path / "style.npz")
    np.testing.assert_allclose(
        stylizer.stylize(content, encoded=cached), stylizer.stylize(content, style[0]), atol=1e-6
    )


def test_max_style_positions_caps_and_logs(converted, caplog):
    capped = load_sanet(str(converted), dtype="float32", max_style_positions=16)
    content, style = images(10, (64, 64), (96, 96))
    with caplog.at_level(
        "INFO", logger="absl"
    ):  # absl.app.run (an in-process program) sets that logger to WARNING
        features = capped.encode_style(style)
    assert features.relu4_1.shape[1] * features.relu4_1.shape[2] <= 16
    assert any("max_style_positions" in r.getMessage() for r in caplog.records)
    assert capped.stylize(content, style[0]).shape == content.shape


@pytest.mark.parametrize("mode", ["luminance", "histogram"])
def test_preserve_color_runs(stylizer, mode):
    content, style = load_image(PORTRAIT, max_side=64), load_image(PAINTING, max_side=64)
    out = stylizer.stylize(content, style, preserve_color=mode)
    assert out.shape == content.shape and np.isfinite(out).all()
    if mode == "luminance":
        from tfstyle.color import rgb_to_yiq

        assert np.abs(rgb_to_yiq(out)[..., 1:] - rgb_to_yiq(content)[..., 1:]).mean() < 0.02


def test_bad_controls_are_refused(stylizer):
    content, style = images(11, (64, 64), (48, 48))
    with pytest.raises(ConfigError, match="strength"):
        stylizer.stylize(content, style[0], strength=1.5)
    with pytest.raises(ConfigError, match="one per style"):
        stylizer.stylize(content, style[0], masks=[np.ones((64, 64))] * 2)
    with pytest.raises(ConfigError, match="style weights"):
        stylizer.stylize(content, [style[0], style[0]], style_weights=[-1, 2])
    with pytest.raises(ConfigError, match="exactly one"):
        stylizer.stylize(content)


def test_keras_and_weights_h5_roundtrips(stylizer, tmp_path):
    import keras

    content, style = images(12, (64, 64), (48, 48))
    expected = stylizer([content, style]).numpy()
    stylizer.save(tmp_path / "stylizer.keras")
    reloaded = keras.models.load_model(tmp_path / "stylizer.keras")
    np.testing.assert_array_equal(reloaded([content, style]).numpy(), expected)
    stylizer.save_weights(tmp_path / "stylizer.weights.h5")
    fresh = SANetStylizer(dtype="float32")
    fresh.load_weights(tmp_path / "stylizer.weights.h5")
    np.testing.assert_array_equal(fresh([content, style]).numpy(), expected)


def test_decoder_parameter_count():
    assert build_decoder().count_params() == 3_505_219


def test_transform_parameter_count():
    # two SANet blocks of four 1x1 512->512 convs, and the 3x3 merge conv (Park & Lee 2019, §3.2)
    block = 4 * (512 * 512 + 512)
    transform = SANetTransform()
    transform.build()
    assert transform.count_params() == 2 * block + 9 * 512 * 512 + 512 == 4_461_056


def test_weights_folder_round_trip_and_missing_files(converted, stylizer, tmp_path):
    content, style = images(13, (48, 48), (40, 40))
    again = load_sanet(str(converted), dtype="float32")
    np.testing.assert_array_equal(again([content, style]).numpy(), stylizer([content, style]).numpy())
    with pytest.raises(WeightsError, match="missing vgg_normalised.weights.h5"):
        load_sanet(str(tmp_path))


def test_images_of_new_sizes_reuse_the_traced_graphs():
    """Folder mode and servers see many sizes: each stage is traced once, never per size."""
    stylizer = SANetStylizer(dtype="float32", precision_plan={"decoder": "mixed_bfloat16"})
    style = stylizer.encode_style(np.random.default_rng(0).uniform(size=(64, 80, 3)).astype(np.float32))
    for shape in ((64, 64, 3), (72, 100, 3), (96, 48, 3)):
        stylizer.stylize(np.full(shape, 0.5, np.float32), encoded=style)
    counts = {name: graph.experimental_get_tracing_count() for name, graph in stylizer._graphs.items()}
    assert counts and set(counts.values()) == {1}, counts
