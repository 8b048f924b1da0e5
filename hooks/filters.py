"""What a filter is to a host: a name, a label, a description, a parameter schema, and apply.

A host that knows nothing about a filter can still build its dialog from `Filter.params()`
(each `Param` says its type, range, default and choices) and call `apply` with the values
the user chose. `preview` is the cheap path for dialogs: the same filter on a scaled-down
copy. `Filter.describe()` gives the whole description as plain JSON-able data.
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from style_plugin.errors import FilterError

__all__ = ["PARAM_TYPES", "Cancel", "Choice", "Filter", "FilterError", "Param", "Progress"]

#: Parameter types hosts must be able to render.
PARAM_TYPES = ("float", "int", "bool", "choice", "string")

#: progress(done, total): called as work advances.
Progress = Callable[[int, int], None]
#: A cancel flag: a threading.Event, or a callable returning True to stop.
Cancel = threading.Event | Callable[[], bool]


@dataclass(frozen=True)
class Choice:
    """One value of a `choice` parameter and the label a host shows for it."""

    value: str
    label: str


@dataclass(frozen=True)
class Param:
    """One parameter of a filter: what a host needs to render a control for it.

    `minimum`/`maximum` bound numbers (inclusive), `step` suggests a slider increment,
    `choices` lists the values of a `choice` parameter.
    """

    name: str
    label: str
    type: str
    default: Any
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[Choice, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name!r}: type must be one of {PARAM_TYPES}")

    def to_dict(self) -> dict[str, Any]:
        """The schema entry as JSON-able data."""
        data: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "default": self.default,
            "description": self.description,
        }
        for key in ("minimum", "maximum", "step"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.type == "choice":
            data["choices"] = [{"value": c.value, "label": c.label} for c in self.choices]
        return data

    def coerce(self, value: Any) -> Any:
        """`value` (a Python value, or text from a command line) checked and converted."""
        try:
            converted = _CONVERTERS[self.type](value)
        except (TypeError, ValueError):
            raise FilterError(
                f"parameter {self.name!r} takes a {self.type}, not {value!r}"
            ) from None
        if self.type in ("float", "int"):
            low = -math.inf if self.minimum is None else self.minimum
            high = math.inf if self.maximum is None else self.maximum
            if not (low <= converted <= high):
                raise FilterError(f"parameter {self.name!r} must be {self._range()}, got {value!r}")
        if self.type == "choice" and self.choices:
            values = [c.value for c in self.choices]
            if converted not in values:
                raise FilterError(
                    f"parameter {self.name!r} must be one of {', '.join(values)}; got {value!r}"
                )
        return converted

    def _range(self) -> str:
        """'between 0 and 1', 'at least 2' or 'at most 9' (for a parameter with a bound)."""
        if self.minimum is not None and self.maximum is not None:
            return f"between {self.minimum:g} and {self.maximum:g}"
        if self.minimum is not None:
            return f"at least {self.minimum:g}"
        return f"at most {self.maximum:g}"


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _to_int(value: Any) -> int:
    number = _to_float(value)
    if number != int(number):
        raise ValueError(value)
    return int(number)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "float": _to_float,
    "int": _to_int,
    "bool": _to_bool,
    "choice": str,
    "string": str,
}


def cancel_check(cancel: Cancel | None) -> Callable[[], bool] | None:
    """A callable for either form of cancel flag (or None)."""
    if cancel is None:
        return None
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


class Filter(ABC):
    """A filter hosts can show and run. Subclasses set the three names and implement
    `params` and `run`; `apply` and `preview` validate parameters and call `run`."""

    name: str
    label: str
    description: str

    @abstractmethod
    def params(self) -> list[Param]:
        """The parameter schema (may depend on what is installed, e.g. style choices)."""

    @abstractmethod
    def run(
        self,
        image: Image.Image | np.ndarray,
        params: dict[str, Any],
        progress: Progress | None,
        cancel: Callable[[], bool] | None,
    ) -> Image.Image:
        """Filter `image` with complete, validated `params`."""

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults filled in, values checked and converted; unknown names are an error."""
        schema = {p.name: p for p in self.params()}
        given = dict(params or {})
        unknown = sorted(set(given) - set(schema))
        if unknown:
            raise FilterError(
                f"filter {self.name!r} has no parameter {unknown[0]!r}; "
                f"its parameters: {', '.join(schema)}"
            )
        return {
            name: param.coerce(given[name]) if name in given else param.default
            for name, param in schema.items()
        }

    def apply(
        self,
        image: Image.Image | np.ndarray,
        params: Mapping[str, Any] | None = None,
        *,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> Image.Image:
        """Filter a PIL image or numpy array with `params` (defaults for the rest)."""
        return self.run(image, self.resolve(params), progress, cancel_check(cancel))

    def preview(
        self,
        image: Image.Image | np.ndarray,
        params: Mapping[str, Any] | None = None,
        *,
        max_side: int = 512,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> Image.Image:
        """The filter's result at most `max_side` a side, fast enough for a dialog: the filter
        runs on `preview_input`'s copy (by default the image scaled down to `max_side`)."""
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image)
        values = self.resolve(params)
        result = self.run(
            self.preview_input(image, values, max_side), values, progress, cancel_check(cancel)
        )
        result.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return result

    def preview_input(
        self, image: Image.Image, values: dict[str, Any], max_side: int
    ) -> Image.Image:
        """The copy of `image` a preview filters: scaled down to `max_side`. A filter whose
        look depends on the image's size returns a larger one (the result is shrunk after)."""
        small = image.copy()
        small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return small

    def describe(self) -> dict[str, Any]:
        """Name, label, description and parameter schema as JSON-able data."""
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "params": [p.to_dict() for p in self.params()],
        }
