"""The video settings' defaults, ranges and checks, light to import (the command line's help
reads them without loading PyAV, OpenCV or numpy). A bad value raises `OptionError` naming
the setting, so the command line can spell it as its flag."""

from __future__ import annotations

from pathlib import Path

from style_plugin.runtime.options import OptionError

__all__ = [
    "ANIMATION_SUFFIXES",
    "CLIP_SUFFIXES",
    "CRF_RANGE",
    "DEFAULT_CRF",
    "DEFAULT_HOLD",
    "check_crf",
    "check_hold",
    "is_clip",
]

#: File suffixes read as video clips.
CLIP_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"})
#: Image suffixes read as clips when the file holds more than one frame (an animation).
ANIMATION_SUFFIXES = frozenset({".gif", ".webp"})
#: How strongly strokes are held by default: the share of the carried strokes in each new
#: frame where the motion is fully reliable (docs/usage.md, Without flicker).
DEFAULT_HOLD = 1.0
#: Constant-rate-factor quality: lower is better and larger; 18 looks like the input.
DEFAULT_CRF = 18
#: The quality values taken (x264's scale; VP9's goes further, to 63).
CRF_RANGE = (0, 51)


def is_clip(path: str | Path) -> bool:
    """Whether `path` names a video clip, by its suffix."""
    return Path(path).suffix.lower() in CLIP_SUFFIXES


def check_hold(hold: float) -> float:
    """`hold`, or OptionError unless it is a number within 0..1."""
    if not (isinstance(hold, int | float) and 0 <= hold <= 1):  # NaN fails too
        raise OptionError("{0} must be between 0 and 1, got {value}", "hold", value=hold)
    return float(hold)


def check_crf(crf: int) -> int:
    """`crf`, or OptionError unless it is a whole number within `CRF_RANGE`."""
    low, high = CRF_RANGE
    if not (isinstance(crf, int) and low <= crf <= high):
        raise OptionError(
            "{0} must be within {low}..{high}, not {value}", "crf", low=low, high=high, value=crf
        )
    return crf
