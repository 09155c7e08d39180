"""Errors that reach users: each message is one line naming the problem and the fix."""


class TfstyleError(Exception):
    """Base class of every error the CLI reports as a one-line message (exit code 2)."""


class ImageError(TfstyleError, ValueError):
    """An input image cannot be used (unreadable, truncated, too large, too small, ...)."""


class WeightsError(TfstyleError, OSError):
    """Weights cannot be found, downloaded, or verified."""


class ConfigError(TfstyleError, ValueError):
    """A setting is invalid (unknown layer, negative weight, ...)."""
