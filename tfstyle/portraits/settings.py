"""Settings of portrait mode (Berezin & Volkova 2019): the regions' controls, blending,
feathering, faces and crops (no TensorFlow)."""

from __future__ import annotations

import dataclasses
import math

from tfstyle.checks import check_alpha, check_level_weights
from tfstyle.errors import ConfigError

#: ``auto``: ``feature`` for SANet, ``pixel`` for Magenta (measured: benchmarks/portrait_quality.py).
BLENDS = ("auto", "feature", "pixel")
#: The portrait's regions; the face is optional (no face found, or none asked for).
REGIONS = ("person", "background", "face")
#: Face regions a portrait can protect (the outlines are `tfstyle.portraits.faces.REGIONS`).
FACE_PARTS = ("oval", "eyes", "brows", "lips")
#: Largest feather (σ as a fraction of the shorter side): keeps the Gaussian's
#: radius (4σ) inside the image, as reflect padding needs.
MAX_FEATHER = 0.2
#: Sides the face crop may be stylized at (pixels): below, a face has too few pixels for any
#: network; above, more than the largest frame tfstyle stylizes in one piece.
FACE_CROP_SIDES = (64, 4096)


@dataclasses.dataclass(frozen=True)
class PortraitSettings:
    """Portrait mode: the regions' controls, blending, feathering, faces and crops.

    Defaults: the background fully stylized; the person at α 0.6 with the
    coarse relu5_1 level turned down (W2 0.3), which keeps faces recognisable.
    `feather` is the Gaussian σ of the mask's softening, as a fraction of the
    image's shorter side.
    """

    person_alpha: float = 0.6
    person_levels: tuple = (1.0, 0.3)
    background_alpha: float = 1.0
    background_levels: tuple = (1.0, 1.0)
    blend: str = "auto"
    feather: float = 0.01
    #: the third region, the face's features (`tfstyle.portraits.faces.REGIONS` parts), where faces are found
    face_alpha: float = 0.3
    face_levels: tuple = (1.0, 0.0)
    face_parts: tuple = ("oval",)
    #: stylize each face's box (plus 25 %) again on its own, fitted to `face_crop_side` pixels
    face_crop: bool = True
    #: the face crop's longer side: 256 keeps identity best for Magenta, small faces and large
    #: alike (FaceRes cosine 0.835 against 0.747 at the frame's 768, 0.691 without the crop;
    #: BENCHMARKS.md, "Faces: identity")
    face_crop_side: int = 256
    #: find faces (MediaPipe BlazeFace + Face Mesh) for the face region; False: two regions
    faces: bool = True
    #: crop mode: the person's box stylized again on its own at the working size
    person_crop: bool = False
    #: ``tflite[:PATH]`` (MediaPipe's selfie segmenter) or ``segnet:PATH``
    segmenter: str = "tflite"

    def validate(self) -> None:
        if self.blend not in BLENDS:
            raise ConfigError(f"unknown blend {self.blend!r}; use auto, feature or pixel")
        for name in ("person_alpha", "background_alpha", "face_alpha"):
            check_alpha(getattr(self, name), name)
        for name in ("person_levels", "background_levels", "face_levels"):
            check_level_weights(getattr(self, name), name)
        unknown = set(self.face_parts) - set(FACE_PARTS)
        if unknown or not self.face_parts:
            raise ConfigError(
                f"face parts {', '.join(sorted(unknown)) or '(none)'}: use some of {', '.join(FACE_PARTS)}"
            )
        low, high = FACE_CROP_SIDES
        if not low <= int(self.face_crop_side) <= high:
            raise ConfigError(f"face crop side must be in [{low}, {high}] pixels, got {self.face_crop_side}")
        if not math.isfinite(self.feather) or not 0.0 <= self.feather <= MAX_FEATHER:
            raise ConfigError(f"feather must be in [0, {MAX_FEATHER}], got {self.feather}")


def portrait_settings_from(values) -> PortraitSettings:
    """Validated `PortraitSettings` from any object with attributes of its field names: the
    CLI's parsed arguments or the export programs' absl flags."""
    settings = PortraitSettings(
        person_alpha=float(values.person_alpha),
        person_levels=tuple(float(v) for v in values.person_levels),
        background_alpha=float(values.background_alpha),
        background_levels=tuple(float(v) for v in values.background_levels),
        blend=values.blend,
        feather=float(values.feather),
        face_alpha=float(getattr(values, "face_alpha", PortraitSettings.face_alpha)),
        face_levels=tuple(float(v) for v in getattr(values, "face_levels", PortraitSettings.face_levels)),
        face_parts=tuple(getattr(values, "face_parts", PortraitSettings.face_parts)),
        face_crop=not getattr(values, "no_face_crop", not PortraitSettings.face_crop),
        face_crop_side=int(getattr(values, "face_crop_side", PortraitSettings.face_crop_side)),
        faces=not getattr(values, "no_faces", not PortraitSettings.faces),
        person_crop=bool(getattr(values, "person_crop", PortraitSettings.person_crop)),
        segmenter=getattr(values, "segmenter", PortraitSettings.segmenter),
    )
    settings.validate()
    return settings


def check_network_settings(spec, settings: PortraitSettings) -> None:
    """Refuse portrait settings network `spec` cannot honour (one line, before any work)."""
    if not spec.portrait:
        raise ConfigError(f"the {spec.name} network has no portrait mode (its regions need strength < 1)")
    if spec.level_weights:
        return
    defaults = PortraitSettings()
    if any(getattr(settings, f"{r}_levels") != getattr(defaults, f"{r}_levels") for r in REGIONS):
        raise ConfigError(
            f"level weights are SANet's; the {spec.name} network's regions differ by strength only"
        )
