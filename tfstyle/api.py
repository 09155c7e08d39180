"""The Python front door: ``tfstyle.stylize``, ``tfstyle.portrait``, ``tfstyle.load_network``.

Images are paths, file bytes, PIL images or arrays ([H, W, 3] uint8, or floats in
[0, 1]); results are float32 arrays [H, W, 3] in [0, 1] at the fitted size, also
written to `output` when it is given. Each call builds a `tfstyle.pipeline.Pipeline`
from a `tfstyle.settings.Settings`, as the command line does, so the same options
give the same picture as ``tfstyle stylize`` and ``tfstyle portrait``; loaded networks
are kept for the next call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import numpy as np

from tfstyle.portraits.settings import PortraitSettings
from tfstyle.settings import DEFAULT_MAX_SIZE, Settings


def load_network(name: str = "sanet", weights: Optional[str] = None, precision: str = "auto", **options):
    """A feed-forward network (`tfstyle.models.base.StyleNetwork`): ``"sanet"``, ``"magenta"``
    or ``"builtin"``, with its weights (a folder; None: the default place; ``"random"``: tests)
    at a precision word (``auto``, ``fast``, ``float32``, ``bfloat16``, ``float16``).
    ``auto`` is measured on these weights once per machine (`tfstyle.precision`);
    ``network.precision_choice`` says what it picked and why.

    >>> network = tfstyle.load_network("magenta")                     # doctest: +SKIP
    >>> image = network.stylize(photo, painting, strength=0.8)       # doctest: +SKIP
    >>> print(network.precision_choice.describe())                   # doctest: +SKIP
    precision auto -> float32: float32 (no faster plan reached 46.5 dB on the probe; cached)
    """
    from tfstyle.models.registry import load_network as load

    return load(name, weights, precision, **options)


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _settings(model, style, *, builtin_style, portrait=None, **values) -> Settings:
    builtin = _as_tuple(builtin_style)
    styles = _as_tuple(style)
    features = tuple(s for s in styles if isinstance(s, str) and s.endswith(".npz"))
    return Settings(
        model="builtin" if builtin else model,
        styles=tuple(s for s in styles if s not in features) if features else styles,
        style_features=features,
        builtin_styles=builtin,
        portrait=portrait,
        **values,
    )


def _run(settings: Settings, content, output: Optional[str]) -> np.ndarray:
    from tfstyle import image as image_lib
    from tfstyle.pipeline import Pipeline

    pipeline = Pipeline(settings)  # the network is shared with earlier calls (registry.shared_network)
    if output is not None:
        image_lib.check_output_path(output, "output")
    source = content if isinstance(content, np.ndarray) or hasattr(content, "convert") else None
    photo = image_lib.as_array(source) if source is not None else image_lib.load_image(content)
    result = pipeline(photo)
    if output is not None:
        image_lib.save_image(output, result)
    return result


def stylize(
    content,
    style=None,
    *,
    model: str = "sanet",
    strength: float = 1.0,
    style_weights: Optional[Sequence[float]] = None,
    masks: Sequence = (),
    level_weights: Sequence[float] = (1.0, 1.0),
    preserve_color: Optional[str] = None,
    builtin_style=None,
    weights: Optional[str] = None,
    precision: str = "auto",
    max_size: int = DEFAULT_MAX_SIZE,
    output: Optional[str] = None,
) -> np.ndarray:
    """`content` stylized by `style` (an image, a list of images to mix, or ``.npz`` files of
    encoded styles) or by `builtin_style` (0-25, or a list), as ``tfstyle stylize``.

    >>> import tfstyle
    >>> image = tfstyle.stylize("examples/grace_hopper.jpg", "examples/hokusai_great_wave.jpg",
    ...                         model="magenta", strength=0.8, max_size=256)
    >>> image.shape, image.dtype
    ((256, 197, 3), dtype('float32'))
    """
    settings = _settings(
        model,
        style,
        builtin_style=builtin_style,
        strength=strength,
        style_weights=None if style_weights is None else tuple(style_weights),
        masks=tuple(masks),
        level_weights=tuple(level_weights),
        preserve_color=preserve_color,
        weights=weights,
        precision=precision,
        max_size=max_size,
    )
    return _run(settings, content, output)


def portrait(
    content,
    style,
    *,
    model: str = "sanet",
    settings: Optional[PortraitSettings] = None,
    weights: Optional[str] = None,
    precision: str = "auto",
    max_size: int = DEFAULT_MAX_SIZE,
    output: Optional[str] = None,
    **portrait_options,
) -> np.ndarray:
    """`content` stylized in portrait mode, as ``tfstyle portrait``: the person segmented and
    stylized gently, the faces gentler still (and stylized again at full resolution), the
    background fully. `portrait_options` are `PortraitSettings` fields (``person_alpha=0.5``,
    ``faces=False``, ``person_crop=True``, ...), or pass a whole `settings`.

    >>> import tfstyle
    >>> image = tfstyle.portrait("examples/grace_hopper.jpg", "examples/hokusai_great_wave.jpg",
    ...                          model="magenta", person_alpha=0.5, max_size=256)
    >>> image.shape
    (256, 197, 3)
    """
    import dataclasses

    chosen = dataclasses.replace(settings or PortraitSettings(), **portrait_options)
    values = dict(weights=weights, precision=precision, max_size=max_size)
    return _run(_settings(model, style, builtin_style=None, portrait=chosen, **values), content, output)
