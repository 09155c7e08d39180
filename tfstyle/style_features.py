"""Encoded styles that outlive one call, and their ``.npz`` file.

A style is encoded once and reused for any number of contents: SANet's
`StyleFeatures` (`SANetStylizer.encode_style`) or Magenta's `StyleVector`
(`MagentaStylizer.encode_style`). ``tfstyle stylize --save-style-features``
writes either and ``--style-features`` reads it back (`load_style`).
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
#: Format tag of Magenta style-vector files.
VECTOR_FORMAT = "tfstyle-style-vector-1"
#: Extension of style-feature files.
EXTENSION = ".npz"


class _Encoded:
    """What made an encoded style: the `model` and a fingerprint of its weights (`encoder`)."""

    model: str
    encoder: str

    def check_made_by(self, model: str, encoder: str, path: str = "style features") -> None:
        """Refuse what was made by another model or encoder weights (when both are known)."""
        if self.model != model or (self.encoder and encoder and self.encoder != encoder):
            maker = f"model ({self.model})" if self.model != model else "encoder"
            raise ConfigError(
                f"{path}: made by another {maker} than the one loaded; re-create them with "
                f"--save-style-features and these weights"
            )


@dataclasses.dataclass
class StyleFeatures(_Encoded):
    """relu4_1 [N, h, w, 512] and relu5_1 [N, ⌈h/2⌉, ⌈w/2⌉, 512] features of style images.

    `model` and `encoder` (a fingerprint of the encoder's weights) record what made
    them, so features are never fed to a network whose encoder did not make them.
    """

    relu4_1: Any  # tf.Tensor or np.ndarray
    relu5_1: Any
    model: str = "sanet"
    encoder: str = ""  # empty: unknown (features built inside exported graphs)

    def save(self, path: str) -> None:
        """Write to an ``.npz`` file atomically."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            relu4_1=np.asarray(self.relu4_1, np.float32),
            relu5_1=np.asarray(self.relu5_1, np.float32),
            format=np.array(FORMAT),
            model=np.array(self.model),
            encoder=np.array(self.encoder),
        )
        write_atomic(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str) -> StyleFeatures:
        """Read a SANet file written by `save`; one-line `ConfigError` for anything else."""
        loaded = load_style(path)
        loaded.check_made_by("sanet", "", path)
        assert isinstance(loaded, StyleFeatures)
        return loaded

    @classmethod
    def _from_arrays(cls, path: str, data: dict, model: str, encoder: str) -> StyleFeatures:
        import tensorflow as tf

        relu4_1, relu5_1 = data["relu4_1"], data["relu5_1"]
        if (
            relu4_1.ndim != 4
            or relu5_1.shape[:1] + relu5_1.shape[3:] != relu4_1.shape[:1] + relu4_1.shape[3:]
        ):
            raise ConfigError(
                f"{path}: relu4_1 {list(relu4_1.shape)} and relu5_1 {list(relu5_1.shape)} do not "
                f"belong together; re-create it with --save-style-features"
            )
        return cls(tf.constant(relu4_1), tf.constant(relu5_1), model, encoder)


@dataclasses.dataclass
class StyleVector(_Encoded):
    """Magenta style vectors [N, 100] (Ghiasi et al. 2017's S), with what made them."""

    vector: Any  # tf.Tensor or np.ndarray
    model: str = "magenta"
    encoder: str = ""

    def save(self, path: str) -> None:
        """Write to an ``.npz`` file atomically."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            vector=np.asarray(self.vector, np.float32),
            format=np.array(VECTOR_FORMAT),
            model=np.array(self.model),
            encoder=np.array(self.encoder),
        )
        write_atomic(path, buffer.getvalue())

    @classmethod
    def _from_arrays(cls, path: str, data: dict, model: str, encoder: str) -> StyleVector:
        vector = data["vector"]
        if vector.ndim != 2:
            raise ConfigError(
                f"{path}: style vector of shape {list(vector.shape)} is not [N, D]; "
                "re-create it with --save-style-features"
            )
        return cls(vector, model, encoder)


def load_style(path: str):
    """A `StyleFeatures` or `StyleVector` file, by its format tag; one-line `ConfigError` otherwise."""
    kinds: dict[str, type[StyleFeatures] | type[StyleVector]] = {
        FORMAT: StyleFeatures,
        VECTOR_FORMAT: StyleVector,
    }
    try:
        with np.load(path) as data:
            kind = kinds.get(str(data.get("format", "")))
            if kind is None:
                raise ValueError("not a tfstyle style-features file")
            arrays = {k: data[k] for k in data.files if k not in ("format", "model", "encoder")}
            default_model = "sanet" if kind is StyleFeatures else "magenta"
            model, encoder = str(data.get("model", default_model)), str(data.get("encoder", ""))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such style-features file; write one with --save-style-features"
        ) from None
    except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise ConfigError(
            f"{path}: cannot read style features ({reason}); re-create it with --save-style-features"
        ) from None
    try:
        return kind._from_arrays(path, arrays, model, encoder)
    except KeyError as e:
        raise ConfigError(f"{path}: missing {e}; re-create it with --save-style-features") from None
