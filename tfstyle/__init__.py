"""tfstyle: neural style transfer for TensorFlow/Keras, aware of portraits and depth.

    import tfstyle
    image = tfstyle.stylize("me.jpg", "wave.jpg", model="magenta", strength=0.8)
    image = tfstyle.portrait("me.jpg", "wave.jpg", model="magenta", output="portrait.jpg")
    network = tfstyle.load_network("magenta")           # a tfstyle.models.base.StyleNetwork

The functions, `Settings` and `Pipeline` are imported on first use, so ``import
tfstyle`` (and ``tfstyle --help``) loads no TensorFlow.
"""

__version__ = "0.1.0"

_LAZY = {
    "stylize": "tfstyle.api",
    "portrait": "tfstyle.api",
    "load_network": "tfstyle.api",
    "Settings": "tfstyle.settings",
    "PortraitSettings": "tfstyle.portraits.settings",
    "Pipeline": "tfstyle.pipeline",
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'tfstyle' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
