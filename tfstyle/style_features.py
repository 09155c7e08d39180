"""Encoded styles that outlive one call: `StyleFeatures` and its ``.npz`` file.

A style is encoded once (`Stylizer.encode_style`) and reused for any number of
contents; ``tfstyle stylize --save-style-features`` writes it and
``--style-features`` reads it back.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from typing import Any

import numpy as np

from tfstyle.errors import ConfigError
from tfstyle.files import write_atomic

#: Format tag stored in every file; a file without it is refused.
FORMAT = "tfstyle-sanet-1"
#: Extension of style-feature files.
EXTENSION = ".npz"


@dataclasses.dataclass
class StyleFeatures:
    """relu4_1 [N, h, w, 512] and relu5_1 [N, ⌈h/2⌉, ⌈w/2⌉, 512] features of style images."""

    relu4_1: Any  # tf.Tensor or np.ndarray
    relu5_1: Any

    def save(self, path: str) -> None:
        """Write to an ``.npz`` file atomically."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            relu4_1=np.asarray(self.relu4_1, np.float32),
            relu5_1=np.asarray(self.relu5_1, np.float32),
            format=np.array(FORMAT),
        )
        write_atomic(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str) -> StyleFeatures:
        """Read a file written by `save`; one-line `ConfigError` for anything else."""
        import tensorflow as tf

        try:
            with np.load(path) as data:
                if str(data.get("format", "")) != FORMAT:
                    raise ValueError("not a tfstyle style-features file")
                return cls(tf.constant(data["relu4_1"]), tf.constant(data["relu5_1"]))
        except FileNotFoundError:
            raise ConfigError(
                f"{path}: no such style-features file; write one with --save-style-features"
            ) from None
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise ConfigError(
                f"{path}: cannot read style features ({e}); re-create it with --save-style-features"
            ) from None
