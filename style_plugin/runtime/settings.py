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
from typing import Any

from style_plugin.runtime.options import OptionError

__all__ = ["DEFAULT_SCALE", "DEFAULT_STRENGTH", "StyleSettings"]

#: How much of the stylized image, blended over the original, by default: judged blind, 0.8
#: keeps the style likeness of 1.0 and keeps the photo more recognisable (docs/results.md).
DEFAULT_STRENGTH = 0.8
#: Strokes as on a 1024 px image, whatever the image's size (runtime/scale.py).
DEFAULT_SCALE = 1.0


@dataclass(frozen=True)
class StyleSettings:
    """What is asked of a style model besides the style, checked when made.

    `strength` blends with the original (0..1: 0 the original, 1 the model's output alone);
    `preserve_colors` keeps the original's colours and takes only the stylized luminance;
    `scale` sets the stroke size relative to the image (1: as on a 1024 px image at any
    size; 2: twice as large; 0: the model's own pixel size at full resolution); `max_side`
    scales the image down first to at most that long side (0 or None: full size, kept as
    None).
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
        if not (_is_number(self.scale) and math.isfinite(self.scale) and self.scale >= 0):
            raise OptionError(
                "{0} must be 0 (full resolution) or more, got {value}", "scale", value=self.scale
            )
        if self.max_side is not None and not (_is_number(self.max_side) and self.max_side >= 0):
            raise OptionError(
                "{0} must be a number of pixels, or 0 for full size; got {value}",
                "max_side",
                value=self.max_side,
            )
        object.__setattr__(self, "max_side", self.max_side or None)

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
