"""Whether faces survive stylization (landmark error, face-region SSIM), and how much
of a style a region carries (style-statistics distance).
"""

from __future__ import annotations

import numpy as np


def landmark_error(reference, other, inter_ocular: float) -> float:
    """Normalised mean error: mean_i ‖p_i − q_i‖ / d over the landmarks [N, 2+] of one face,
    d = the reference's inter-ocular distance (the face-alignment NME)."""
    reference, other = np.asarray(reference, np.float64)[:, :2], np.asarray(other, np.float64)[:, :2]
    return float(np.mean(np.linalg.norm(reference - other, axis=1)) / inter_ocular)


def match_faces(reference: list, other: list, min_iou: float = 0.5) -> list[tuple[int, int]]:
    """Pairs (i, j) of faces matched by box IoU ≥ `min_iou`, greedily from the best overlap."""
    from tfstyle.portraits.faces import box_iou

    if not reference or not other:
        return []
    boxes = np.stack([face.box for face in other])
    overlaps = np.stack([box_iou(face.box, boxes) for face in reference])
    pairs, used_i, used_j = [], set(), set()
    for flat in np.argsort(-overlaps, axis=None):
        i, j = np.unravel_index(flat, overlaps.shape)
        if overlaps[i, j] < min_iou:
            break
        if i not in used_i and j not in used_j:
            pairs.append((int(i), int(j)))
            used_i.add(i)
            used_j.add(j)
    return pairs


def face_ssim(content, result, face) -> float:
    """SSIM between content and result [H, W, 3] in [0, 1] on a face's box (clipped to the image)."""
    import tensorflow as tf

    height, width = np.asarray(content).shape[:2]
    x0, y0 = max(0, int(np.floor(face.box[0]))), max(0, int(np.floor(face.box[1])))
    x1, y1 = min(width, int(np.ceil(face.box[2]))), min(height, int(np.ceil(face.box[3])))
    crop = lambda image: tf.constant(np.asarray(image, np.float32)[y0:y1, x0:x1])  # noqa: E731
    return float(tf.image.ssim(crop(content), crop(result), max_val=1.0))


def face_preservation(content, result, finder, content_faces=None) -> dict:
    """How well the faces of `content` survive in `result` ([H, W, 3] in [0, 1]).

    Landmarks are found on both images (`tfstyle.portraits.faces.FaceFinder`) and faces
    matched by box overlap. Returns ``faces`` (in the content), ``matched``,
    ``landmark_error`` (mean NME over matched faces; NaN if none) and
    ``ssim`` (mean face-box SSIM over the content's faces).
    """
    faces = finder.find(content) if content_faces is None else content_faces
    found = finder.find(result)
    pairs = match_faces(faces, found)
    errors = [landmark_error(faces[i].landmarks, found[j].landmarks, faces[i].inter_ocular) for i, j in pairs]
    return {
        "faces": len(faces),
        "matched": len(pairs),
        "landmark_error": float(np.mean(errors)) if errors else float("nan"),
        "ssim": float(np.mean([face_ssim(content, result, f) for f in faces])) if faces else float("nan"),
    }


def style_statistics_distance(features, style_features, weights=None) -> float:
    """How far a region of an image is from a style, in feature statistics:
    ‖μ(F) − μ(S)‖₂ + ‖σ(F) − σ(S)‖₂ over channels (Huang & Belongie 2017, eq. 11),
    μ and σ of `features` [h, w, C] weighted per position by `weights` [h, w] (the
    region; None: everywhere), of `style_features` [h', w', C] over all positions.
    Smaller = the region carries more of the style."""
    f = np.asarray(features, np.float64).reshape(-1, np.shape(features)[-1])
    s = np.asarray(style_features, np.float64).reshape(-1, np.shape(style_features)[-1])
    w = np.ones(len(f)) if weights is None else np.asarray(weights, np.float64).reshape(-1)
    w = w / w.sum()
    mean = w @ f
    std = np.sqrt(np.maximum(w @ (f - mean) ** 2, 0.0))
    return float(np.linalg.norm(mean - s.mean(0)) + np.linalg.norm(std - s.std(0)))
