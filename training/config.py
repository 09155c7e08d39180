"""One path from flags to a run's configuration, shared by the three training programs.

A task's config is a dataclass of plain values — numbers, strings, tuples and
nested dataclasses of those. Data sources are described (`DataSpec`,
`training.data.ImageSource`), never held as ``tf.data`` objects, so the
resolved configuration is written to ``MODEL_DIR/config.json`` at start and
reads back as the same dataclasses.

`from_flags` fills a config from the flags of the same names: every program
overrides its config the same way, and a new field needs only a flag of its
name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from typing import Any, Optional, TypeVar

from tfstyle.errors import ConfigError
from tfstyle.files import write_atomic

T = TypeVar("T")

#: Config field → flag, where the flag's name differs from the field's.
FLAG_NAMES = {"global_batch_size": "batch_size", "jit_compile": "xla", "summary_every": "log_every"}
#: File in MODEL_DIR holding the resolved configuration.
CONFIG_FILE = "config.json"


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """Where a task's examples come from, as a description.

    Attributes:
      kind: how to read them; each task lists its kinds (``tfds``, ``folder``,
        ``csv``, ``synthetic``).
      location: the folder or CSV path, or the tensorflow-datasets name.
      validation: a folder or CSV like `location` for validation (TFDS: its
        ``validation`` split is used when this is ``None``).
      data_dir: tensorflow-datasets' data_dir.
    """

    kind: str
    location: Optional[str] = None
    validation: Optional[str] = None
    data_dir: Optional[str] = None

    def check(self, kinds: tuple[str, ...]) -> None:
        if self.kind not in kinds:
            raise ConfigError(f"unknown data kind {self.kind!r}; use one of {', '.join(kinds)}")
        if self.kind != "synthetic" and not self.location:
            raise ConfigError(f"data of kind {self.kind} needs a location")


#: Data kind → (its flag, its validation flag); tensorflow-datasets also takes --tfds_data_dir.
DATA_FLAGS = {
    "tfds": ("tfds", None),
    "folder": ("data_dir", "validation_dir"),
    "csv": ("pairs_csv", "validation_csv"),
    "synthetic": ("synthetic", None),
}


def define_data_flags(help_texts: dict[str, str]) -> None:
    """The data flags of the kinds whose flags `help_texts` describes (flag name → help)."""
    from absl import flags

    for name, text in help_texts.items():
        if name == "synthetic":
            flags.DEFINE_bool(name, False, text)
        else:
            flags.DEFINE_string(name, None, text)
    if "tfds" in help_texts:
        flags.DEFINE_string("tfds_data_dir", None, "tensorflow-datasets data_dir")


def data_spec_from_flags(flag_values, kinds: tuple[str, ...]) -> DataSpec:
    """The `DataSpec` the data flags describe; exactly one kind must be given."""
    from absl import app

    given = [kind for kind in kinds if flag_values[DATA_FLAGS[kind][0]].value]
    if len(given) != 1:
        names = [f"--{DATA_FLAGS[kind][0]}" for kind in kinds]
        raise app.UsageError(f"pass exactly one of {', '.join(names[:-1])} or {names[-1]}")
    kind = given[0]
    if kind == "synthetic":
        return DataSpec("synthetic")
    flag, validation = DATA_FLAGS[kind]
    return DataSpec(
        kind,
        flag_values[flag].value,
        flag_values[validation].value if validation else None,
        flag_values["tfds_data_dir"].value if kind == "tfds" else None,
    )


def check_local_data(spec: DataSpec) -> None:
    """A folder or CSV source (and its validation one) must exist before a run starts."""
    if spec.kind not in ("folder", "csv"):
        return
    exists = os.path.isdir if spec.kind == "folder" else os.path.isfile
    for location in (spec.location, spec.validation):
        if location is not None and not exists(location):
            what = "folder" if spec.kind == "folder" else "CSV file"
            raise ConfigError(f"{location}: no such {what}; check the path")


def from_flags(cls: type[T], flag_values, **given: Any) -> T:
    """`cls` with each field taken from the flag of its name (or `FLAG_NAMES`' alias),
    `given` values first; fields with neither keep their defaults."""
    kwargs = dict(given)
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = FLAG_NAMES.get(field.name, field.name)
        if field.name not in kwargs and name in flag_values:
            kwargs[field.name] = flag_values[name].value
    return cls(**kwargs)


def write_config(model_dir: str, **configs: Any) -> str:
    """Write ``{name: asdict(config)}`` to MODEL_DIR/config.json atomically; returns the path."""
    os.makedirs(model_dir, exist_ok=True)
    path = os.path.join(model_dir, CONFIG_FILE)
    payload = {name: dataclasses.asdict(config) for name, config in configs.items()}
    write_atomic(path, (json.dumps(payload, indent=1, sort_keys=True) + "\n").encode())
    return path


def read_config(model_dir: str, name: str, cls: type[T]) -> T:
    """The `name` section of MODEL_DIR/config.json as `cls` (nested dataclasses rebuilt)."""
    with open(os.path.join(model_dir, CONFIG_FILE)) as f:
        return _build(cls, json.load(f)[name])


def _build(cls, values: dict):
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        value = values[field.name]
        hint = hints[field.name]
        for candidate in typing.get_args(hint) or (hint,):
            if dataclasses.is_dataclass(candidate) and isinstance(value, dict):
                value = _build(candidate, value)
        kwargs[field.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)
