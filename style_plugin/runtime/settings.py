"""How an image is stylized: `StyleSettings`, one value checked once, with the defaults.

Every way in (the Python API, the Stylize filter, a batch job, the Ray engine, the CLI)
passes one `StyleSettings` along, so a new setting is a field here with its check in
`__post_init__`, read where it takes effect: no signature on the way changes. A bad value
raises `OptionError` naming the setting apart from the message, so the CLI can spell it as
its flag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from style_plugin.runtime.options import OptionError

if TYPE_CHECKING:
    from PIL import Image

    from style_plugin.runtime.reading import SourceImage

__all__ = ["DEFAULT_SCALE", "DEFAULT_STRENGTH", "REFERENCE_SIDE", "SCALE_RANGE", "StyleSettings"]

#: How much of the stylized image, blended over the original, by default: judged blind, 0.8
#: keeps the style likeness of 1.0 and keeps the photo more recognisable (docs/results.md).
DEFAULT_STRENGTH = 0.8
#: Long side, in pixels, at which scale 1 runs the generator: the size where the bundled
#: styles show their strokes as trained (runtime/scale.py).
REFERENCE_SIDE = 1024
#: Strokes as on a 1024 px image, whatever the image's size.
DEFAULT_SCALE = 1.0
#: The stroke scales taken, for every way in (the Python API, the CLI, the Stylize filter's
#: schema): 0, the model's own pixel size at full resolution, to 8, where the generator
#: works at 128 px on the long side and larger strokes would be a few blotches.
SCALE_RANGE = (0.0, 8.0)


@dataclass(frozen=True)
class StyleSettings:
    """What is asked of a style model besides the style, checked when made.

    `strength` blends with the original (0..1: 0 the original, 1 the model's output alone);
    `preserve_colors` keeps the original's colours and takes only the stylized luminance;
    `scale` sets the stroke size relative to the image, within `SCALE_RANGE` (1: as on a
    1024 px image at any size; 2: twice as large; 0: the model's own pixel size at full
    resolution); `max_side` scales the image down first to at most that long side (0 or
    None: full size, kept as None).
    """

    strength: float = DEFAULT_STRENGTH
    preserve_colors: bool = False
    scale: float = DEFAULT_SCALE
    max_side: int | None = None

    def __post_init__(self) -> None:
        if not (_is_number(self.strength) and 0 <= self.strength <= 1):  # NaN fails too
            raise OptionError(
                "{0} must be between 0 and 1, got {value}", "strength", value=self.strength
            )
        low, high = SCALE_RANGE
        if not (_is_number(self.scale) and low <= self.scale <= high):  # NaN fails too
            raise OptionError(
                "{0} must be {low:g} (full resolution) to {high:g}, got {value}",
                "scale",
                low=low,
                high=high,
                value=self.scale,
            )
        if self.max_side is not None and not (_is_number(self.max_side) and self.max_side >= 0):
            raise OptionError(
                "{0} must be a number of pixels, or 0 for full size; got {value}",
                "max_side",
                value=self.max_side,
            )
        object.__setattr__(self, "max_side", self.max_side or None)

    def no_effect_on(self, image: Image.Image | SourceImage) -> list[str]:
        """What these settings ask for that changes nothing on `image`, one line each: a
        stroke scale, other than 0 and the default, on an image small enough to run at its
        own size at that scale as at the default (an image is never enlarged to run)."""
        longest = max(image.width, image.height)
        if self.max_side:
            longest = min(longest, self.max_side)
        own_size_either_way = longest * max(self.scale, DEFAULT_SCALE) <= REFERENCE_SIDE
        if self.scale in (0, DEFAULT_SCALE) or not own_size_either_way:
            return []
        own_size_up_to = math.floor(REFERENCE_SIDE / longest * 100) / 100
        scales = f"any scale up to {own_size_up_to:g}"
        if own_size_up_to >= SCALE_RANGE[1]:
            scales = "every scale"
        return [
            f"scale {self.scale:g} has no effect at {longest} px: {scales} runs it at its own size"
        ]

    @classmethod
    def from_call(cls, settings: StyleSettings | None = None, **changes: Any) -> StyleSettings:
        """What one call asks for: `settings` (None: the defaults) with keyword `changes`
        (strength=0.5, ...) made; TypeError for a keyword that names no setting."""
        unknown = sorted(set(changes) - set(cls.names()))
        if unknown:
            raise TypeError(
                f"unexpected keyword {unknown[0]!r}: not a setting "
                f"(the settings are {', '.join(cls.names())})"
            )
        base = cls() if settings is None else settings
        return replace(base, **changes) if changes else base

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StyleSettings:
        """The settings among a filter's parameter values; other keys (the style) are not
        settings, and settings missing from `params` keep their defaults."""
        return cls(**{name: params[name] for name in cls.names() if name in params})

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The settings' names, as keywords and filter parameters spell them."""
        return tuple(field.name for field in fields(cls))


def _is_number(value: object) -> bool:
    """Whether `value` is an int or a float."""
    return isinstance(value, int | float)
