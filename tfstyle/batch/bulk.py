r"""Stylize many images on Apache Beam: RunInference over tfstyle, on any runner.

    python -m tfstyle.bulk --input 'photos/**/*.jpg' --output styled/ --style wave.jpg \
        [--model sanet|magenta] [--alpha 1] [--max_size 1024] [--portrait] [--weights DIR] \
        [--dead_letter styled/failed.jsonl] [Beam options: --runner, --direct_num_workers, ...]
    python -m tfstyle.bulk --manifest paths.txt --base photos/ --output styled/ --style wave.jpg

Inputs are a glob over any Beam filesystem (local, ``gs://``, ``s3://`` with
Beam's extras) or a manifest of paths (one per line, relative ones taken from
the manifest's folder). Each output is ``OUTPUT/<path under the base>.png``,
named as ``tfstyle stylize DIR`` names them (`tfstyle.batch.folder.output_name`), and
written to a temporary name then renamed; an output that exists is skipped,
so a re-run after a failure does only what is missing. Unreadable or refused
inputs, and images the network fails on, go to the dead-letter file (JSON
lines: path, reason) and never stop the pipeline. Beam counters
``tfstyle/processed``, ``skipped`` and ``failed`` are printed at the end.
Options this program does not know go to Beam's ``PipelineOptions``. See BULK.md.

`StylizeHandler.load_model` builds the network exactly as ``tfstyle stylize``
does (`tfstyle.networks.load_network`: the same weights resolution, precision
and first-use import) and encodes the style once per worker process; Beam
shares the model across that process's threads.

This is a program, yet it lives in the library (unlike `training/` and
`export/`): Beam pickles the DoFns and the model handler by module path, and a
remote worker gets the tfstyle wheel (``--extra_package``), so they must be in
it. Nothing else in the library imports this module. Needs ``pip install
'tfstyle[beam]'``.
"""

from __future__ import annotations

import argparse
import glob as globlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, Optional

import numpy as np

from tfstyle.errors import EXIT_BAD_INPUT, ConfigError, MissingExtraError, TfstyleError
from tfstyle.portraits.settings import PortraitSettings
from tfstyle.settings import Settings

try:
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.metrics import Metrics
    from apache_beam.ml.inference.base import ModelHandler, PredictionResult
except ImportError:
    raise MissingExtraError("apache-beam", "beam", "tfstyle.batch.bulk") from None

NAMESPACE = "tfstyle"


class _Loaded:
    """The pipeline of one worker process: the network loaded and the style encoded once."""

    def __init__(self, settings: Settings):
        from tfstyle.pipeline import Pipeline

        self.pipeline = Pipeline(settings)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.pipeline.stylize_fitted(image)


class StylizeHandler(ModelHandler[np.ndarray, PredictionResult, _Loaded]):
    """Images [H, W, 3] float32 in [0, 1] → stylized images, one pipeline per worker process
    (`settings` are plain values: they are pickled to the workers)."""

    def __init__(self, settings: Settings):
        super().__init__()
        self.settings = settings

    def load_model(self) -> _Loaded:
        return _Loaded(self.settings)

    def run_inference(
        self, batch: Sequence[np.ndarray], model: _Loaded, inference_args: Optional[dict[str, Any]] = None
    ) -> Iterable[PredictionResult]:
        # one image at a time: fitted images differ in size, and the networks are
        # convolution-bound, so batching same-size images gains little here
        for image in batch:
            yield PredictionResult(image, model(image))

    def batch_elements_kwargs(self):
        return {"max_batch_size": 1}

    def get_num_bytes(self, batch: Sequence[np.ndarray]) -> int:
        return sum(image.nbytes for image in batch)

    def get_metrics_namespace(self) -> str:
        return "tfstyle"


def glob_base(pattern: str) -> str:
    """The folder a glob's matches are named relative to: its part before the first wildcard."""
    head = pattern
    for i, char in enumerate(pattern):
        if char in "*?[":
            head = pattern[:i]
            break
    return head if head.endswith("/") else (os.path.dirname(head) + "/" if "/" in head else "")


