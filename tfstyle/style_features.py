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
        """Read a file written by `save`; one-line `ConfigError` for anything else."""
        import tensorflow as tf

        try:
            with np.load(path) as data:
                if str(data.get("format", "")) != FORMAT:
                    raise ValueError("not a tfstyle style-features file")
                relu4_1, relu5_1 = data["relu4_1"], data["relu5_1"]
                model, encoder = str(data.get("model", "sanet")), str(data.get("encoder", ""))
        except FileNotFoundError:
            raise ConfigError(
                f"{path}: no such style-features file; write one with --save-style-features"
            ) from None
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as e:
            reason = " ".join(str(e).split()) or type(e).__name__
            raise ConfigError(
                f"{path}: cannot read style features ({reason}); re-create it with --save-style-features"
            ) from None
        if (
            relu4_1.ndim != 4
            or relu5_1.shape[:1] + relu5_1.shape[3:] != relu4_1.shape[:1] + relu4_1.shape[3:]
        ):
            raise ConfigError(
                f"{path}: relu4_1 {list(relu4_1.shape)} and relu5_1 {list(relu5_1.shape)} do not "
                f"belong together; re-create it with --save-style-features"
            )
        return cls(tf.constant(relu4_1), tf.constant(relu5_1), model, encoder)

    def check_made_by(self, model: str, encoder: str, path: str = "style features") -> None:
        """Refuse features made by another model or encoder weights (when both are known)."""
        if self.model != model or (self.encoder and encoder and self.encoder != encoder):
            maker = f"model ({self.model})" if self.model != model else "encoder"
            raise ConfigError(
                f"{path}: made by another {maker} than the one loaded; re-create them with "
                f"--save-style-features and these weights"
            )
