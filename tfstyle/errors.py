"""Errors that reach users: each message is one line naming the problem and the fix."""

#: Exit status of every command for bad input (the CLI and the absl programs).
EXIT_BAD_INPUT = 2


class TfstyleError(Exception):
    """Base class of every error the CLI reports as a one-line message (exit code 2)."""


class ImageError(TfstyleError, ValueError):
    """An input image cannot be used (unreadable, truncated, too large, too small, ...)."""


class WeightsError(TfstyleError, OSError):
    """Weights cannot be found, downloaded, or verified."""


class ConfigError(TfstyleError, ValueError):
    """A setting is invalid (unknown layer, negative weight, ...)."""


class MissingExtraError(TfstyleError, ImportError):
    """An optional package is not installed; the message names the ``pip install`` line."""

    def __init__(self, package: str, extra: str, what: str):
        super().__init__(
            f"{what} needs {package}: pip install '{package}' (from a clone: pip install -e '.[{extra}]')"
        )