def relative_to(path: str, base: str) -> Optional[str]:
    """`path` under `base` (string paths, any filesystem), or None when it is not under it."""
    base = base.rstrip("/") + "/" if base else ""
    if base and not path.startswith(base):
        local = os.path.abspath(path)
        if not local.startswith(os.path.abspath(base).rstrip("/") + "/"):
            return None
        return os.path.relpath(local, os.path.abspath(base))
    return path[len(base) :]


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m tfstyle.bulk", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="glob of images on any Beam filesystem")
    source.add_argument("--manifest", help="text file of image paths, one per line")
    parser.add_argument(
        "--base", help="with --manifest: outputs mirror paths under this folder (default: its folder)"
    )
    parser.add_argument("--output", required=True, help="output folder (any Beam filesystem)")
    parser.add_argument("--style", required=True, help="style image")
    parser.add_argument("--model", choices=("sanet", "magenta"), default="sanet")
    parser.add_argument("--weights", help="weights folder (default: the Keras cache on each worker)")
    parser.add_argument("--precision", default="auto", choices=("auto", "float32", "bfloat16", "float16"))
    parser.add_argument("--alpha", type=float, default=1.0, help="content-style trade-off (strength)")
    parser.add_argument("--max_size", type=int, default=1024, help="longer side of inputs and style")
    parser.add_argument(
        "--portrait", action="store_true", help="portrait mode, as tfstyle portrait (person mask, faces)"
    )
    defaults = PortraitSettings()
    for region in ("person", "background", "face"):
        parser.add_argument(
            f"--{region}_alpha",
            type=float,
            default=getattr(defaults, f"{region}_alpha"),
            help=f"with --portrait: strength on the {region} (default %(default)s)",
        )
    parser.add_argument("--no_faces", action="store_true", help="with --portrait: no face region")
    parser.add_argument("--dead_letter", help="JSON lines of failed inputs (default: OUTPUT/failed.jsonl)")
    return parser.parse_known_args(argv)


def build(pipeline, args, settings) -> None:
    """The pipeline: list → name → load (or skip / dead-letter) → RunInference → write."""
    from apache_beam.io import fileio
    from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

    from tfstyle.batch.folder import output_name, output_stem

    if args.input:
        base = glob_base(args.input)
        paths = pipeline | "Match" >> fileio.MatchFiles(args.input) | "Path" >> beam.Map(lambda m: m.path)
    else:
        folder = os.path.dirname(os.path.abspath(args.manifest))
        base = args.base or folder
        paths = (
            pipeline
            | "Manifest" >> beam.io.ReadFromText(args.manifest)
            | "Clean" >> beam.Map(str.strip)
            | "NonEmpty" >> beam.Filter(bool)
            | "Resolve"
            >> beam.Map(lambda p: p if "://" in p or os.path.isabs(p) else os.path.join(folder, p))
        )
    shared = (
        paths
        | "Stem" >> beam.Map(lambda p: (output_stem(relative_to(p, base) or p), 1))
        | "CountStems" >> beam.CombinePerKey(sum)
        | "Shared" >> beam.Filter(lambda kv: kv[1] > 1)
        | "StemOnly" >> beam.Keys()
    )

    def job(path, shared_stems):
        rel = relative_to(path, base)
        out = None if rel is None else output_name(rel, args.output, output_stem(rel) in set(shared_stems))
        return path, out

    loaded = (
        paths
        | "Name" >> beam.Map(job, shared_stems=beam.pvalue.AsList(shared))
        | "Load" >> beam.ParDo(Load(settings.max_size, base)).with_outputs("failed", main="images")
    )
    handler: Any = KeyedModelHandler(StylizeHandler(settings))
    results, errors = loaded.images | "Stylize" >> RunInference(handler).with_exception_handling()
    _ = results | "Write" >> beam.ParDo(Write())
    failed_inference = errors.failed_inferences | "InferenceFailed" >> beam.FlatMap(_inference_failures)
    _ = (
        (loaded.failed, failed_inference)
        | "Failures" >> beam.Flatten()
        | "Json" >> beam.Map(json.dumps)
        | "DeadLetter"
        >> beam.io.WriteToText(
            args.dead_letter or os.path.join(args.output, "failed.jsonl"), shard_name_template=""
        )
    )


