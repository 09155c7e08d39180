"""Person segmentation behind one small interface: ``segment(image) → soft mask``.

A segmenter takes a float32 RGB image [H, W, 3] in [0, 1] and returns the
person probability [H, W] in [0, 1] at the image's size. Backends:

* `SegNetSegmenter`: the Keras SegNet (`tfstyle.models.segnet`), softmax
  probability of the person class, at any input size;
* `TFLiteSegmenter`: any TFLite person segmenter with one [1, h, w, 3] float
  input in [0, 1] and one [1, h, w, 1] probability output, run on the LiteRT
  interpreter — the MediaPipe selfie segmentation models by default (the image
  is stretched to the model's input, as MediaPipe does).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from tfstyle import weights as weights_lib
from tfstyle.errors import ConfigError, MissingExtraError, WeightsError


class Segmenter(Protocol):
    def segment(self, image: np.ndarray) -> np.ndarray:
        """[H, W, 3] float RGB in [0, 1] → person probability [H, W] in [0, 1]."""


def _resize_plane(plane: np.ndarray, size) -> np.ndarray:
    import tensorflow as tf

    return tf.image.resize(plane[None, :, :, None], size, method="bilinear").numpy()[0, :, :, 0]


def litert_interpreter(path, what: str, num_threads: int | None = None):
    """A LiteRT interpreter for the .tflite file at `path`, tensors allocated; one-line errors for
    the missing extra (naming `what` needs it) and for a file that is not a TFLite model."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise MissingExtraError("ai-edge-litert", "export", what) from None
    try:
        interpreter = Interpreter(model_path=path, num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        raise WeightsError(f"{path}: cannot load as a TFLite model ({e})") from None
    return interpreter


class TFLiteSegmenter:
    """A TFLite person segmenter on the LiteRT interpreter (``pip install 'tfstyle[export]'``)."""

    def __init__(self, model_path: str | None = None, num_threads: int | None = None):
        path = weights_lib.resolve_weights(model_path, weights_lib.SELFIE_SEGMENTATION)
        self.interpreter = litert_interpreter(path, "the TFLite segmenter", num_threads)
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1 or list(inputs[0]["shape"][[0, 3]]) != [1, 3]:
            shapes = [[list(d["shape"]) for d in details] for details in (inputs, outputs)]
            raise ConfigError(
                f"{path}: expected one [1, h, w, 3] input and one output, got {shapes[0]} -> {shapes[1]}"
            )
        self._input, self._output = inputs[0], outputs[0]
        self.input_size = tuple(int(v) for v in inputs[0]["shape"][1:3])

    def segment(self, image: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        image = np.asarray(image, np.float32)
        resized = tf.image.resize(image[None], self.input_size, method="bilinear", antialias=True)
        self.interpreter.set_tensor(self._input["index"], np.clip(resized.numpy(), 0, 1))
        self.interpreter.invoke()
        probability = self.interpreter.get_tensor(self._output["index"])[0, :, :, 0]
        return np.clip(_resize_plane(probability, image.shape[:2]), 0.0, 1.0)


class SegNetSegmenter:
    """The Keras SegNet (2 classes, person = 1), e.g. trained with ``python -m training.segnet``."""

    def __init__(self, weights: str | None, max_side: int = 512):
        from tfstyle.models.segnet import build_segnet

        self.model = build_segnet(2, weights=weights)
        self.max_side = max_side

    def segment(self, image: np.ndarray) -> np.ndarray:
        image = np.asarray(image, np.float32)
        return segnet_person_probability(self.model, image[None], self.max_side).numpy()[0, :, :, 0]


def segnet_person_probability(model, images, max_side: int):
    """A SegNet's person probability [N, H, W, 1] for images [N, H, W, 3] in [0, 1].

    The images are shrunk to fit `max_side`, and the probability map is
    resized back bilinearly. TF ops only, so exported graphs segment the same way.
    """
    import tensorflow as tf

    from tfstyle.image import fit_tensor

    images = tf.convert_to_tensor(images, tf.float32)
    logits = model(fit_tensor(images, max_side), training=False)
    probability = tf.nn.softmax(tf.cast(logits, tf.float32))[..., 1:2]
    size = tf.shape(images)[1:3]
    return tf.clip_by_value(tf.image.resize(probability, size, method="bilinear"), 0.0, 1.0)


def make_segmenter(spec: str) -> Segmenter:
    """``tflite`` (the registered MediaPipe model), ``tflite:PATH``, ``segnet:PATH`` or
    ``segnet:random`` (tests only)."""
    kind, _, path = spec.partition(":")
    if kind == "tflite":
        return TFLiteSegmenter(path or None)
    if kind == "segnet":
        if not path:
            raise ConfigError("--segmenter segnet needs a weights file: segnet:PATH")
        return SegNetSegmenter(weights_lib.resolve_weights(path, weights_lib.SEGNET))
    raise ConfigError(f"unknown segmenter {spec!r}; use tflite, tflite:PATH or segnet:PATH")
