"""The precision words and SANet's per-part plans: what they resolve to, and what they do to the picture."""

import keras
import numpy as np
import pytest
from helpers import DATA, PAINTING, PORTRAIT, cancelling, psnr, trained_like

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


@pytest.fixture
def probe_cache(tmp_path, monkeypatch):
    """An empty decision cache, and a device with native bfloat16 (where auto measures)."""
    monkeypatch.setenv("TFSTYLE_PRECISION_CACHE", str(tmp_path / "precision.json"))
    monkeypatch.setattr(precision, "bf16_native", lambda: True)
    return tmp_path / "precision.json"


def test_auto_measures_the_weights_caches_the_decision_and_measures_again_when_they_change(
    reference, probe_cache, tmp_path, monkeypatch, capsys
):
    from tfstyle.cli import main
    from tfstyle.image import save_image
    from tfstyle.models import probe
    from tfstyle.models.registry import load_network
    from tfstyle.models.sanet_weights import save_weights_dir

    stylizer, pairs, expected = reference
    folder = str(tmp_path / "weights")
    save_weights_dir(stylizer, folder)
    probes = []
    measure = probe.measure
    monkeypatch.setattr(probe, "measure", lambda *a, **k: probes.append(1) or measure(*a, **k))

    network = load_network("sanet", folder, "auto")
    choice = network.precision_choice
    print(choice.describe())
    assert choice.source == "measured" and not choice.plan.is_float32 and len(probes) == 1
    reduced = [p for p in PARTS if {la.compute_dtype for la in network.part_layers(p)} == {"bfloat16"}]
    assert reduced, "the chosen plan runs some part in bfloat16"
    # what the probe promised holds on photos: >= 40 dB from float32 on both real pairs
    kept = [psnr(network.stylize(c, s) * 255, e * 255) for (c, s), e in zip(pairs, expected)]
    print(f"chosen plan on the photo pairs: {kept} dB")
    assert min(kept) >= precision.MIN_PSNR_DB

    again = load_network("sanet", folder, "auto")  # the same checkpoint: no probe
    assert again.precision_choice.source == "cached" and again.precision_choice.plan == choice.plan
    assert len(probes) == 1
    # the command says what it runs at with --verbose (from the cache: no probe either)
    content = str(tmp_path / "content.png")
    save_image(content, pairs[0][0][:64, :64])
    argv = ["stylize", "--content", content, "--style", content, "--output", str(tmp_path / "o.png")]
    capsys.readouterr()
    assert main([*argv, "--weights", folder, "--verbose", "--quiet"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("sanet: precision")]
    assert said == [f"sanet: {again.precision_choice.describe()}"] and "cached" in said[0]
    assert len(probes) == 1

    # the same folder rewritten with weights no bfloat16 plan survives: measured anew -> float32
    save_weights_dir(cancelling(_same_weights(stylizer, dtype="float32")), folder)
    changed = load_network("sanet", folder, "auto")
    verdict = changed.precision_choice
    print(verdict.describe())
    assert len(probes) == 2 and verdict.source == "measured" and verdict.plan.is_float32
    assert list(verdict.psnr_db) == [p.name for p in precision.candidates("sanet")]  # every one tried
    assert max(verdict.psnr_db.values()) < precision.probe_bar_db()
    assert {w.dtype for w in changed.weights} == {"float32"}
    assert {la.compute_dtype for la in changed._flatten_layers() if la.weights} == {"float32"}


@pytest.mark.slow  # probes every candidate, then auto's probe
def test_check_precision_command_prints_every_plan_and_autos_pick(reference, probe_cache, tmp_path, capsys):
    from tfstyle.cli import main
    from tfstyle.models.sanet_weights import save_weights_dir

    save_weights_dir(reference[0], str(tmp_path / "w"))
    assert main(["weights", "check-precision", "--weights", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [row.split(" | ")[0][2:] for row in rows] == [
        plan.describe() for plan in (precision.FLOAT32, *precision.candidates("sanet"))
    ]
    assert rows[0].split(" | ")[1] == "inf"  # float32 against itself
    kept = [row.split(" | ")[0][2:] for row in rows if row.rstrip(" |").endswith("yes")]
    assert f"auto: precision auto -> {kept[1]}" in out  # the first faster plan that clears the bar


def test_the_bad_weight_set_really_loses_fidelity_in_bfloat16(reference):
    """The float32 verdict above is right: the cancelling weights give the same float32 picture
    as the plain ones, and every bfloat16 candidate is far from it on a real photo pair."""
    stylizer, pairs, expected = reference
    bad = cancelling(_same_weights(stylizer, dtype="float32"))
    (content, style), want = pairs[0], expected[0]
    assert psnr(bad.stylize(content, style) * 255, want * 255) >= 60.0  # float32: the same function
    plan = precision.candidates("sanet")[-1]  # the mildest candidate: bfloat16 in the decoder only
    mild = _same_weights(bad, **plan.network_kwargs())
    assert psnr(mild.stylize(content, style) * 255, want * 255) < precision.MIN_PSNR_DB


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
        assert precision.dtype_policy("auto", "gatys") == "float32"  # bf16 stalls short of the loss
        assert precision.dtype_policy("fast", "gatys") == fast
        for network in ("sanet", "magenta", "builtin"):
            assert precision.is_measured("auto", network) == native  # nothing to measure without bf16
            assert not precision.is_measured("fast", network)
            assert precision.fixed_plan("fast", network).network_kwargs() == {"dtype": fast}
            assert precision.fixed_plan("float32", network).is_float32
            assert precision.fixed_plan("bfloat16", network).network_kwargs() == {"dtype": BF16}
        if not native:
            assert precision.fixed_plan("auto", "sanet").is_float32


@pytest.mark.slow  # three entry points traced at a bfloat16 plan (10 s); Magenta's twin is fast
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
    assert not served.network.precision_choice.plan.is_float32  # the default runs a bfloat16 plan
    api = stylize(content_u8, style_u8, weights=str(tmp_path / "w"))
    assert cli_u8.shape == served_u8.shape == content_u8.shape
    assert psnr(cli_u8, served_u8) >= 45.0
    assert psnr(np.round(api * 255), cli_u8) == float("inf")  # the same pipeline: the same picture