class Load(beam.DoFn):
    """(path, output) → ((path, output), image) fitted like ``tfstyle stylize``; skipped or dead-lettered."""

    def __init__(self, max_size: int, base: str):
        self.max_size, self.base = max_size, base

    def process(self, element):
        from tfstyle.image import load_fitted

        path, out = element
        if out is None:
            yield self._failed(path, f"{path}: not under the base folder {self.base}")
            return
        if FileSystems.exists(out):
            Metrics.counter(NAMESPACE, "skipped").inc()
            return
        data = b""
        try:
            with FileSystems.open(path) as f:
                data = f.read()
            image = load_fitted(data, self.max_size)
        except TfstyleError as e:  # the file's bytes are named by its path in the reason
            yield self._failed(path, str(e).replace(f"<{len(data)} bytes>", path))
            return
        except OSError as e:
            yield self._failed(path, f"{path}: cannot read ({e})")
            return
        yield (path, out), image

    @staticmethod
    def _failed(path, reason):
        Metrics.counter(NAMESPACE, "failed").inc()
        return beam.pvalue.TaggedOutput("failed", {"path": path, "reason": reason})


class Write(beam.DoFn):
    """The stylized image as PNG: a temporary name, then renamed (complete or absent)."""

    def process(self, element):
        from tfstyle.image import encode_image

        (_, out), prediction = element
        data = encode_image(prediction.inference, "PNG")
        if "://" not in out:
            os.makedirs(os.path.dirname(out), exist_ok=True)
        temp = f"{out}.tmp-{os.getpid()}"
        with FileSystems.create(temp) as f:
            f.write(data)
        FileSystems.rename([temp], [out])
        Metrics.counter(NAMESPACE, "processed").inc()


def _inference_failures(element):
    batch, error = element if isinstance(element, tuple) and len(element) == 2 else (element, "")
    for item in batch if isinstance(batch, (list, tuple)) else [batch]:
        key = item[0] if isinstance(item, tuple) else ("?", None)
        Metrics.counter(NAMESPACE, "failed").inc()
        yield {"path": key[0], "reason": f"the network failed: {error}"}


def run(argv=None) -> dict:
    """Run the pipeline; returns the counters {processed, skipped, failed}."""
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    from tfstyle.files import check_folder_writable

    args, beam_args = parse(argv)
    portrait = None
    if args.portrait:
        if args.alpha != 1.0:
            raise ConfigError("--alpha with --portrait: set each region's --person_alpha etc. instead")
        portrait = PortraitSettings(
            person_alpha=args.person_alpha,
            background_alpha=args.background_alpha,
            face_alpha=args.face_alpha,
            faces=not args.no_faces,
        )
    elif (args.person_alpha, args.background_alpha, args.face_alpha, args.no_faces) != (
        PortraitSettings.person_alpha,
        PortraitSettings.background_alpha,
        PortraitSettings.face_alpha,
        False,
    ):
        raise ConfigError("the region options need --portrait")
    if args.max_size < 32:
        raise ConfigError(f"--max_size {args.max_size}: the networks need at least 32 px a side")
    if args.input and "://" not in args.input and not globlib.glob(args.input, recursive=True):
        raise ConfigError(f"--input {args.input}: matches no file")
    if args.manifest and not os.path.isfile(args.manifest):
        raise ConfigError(f"--manifest {args.manifest}: no such file")
    if "://" not in args.output:
        os.makedirs(args.output, exist_ok=True)
        check_folder_writable(args.output)
    from tfstyle.image import load_fitted

    try:
        with FileSystems.open(args.style) as f:
            style = f.read()
    except OSError as e:
        raise ConfigError(f"--style {args.style}: cannot read it ({type(e).__name__})") from None
    load_fitted(style, args.max_size)  # a bad style is refused before the pipeline starts
    settings = Settings(
        model=args.model,
        weights=args.weights,
        precision=args.precision,
        styles=(style,),
        strength=args.alpha,
        max_size=args.max_size,
        portrait=portrait,
    ).validate()
    options = PipelineOptions(beam_args, save_main_session=False)
    with beam.Pipeline(options=options) as pipeline:
        build(pipeline, args, settings)
    result = pipeline.result
    counters = {name: 0 for name in ("processed", "skipped", "failed")}
    for counter in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]:
        if counter.key.metric.name in counters:
            counters[counter.key.metric.name] += counter.committed or counter.attempted or 0
    return counters


def main(argv=None) -> int:
    try:
        counters = run(argv if argv is not None else sys.argv[1:])
    except TfstyleError as e:
        print(f"tfstyle.batch.bulk: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(" ".join(f"{k} {v}" for k, v in counters.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
