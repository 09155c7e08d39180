"""Each loss against an independent NumPy formula on random inputs (rtol 1e-5, float32)."""

import numpy as np
import pytest
import tensorflow as tf

from tfstyle import losses, ops

RTOL = 1e-5


def np_gram(f):
    n, h, w, c = f.shape
    flat = f.reshape(n, h * w, c).astype(np.float64)
    return np.stack([x.T @ x for x in flat]) / (h * w)


def np_mean_std(f, eps=1e-5):
    n, h, w, c = f.shape
    flat = f.reshape(n, h * w, c).astype(np.float64)
    return flat.mean(axis=1), np.sqrt(flat.var(axis=1, ddof=1) + eps)


@pytest.fixture
def feats(rng):
    return (
        rng.normal(size=(2, 7, 5, 6)).astype(np.float32),
        rng.normal(size=(2, 7, 5, 6)).astype(np.float32),
    )


def test_gram_matrix_matches_numpy(feats):
    np.testing.assert_allclose(ops.gram_matrix(feats[0]).numpy(), np_gram(feats[0]), rtol=RTOL, atol=1e-6)


def test_content_loss_matches_numpy(feats):
    a, b = feats
    n, h, w, c = a.shape
    expected = np.mean([np.sum((a[i] - b[i]).astype(np.float64) ** 2) / (c * h * w) for i in range(n)])
    np.testing.assert_allclose(losses.content_loss(a, b).numpy(), expected, rtol=RTOL)


def test_weighted_content_loss_matches_numpy(feats, rng):
    a, b = feats
    m = rng.uniform(0.1, 3.0, size=(1, 7, 5, 1)).astype(np.float32)
    expected = np.mean(((a - b).astype(np.float64) ** 2) * m)
    np.testing.assert_allclose(losses.content_loss(a, b, m).numpy(), expected, rtol=RTOL)


def test_style_loss_matches_numpy(feats):
    a, b = feats
    c = a.shape[-1]
    target = np_gram(b)
    expected = np.mean([np.sum((np_gram(a)[i] - target[i]) ** 2) / c**2 for i in range(2)])
    np.testing.assert_allclose(losses.style_loss(a, target.astype(np.float32)).numpy(), expected, rtol=RTOL)


@pytest.mark.parametrize(
    "variant,beta", [("squared", 2.0), ("absolute", 1.0), ("power", 1.0), ("power", 2.5)]
)
def test_total_variation_matches_numpy(rng, variant, beta):
    x = rng.uniform(size=(2, 9, 11, 3)).astype(np.float64)
    dx = x[:, :, 1:] - x[:, :, :-1]
    dy = x[:, 1:] - x[:, :-1]
    if variant == "squared":
        expected = (dx**2).mean() + (dy**2).mean()
    elif variant == "absolute":
        expected = np.abs(dx).mean() + np.abs(dy).mean()
    else:
        expected = ((dx[:, :-1] ** 2 + dy[:, :, :-1] ** 2) ** (beta / 2)).mean()
    got = losses.total_variation(x.astype(np.float32), variant, beta).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_total_variation_rejects_unknown_variant():
    with pytest.raises(ValueError, match="unknown total variation variant"):
        losses.total_variation(tf.zeros([1, 4, 4, 3]), "l3")


def test_mean_std_matches_numpy(feats):
    mean, std = ops.channel_mean_std(feats[0])
    ref_mean, ref_std = np_mean_std(feats[0])
    np.testing.assert_allclose(mean.numpy()[:, 0, 0], ref_mean, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(std.numpy()[:, 0, 0], ref_std, rtol=RTOL)


def test_mean_std_style_loss_matches_numpy(feats):
    a, b = feats
    ma, sa = np_mean_std(a)
    mb, sb = np_mean_std(b)
    expected = np.mean((ma - mb) ** 2) + np.mean((sa - sb) ** 2)
    np.testing.assert_allclose(losses.mean_std_style_loss(a, b).numpy(), expected, rtol=RTOL)


def test_mvn_content_loss_matches_numpy(feats):
    a, b = feats

    def mvn(x):
        m, s = np_mean_std(x)
        return (x - m[:, None, None, :]) / s[:, None, None, :]

    expected = np.mean((mvn(a) - mvn(b)) ** 2)
    np.testing.assert_allclose(losses.mvn_content_loss(a, b).numpy(), expected, rtol=RTOL)


def test_losses_accept_bfloat16_features(feats):
    a, b = feats
    got = losses.content_loss(tf.cast(a, tf.bfloat16), tf.cast(b, tf.bfloat16))
    assert got.dtype == tf.float32
    np.testing.assert_allclose(got.numpy(), np.mean((a - b) ** 2), rtol=2e-2)
