r"""Export SANet or Magenta stylization as a SavedModel for TF Serving.

    python -m export.saved_model --weights=~/.keras/models/tfstyle-sanet \
        --output_dir=MODELS/tfstyle [--version=N] [--segnet_weights=segnet.weights.h5]
    python -m export.saved_model --model=magenta --output_dir=MODELS/tfstyle-magenta

writes ``MODELS/tfstyle/N/{saved_model.pb, variables/}`` (N: one more than the
highest version there, or ``--version``), the layout ``tensorflow_model_server
--model_name=tfstyle --model_base_path=$PWD/MODELS/tfstyle`` serves. The
version is written under a temporary name and renamed when complete, so a
running server never loads half a model. The signatures are described in
`export.serving` and EXPORT.md; ``portrait`` is added when a SegNet is given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile

from absl import flags

from export.common import (
    ExportError,
    define_model_flags,
    define_portrait_flags,
    load_network_from_flags,
    portrait_settings_from_flags,
)
from export.serving import ServingOptions, StylizeServing
from tfstyle import weights as weights_lib
from tfstyle.precision import PRECISIONS
from tfstyle.programs import run

FLAGS = flags.FLAGS


def next_version(output_dir: str) -> int:
    """One more than the highest numeric version folder in `output_dir` (1 when none)."""
    if not os.path.isdir(output_dir):
        return 1
    versions = [int(name) for name in os.listdir(output_dir) if re.fullmatch(r"\d+", name)]
    return max(versions, default=0) + 1


def load_segnet(path: str | None):
    if path is None:
        return None
    from tfstyle.models.segnet import build_segnet

    return build_segnet(
        2, weights=weights_lib.resolve_weights(path, weights_lib.SEGNET, option="--segnet_weights")
    )


def version_path(output_dir: str, version: int | None = None, overwrite: bool = False) -> str:
    """OUTPUT_DIR/VERSION to write (the next version by default); refuses to replace one."""
    version = next_version(output_dir) if version is None else version
    if version < 0:
        raise ExportError(f"--version must be >= 0, got {version}")
    target = os.path.join(output_dir, str(version))
    if os.path.exists(target) and not overwrite:
        raise ExportError(
            f"{target} exists; pick another --version (TF Serving serves the highest) or pass --overwrite"
        )
    return target


#: What an export was built with, beside the model (TF Serving ignores assets.extra/ but for warm-up).
RECORD_FILE = os.path.join("assets.extra", "tfstyle.json")


def write_record(module: StylizeServing, folder: str) -> dict:
    """``assets.extra/tfstyle.json``: the network, its weights' fingerprint and the precision plan
    it was traced at (``auto``: the plan measured for these weights on this machine)."""
    from tfstyle import __version__

    network = module.network
    choice = network.precision_choice
    record = {
        "tfstyle": __version__,
        "network": network.network_name,
        "weights_id": network.weights_id,
        "precision": choice.record() if choice is not None else None,
        "signatures": sorted(module.signatures()),
    }
    os.makedirs(os.path.join(folder, "assets.extra"), exist_ok=True)
    with open(os.path.join(folder, RECORD_FILE), "w") as f:
        json.dump(record, f, indent=1)
    return record


def export_saved_model(
    module: StylizeServing, output_dir: str, version: int | None = None, overwrite: bool = False
) -> str:
    """Write `module` to OUTPUT_DIR/VERSION atomically; returns that path."""
    import tensorflow as tf

    target = version_path(output_dir, version, overwrite)
    version = os.path.basename(target)
    os.makedirs(output_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=output_dir)  # not a version name
    try:
        tf.saved_model.save(module, staging, signatures=module.signatures())
        write_record(module, staging)
        if os.path.exists(target):
            shutil.rmtree(target)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def main(argv):
    del argv
    options = ServingOptions(
        alpha=FLAGS.alpha,
        max_size=FLAGS.max_size,
        max_size_limit=FLAGS.max_size_limit,
        max_input_pixels=FLAGS.max_input_pixels,
        segment_max_side=FLAGS.segment_max_side,
    )
    options.validate()
    version_path(FLAGS.output_dir, FLAGS.version, FLAGS.overwrite)  # fail before the slow part
    settings = portrait_settings_from_flags()
    network = load_network_from_flags(FLAGS.precision)
    module = StylizeServing(network, load_segnet(FLAGS.segnet_weights), settings, options)
    path = export_saved_model(module, FLAGS.output_dir, FLAGS.version, FLAGS.overwrite)
    print(f"wrote {path} with signatures {', '.join(sorted(module.signatures()))}")
    if network.precision_choice is not None:
        print(f"{network.network_name}: {network.precision_choice.describe()} (in {RECORD_FILE})")


def define_flags() -> None:
    define_model_flags()
    flags.DEFINE_string("output_dir", None, "model base path, e.g. MODELS/tfstyle")
    flags.DEFINE_integer("version", None, "version folder (default: one above the highest)")
    flags.DEFINE_bool("overwrite", False, "replace an existing version folder")
    flags.DEFINE_string(
        "segnet_weights",
        None,
        "two-class SegNet .weights.h5 for the portrait "
        "signature (left out without one); 'random' for tests only",
    )
    flags.DEFINE_enum(
        "precision",
        "auto",
        PRECISIONS,
        "compute precision, resolved as tfstyle stylize resolves it (default auto: the same plan, so "
        "the served default matches the command's); float16 suits NVIDIA GPUs",
    )
    flags.DEFINE_float("alpha", 1.0, "serving_default's and portrait's content-style trade-off")
    flags.DEFINE_integer("max_size", 1024, "serving_default's and portrait's longest side")
    flags.DEFINE_integer("max_size_limit", 2048, "largest max_size or image side a request may ask for")
    flags.DEFINE_integer("max_input_pixels", 50_000_000, "refuse larger decoded images")
    flags.DEFINE_integer("segment_max_side", 512, "SegNet input size (longest side)")
    define_portrait_flags()
    flags.mark_flags_as_required(["output_dir"])


if __name__ == "__main__":
    define_flags()
    run(main, "export.saved_model")
