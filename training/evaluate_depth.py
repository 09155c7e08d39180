r"""Evaluate relative-depth hourglasses on whole validation sets, as the thesis's Table 1 does.

    python -m training.evaluate_depth \
        --weights=before:runs/depth/export/hourglass.weights.h5 \
        --weights=after:runs/depth-kitti/export/hourglass.weights.h5 \
        --nyu_tfds=nyu_depth_v2 --diw_csv=/data/diw/DIW_test.csv --kitti_dir=/data/kitti_val

Every model sees every image of every set given, once (no sampling of batches):

* **NYU** (tensorflow-datasets ``nyu_depth_v2``, split ``--nyu_split``) and **KITTI** (a folder
  like ``training.depth --data_dir``: ``rgb/`` + ``depth/``, sparse lidar depth where 0 = not
  measured) have depth maps: `--pairs_per_image` pairs are drawn from each with the training
  rules and a fixed seed, so every model is scored on the same pairs. KITTI frames are cropped
  to the input's aspect first (`--kitti_crop_to_aspect`, the thesis's 224×288).
* **DIW** (a CSV of labelled pairs, ``image,y_a,x_a,y_b,x_b,relation``) brings its own pairs.

Metrics (Chen et al. 2016, §5; `tfstyle.models.depth_metrics`): the ranking loss (their eq. 1,
averaged over pairs), ordinal accuracy and WHDR (ordinal pairs), WKDR at ``--tau``
(all / equal / ordinal pairs). The table has one row per model and, per set, the ranking loss
and ordinal accuracy (Kozlovtsev 2019, Table 1), then every metric in a long table;
``--output`` also writes it as JSON.

An importer for Chen et al.'s published hourglass is not included: their model is a Torch7
``.t7`` file (github.com/princeton-vl/relative_depth), a serialized Lua object graph that
cannot be read or checked honestly without Lua Torch, which is not installable here.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Optional

import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from tfstyle import weights as weights_lib
from tfstyle.files import write_atomic
from tfstyle.losses import gather_pair_depths, ranking_loss
from tfstyle.models import depth_metrics as metrics
from tfstyle.models.depth import build_hourglass
from tfstyle.programs import run
from training import depth_data
from training.depth import define_pair_flags, pair_config, size_flag

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class EvalSet:
    """One validation set: `name` (NYU, DIW, KITTI), its tf.data source, and how pairs come."""

    name: str
    dataset: tf.data.Dataset
    labelled: bool  # True: the source carries its pairs (DIW); False: depth maps, pairs sampled
    size: tuple
    crop_to_aspect: bool = False


def batches(evalset: EvalSet, pairs: depth_data.PairConfig, batch: int, seed: int) -> tf.data.Dataset:
    """The whole set, once, as (image, pairs, labels, valid) batches, deterministically."""
    if evalset.labelled:
        return depth_data.sparse_pipeline(
            evalset.dataset, evalset.size, batch, repeat=False, flip=False, whole_passes=True
        )
    return depth_data.training_pipeline(
        evalset.dataset,
        evalset.size,
        batch,
        pairs,
        seed=seed,
        repeat=False,
        flip=False,
        crop_to_aspect=evalset.crop_to_aspect,
        whole_passes=True,
    )


def evaluate(model, data, tau: float) -> dict:
    """Ranking loss, ordinal accuracy, WHDR and WKDR of `model` over every batch of `data`."""
    diffs, labels, valids = [], [], []
    loss_sum, pair_count = 0.0, 0.0
    for image, pairs, label, valid in data:
        depth = model(image, training=False)
        count = float(tf.reduce_sum(valid))
        loss_sum += float(ranking_loss(depth, pairs, label, valid)) * count
        pair_count += count
        diffs.append(gather_pair_depths(depth, pairs).numpy())
        labels.append(label.numpy())
        valids.append(valid.numpy())
    if not pair_count:
        return {"pairs": 0}
    diff, label, valid = (np.concatenate(x) for x in (diffs, labels, valids))
    return {
        "pairs": int(pair_count),
        "ranking_loss": loss_sum / pair_count,
        "ordinal_accuracy": metrics.ordinal_accuracy(diff, label, valid),
        "whdr": metrics.whdr(diff, label, valid),
        **metrics.wkdr(diff, label, tau, valid),
    }


def load_model(path: Optional[str]):
    """An hourglass with the weights at `path` (``None``: random, for smoke tests)."""
    return build_hourglass(path)


def table(results: dict, sets: list[str]) -> str:
    """Markdown: per model, per set, ranking loss and ordinal accuracy (Kozlovtsev 2019, Table 1),
    then every metric."""
    head = "| model | " + " | ".join(f"{s} ranking loss | {s} ordinal accuracy" for s in sets) + " |"
    lines = [head, "|---|" + "---|---|" * len(sets)]
    for model, by_set in results.items():
        cells = []
        for s in sets:
            r = by_set.get(s, {})
            cells += (
                [f"{r['ranking_loss']:.4f}", f"{100 * r['ordinal_accuracy']:.2f} %"]
                if r.get("pairs")
                else ["—", "—"]
            )
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    lines += ["", "| model | set | pairs | ranking loss | ordinal accuracy | WHDR | WKDR | WKDR= | WKDR≠ |"]
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for model, by_set in results.items():
        for s in sets:
            r = by_set.get(s, {})
            if not r.get("pairs"):
                continue
            rates = [r[k] for k in ("ordinal_accuracy", "whdr", "wkdr", "wkdr_eq", "wkdr_neq")]
            shown = " | ".join("—" if v != v else f"{100 * v:.2f} %" for v in rates)
            lines.append(f"| {model} | {s} | {r['pairs']} | {r['ranking_loss']:.4f} | {shown} |")
    return "\n".join(lines)


def parse_models(values: list[str]) -> dict:
    """``--weights`` entries ``LABEL:PATH``, ``PATH`` or ``random`` → {label: path or None}."""
    models = {}
    for value in values:
        label, _, path = value.rpartition(":") if ":" in value else ("", "", value)
        path = path.strip()
        label = label or (
            path if path == weights_lib.RANDOM else os.path.basename(os.path.dirname(path)) or path
        )
        if path == weights_lib.RANDOM:
            models[label] = None
        else:
            models[label] = weights_lib.check_local(
                os.path.expanduser(path), weights_lib.HOURGLASS, "--weights"
            )
    return models


def define_flags():
    flags.DEFINE_multi_string(
        "weights", None, "hourglass .weights.h5, as LABEL:PATH (repeatable; 'random' for tests)"
    )
    flags.DEFINE_string("nyu_tfds", None, "tensorflow-datasets name of NYU depth v2 (nyu_depth_v2)")
    flags.DEFINE_string("nyu_split", "validation", "its split")
    flags.DEFINE_string("tfds_data_dir", None, "tensorflow-datasets data_dir")
    flags.DEFINE_string(
        "diw_csv", None, "DIW test pairs: image,y_a,x_a,y_b,x_b,relation (paths relative to it)"
    )
    flags.DEFINE_string(
        "kitti_dir", None, "KITTI validation folder: rgb/NAME.png + depth/NAME.png (0 = no lidar)"
    )
    flags.DEFINE_list("size", ["240", "320"], "model input height,width for NYU and DIW")
    flags.DEFINE_list("kitti_size", ["224", "288"], "model input height,width for KITTI (the thesis's)")
    flags.DEFINE_bool("kitti_crop_to_aspect", True, "crop KITTI frames to --kitti_size's aspect first")
    # pair sampling for NYU and KITTI as in training; the thesis scores ordinal pairs only
    define_pair_flags(equal_fraction=0.0)
    flags.DEFINE_float("tau", 0.02, "WKDR threshold")
    flags.DEFINE_integer("batch_size", 4, "images per model call")
    flags.DEFINE_integer("seed", 0, "seed of the drawn pairs (the same for every model)")
    flags.DEFINE_bool("synthetic", False, "generated scenes instead of real sets (smoke tests)")
    flags.DEFINE_string("output", None, "also write the results as JSON here")


def eval_sets() -> list[EvalSet]:
    size, kitti_size = size_flag(FLAGS.size, "size"), size_flag(FLAGS.kitti_size, "kitti_size")
    sets = []
    if FLAGS.synthetic:
        sets.append(EvalSet("synthetic", depth_data.synthetic_dataset(8, max(size), seed=7), False, size))
    if FLAGS.nyu_tfds:
        sets.append(
            EvalSet(
                "NYU",
                depth_data.tfds_dataset(FLAGS.nyu_tfds, FLAGS.nyu_split, FLAGS.tfds_data_dir),
                False,
                size,
            )
        )
    if FLAGS.diw_csv:
        sets.append(EvalSet("DIW", depth_data.pairs_csv_dataset(FLAGS.diw_csv), True, size))
    if FLAGS.kitti_dir:
        sets.append(
            EvalSet(
                "KITTI",
                depth_data.folder_dataset(FLAGS.kitti_dir),
                False,
                kitti_size,
                FLAGS.kitti_crop_to_aspect,
            )
        )
    if not sets:
        raise app.UsageError("give at least one of --nyu_tfds, --diw_csv, --kitti_dir (or --synthetic)")
    return sets


def main(argv):
    del argv
    if not FLAGS.weights:
        raise app.UsageError("--weights is required: LABEL:PATH of an hourglass .weights.h5 (repeatable)")
    models = parse_models(FLAGS.weights)
    sets = eval_sets()
    pairs = pair_config(FLAGS)
    results: dict = {}
    for label, path in models.items():
        model = load_model(path)
        for evalset in sets:
            data = batches(evalset, pairs, FLAGS.batch_size, FLAGS.seed)
            results.setdefault(label, {})[evalset.name] = evaluate(model, data, FLAGS.tau)
            logging.info("%s on %s: %s", label, evalset.name, results[label][evalset.name])
    print(table(results, [s.name for s in sets]))
    if FLAGS.output:
        write_atomic(FLAGS.output, (json.dumps(results, indent=1) + "\n").encode())


if __name__ == "__main__":
    define_flags()
    run(main, "training.evaluate_depth")
