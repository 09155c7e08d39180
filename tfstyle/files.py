"""Writing files so that a failure never leaves a partial one behind, and refusing
unwritable outputs before any work starts."""

from __future__ import annotations

import os
import tempfile

from tfstyle.errors import ConfigError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    The file gets the usual permissions (0666 less the umask), not mkstemp's 0600.
    """
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".tfstyle-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_writable(path: str | os.PathLike, option: str = "--output", *, extension: str = "") -> str:
    """Refuse, before any work, an output that could not be written: a folder given as a
    file, a missing or unwritable folder, or (with `extension`) a wrong file type."""
    path = os.fspath(path)
    if os.path.isdir(path):
        example = os.path.join(path, "out" + (extension or ".png"))
        raise ConfigError(f"{option} {path}: is a folder; pass a file name such as {example}")
    if extension and not path.lower().endswith(extension):
        raise ConfigError(f"{option} {path}: use a {extension} file name")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ConfigError(f"{option} {path}: folder {parent} does not exist; create it first")
    check_folder_writable(parent, option)
    return path


def check_folder_writable(folder: str, option: str = "--output") -> None:
    """Create and remove a temporary file in `folder` (permissions, read-only or immutable
    file systems, quotas: whatever would stop the real write)."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".tfstyle-probe-"):
            pass
    except OSError as e:
        raise ConfigError(
            f"{option}: cannot write in {folder} ({e.strerror}); choose a writable folder"
        ) from None
