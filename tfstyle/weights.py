"""Where weights come from: a registry of specs, a cache, local overrides, clear offline errors.

A model is built from exactly one of: a registered spec name (downloaded
once into the Keras cache and verified by hash), a local file path, or an
explicit ``None`` (random initialisation, for tests and training from
scratch). Nothing is ever silently random.

Set ``TFSTYLE_OFFLINE=1`` to never touch the network: a spec whose file is
not cached then fails at once with the path to put it at.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Optional

from tfstyle.errors import WeightsError

#: Value of a ``--*-weights`` option that asks for random initialisation.
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
        as published by keras-applications), ``keras-weights-h5`` (Keras 3
        ``.weights.h5``), or ``torch-state-dict`` (converted by an importer).
      option: the CLI option a user passes to point at a local copy.
      cache_subdir: folder under the Keras cache (``~/.keras``).
    """

    name: str
    url: str
    file_hash: str
    filename: str
    format: str
    option: str
    cache_subdir: str = "models"
    description: str = ""


REGISTRY: dict[str, WeightSpec] = {}


def register(spec: WeightSpec) -> WeightSpec:
    """Add a spec to the registry (replacing one of the same name) and return it."""
    REGISTRY[spec.name] = spec
    return spec


# keras-applications' VGG19 without the classifier. Keras publishes only the
# MD5 of this file (keras/src/applications/vgg19.py); the same file is what
# keras.applications.VGG19(weights="imagenet") caches, so a user who already
# has it in ~/.keras/models never downloads it again.
VGG19_IMAGENET = register(WeightSpec(
    name="vgg19-imagenet",
    url=("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
         "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    file_hash="253f8cb515780f3b799900260a226db6",
    filename="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
    format="keras-h5-legacy",
    option="--vgg-weights",
    description="VGG19 ImageNet (keras-applications, no top), 80 MB",
))


def cache_dir() -> str:
    """The Keras cache root (``$KERAS_HOME`` or ``~/.keras``)."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def cached_path(spec: WeightSpec, root: Optional[str] = None) -> str:
    """Where `spec`'s file lives once downloaded."""
    return os.path.join(root or cache_dir(), spec.cache_subdir, spec.filename)


def get_spec(name: str) -> WeightSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise WeightsError(f"unknown weights {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def _offline() -> bool:
    return os.environ.get("TFSTYLE_OFFLINE", "").lower() not in ("", "0", "false", "no")


def resolve(spec: WeightSpec | str, path: Optional[str | os.PathLike] = None, *,
            root: Optional[str] = None) -> str:
    """Return a local file for `spec`: `path` if given, else the cache, else a download.

    Downloads go through `keras.utils.get_file`, which checks `spec.file_hash`
    both for a fresh download and for a file already in the cache. Raises
    `WeightsError` with one line naming the URL, the cache path and the
    option to pass a local file when the file cannot be had.
    """
    if isinstance(spec, str):
        spec = get_spec(spec)
    if path is not None:
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise WeightsError(f"{spec.option} {path}: no such file; pass the path of the "
                               f"{spec.description or spec.name} file")
        return path

    import keras

    target = cached_path(spec, root)
    if _offline() and not os.path.isfile(target):
        raise WeightsError(_unavailable(spec, target, "TFSTYLE_OFFLINE is set"))
    root = root or cache_dir()
    # get_file falls back to /tmp/.keras when the root does not exist yet.
    os.makedirs(root, exist_ok=True)
    try:
        return keras.utils.get_file(
            fname=spec.filename, origin=spec.url, file_hash=spec.file_hash,
            cache_subdir=spec.cache_subdir, cache_dir=root)
    except Exception as e:  # get_file raises bare Exception/ValueError for network and hash errors
        reason = " ".join(str(e).split()) or type(e).__name__
        reason = re.sub(r"^URL fetch failure on \S+: (None -- )?", "", reason)
        if "hash" in reason.lower() or "corrupt" in reason.lower():
            raise WeightsError(f"{spec.name}: the file at {target} does not match its hash "
                               f"{spec.file_hash}; delete it and retry, or pass {spec.option} PATH"
                               ) from None
        raise WeightsError(_unavailable(spec, target, reason)) from None


def load_into(model, path: str, what: str, hint: str) -> None:
    """``model.load_weights(path)``, failing with one line: ``PATH: cannot load as WHAT (...); HINT``."""
    try:
        model.load_weights(path)
    except Exception as e:  # Keras raises ValueError, OSError, KeyError... for a wrong file
        raise WeightsError(f"{path}: cannot load as {what} ({' '.join(str(e).split())[:160]}); "
                           f"{hint}") from None


def _unavailable(spec: WeightSpec, target: str, reason: str) -> str:
    return (f"cannot get {spec.name} weights ({reason}): download {spec.url} to {target}, "
            f"or pass {spec.option} PATH")


# MediaPipe's general selfie segmenter (Apache-2.0). URL and SHA-256 as pinned
# in MediaPipe's third_party/external_files.bzl; the same file ships in the
# mediapipe 0.10.14 wheel (mediapipe/modules/selfie_segmentation/).
SELFIE_SEGMENTATION = register(WeightSpec(
    name="selfie-segmentation",
    url=("https://storage.googleapis.com/mediapipe-assets/selfie_segmentation.tflite"
         "?generation=1683332563830600"),
    file_hash="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    filename="selfie_segmentation.tflite",
    format="tflite",
    option="--segmenter tflite:PATH",
    description="MediaPipe selfie segmentation (TFLite, 256x256), 250 KB",
))
