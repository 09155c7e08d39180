"""The precision words and SANet's per-part plans: what they resolve to, and what they do to the picture."""

import keras
import numpy as np
import pytest
from helpers import DATA, PAINTING, PORTRAIT, psnr, trained_like

from tfstyle import precision
from tfstyle.errors import ConfigError
from tfstyle.image import load_image, resize
from tfstyle.models.sanet import PARTS, SANetStylizer

BF16 = "mixed_bfloat16"
PAIRS = ((PORTRAIT, PAINTING), (DATA / "woman_smiling_portrait.jpg", PAINTING))


@pytest.fixture(scope="module")
def reference():
    """A float32 trained-scale stylizer and its outputs on two photo/painting pairs at 256²."""
    pairs = [(resize(load_image(c), (256, 256)), resize(load_image(s), (256, 256))) for c, s in PAIRS]
    stylizer = trained_like(SANetStylizer(dtype="float32"), seed=5)
    return stylizer, pairs, [stylizer.stylize(c, s) for c, s in pairs]


def _same_weights(reference_stylizer, **kwargs):
    stylizer = SANetStylizer(**kwargs)
    stylizer.set_weights(reference_stylizer.get_weights())
    return stylizer


def test_default_plan_stays_40_db_from_float32_and_full_bf16_is_reported(reference, record_property):
    stylizer, pairs, expected = reference
    plan = _same_weights(stylizer, dtype="float32", precision_plan=precision.SANET_AUTO_PLAN)
    full = _same_weights(stylizer, dtype=BF16)
    plan_db = [psnr(plan.stylize(c, s) * 255, e * 255) for (c, s), e in zip(pairs, expected)]
    full_db = [psnr(full.stylize(c, s) * 255, e * 255) for (c, s), e in zip(pairs, expected)]
    record_property("full_bfloat16_psnr_db", [round(v, 1) for v in full_db])
    print(f"auto plan {plan_db} dB, full bfloat16 {full_db} dB (reported, not asserted)")
    assert min(plan_db) >= 40.0
    assert not np.isinf(min(plan_db)), "the plan must actually run some part in bfloat16"


def test_a_plan_sets_each_parts_compute_dtype_and_nothing_else(reference):
    stylizer = SANetStylizer(dtype="float32", precision_plan={"encoder3": BF16, "decoder": BF16})
    for part in PARTS:
        want = "bfloat16" if part in ("encoder3", "decoder") else "float32"
        assert {layer.compute_dtype for layer in stylizer.part_layers(part)} == {want}, part
    assert all(w.dtype == "float32" for w in stylizer.weights)  # mixed policies keep float32 weights
    every = {id(layer) for part in PARTS for layer in stylizer.part_layers(part)}
    convs = [la for la in stylizer._flatten_layers() if isinstance(la, keras.layers.Conv2D)]
    assert all(id(conv) in every for conv in convs)  # every conv belongs to a part


def test_plan_round_trips_through_keras_files(tmp_path):
    stylizer = trained_like(SANetStylizer(dtype="float32", precision_plan={"decoder": BF16}), seed=3)
    path = tmp_path / "plan.keras"
    stylizer.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.precision_plan == {"decoder": BF16}
    assert {la.compute_dtype for la in loaded.part_layers("decoder")} == {"bfloat16"}
    image = resize(load_image(PORTRAIT), (64, 64))
    np.testing.assert_array_equal(loaded.stylize(image, image), stylizer.stylize(image, image))


def test_unknown_part_and_precision_are_refused():
    with pytest.raises(ConfigError, match="unknown precision plan part"):
        SANetStylizer(precision_plan={"vgg": BF16})
    with pytest.raises(ConfigError, match="unknown precision 'half'"):
        precision.dtype_policy("half")


def test_precision_words_resolve_by_what_the_device_has(monkeypatch):
    for native in (True, False):
        monkeypatch.setattr(precision, "bf16_native", lambda native=native: native)
        fast = BF16 if native else "float32"
        assert precision.dtype_policy("fast", "sanet") == fast
        assert precision.dtype_policy("auto", "magenta") == "float32"  # measured below 40 dB in bf16
        assert precision.dtype_policy("auto", "gatys") == "float32"  # bf16 stalls short of the loss
        assert precision.dtype_policy("fast", "gatys") == fast
        assert precision.stylizer_dtypes("fast") == {"dtype": fast}
        auto = precision.stylizer_dtypes("auto")
        if native:
            assert auto == {"dtype": "float32", "precision_plan": precision.SANET_AUTO_PLAN}
        else:
            assert auto == {"dtype": "float32"}
        assert precision.stylizer_dtypes("float32") == {"dtype": "float32"}
        assert precision.stylizer_dtypes("bfloat16") == {"dtype": BF16}


def test_cli_python_and_served_defaults_agree_to_45_db(tmp_path, monkeypatch):
    """`tfstyle stylize`, `tfstyle.stylize` and the SavedModel's `stylize` function, each at its
    default precision (the plan, as on a bfloat16 device: the export resolves ``auto`` as the
    command does)."""
    from export.serving import StylizeServing
    from tfstyle.api import stylize
    from tfstyle.cli import main
    from tfstyle.image import save_image
    from tfstyle.models.registry import load_network
    from tfstyle.models.sanet_weights import save_weights_dir

    monkeypatch.setattr(precision, "bf16_native", lambda: True)
    save_weights_dir(trained_like(SANetStylizer(dtype="float32"), seed=4), str(tmp_path / "w"))
    content_path, style_path = tmp_path / "content.png", tmp_path / "style.png"
    save_image(str(content_path), resize(load_image(PORTRAIT), (192, 160)))
    save_image(str(style_path), resize(load_image(PAINTING), (160, 224)))
    content_u8 = np.asarray(load_image(content_path) * 255 + 0.5, np.uint8)  # PNG: exact
    style_u8 = np.asarray(load_image(style_path) * 255 + 0.5, np.uint8)

    served = StylizeServing(load_network("sanet", str(tmp_path / "w")))  # the export's default: auto
    served_u8 = served.stylize(content_u8[None], style_u8[None], np.ones([1], np.float32))["image"].numpy()[0]
    argv = ["stylize", "--content", str(content_path), "--style", str(style_path), "--quiet"]
    assert main([*argv, "--output", str(tmp_path / "cli.png"), "--weights", str(tmp_path / "w")]) == 0
    cli_u8 = np.asarray(load_image(tmp_path / "cli.png") * 255 + 0.5, np.uint8)
    network = load_network("sanet", str(tmp_path / "w"))
    assert network.precision_plan == precision.SANET_AUTO_PLAN  # the default really is the plan
    api = stylize(content_u8, style_u8, weights=str(tmp_path / "w"))
    assert cli_u8.shape == served_u8.shape == content_u8.shape
    assert psnr(cli_u8, served_u8) >= 45.0
    assert psnr(np.round(api * 255), cli_u8) == float("inf")  # the same pipeline: the same picture
