"""The style-model file contract, written once: what an exporter writes and the runtime reads.

A style model is one ONNX file with the inputs and outputs named below and `style_plugin.*`
metadata (docs/style-model.md). The exporter (exporters/onnx.py) and the runtime
(style_plugin/runtime/model.py) both take every name, key and version from here, and so
would a second exporter. Plain Python only: no torch, no onnxruntime.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_MIN_SIDE",
    "FORMAT_VERSION",
    "IMAGE",
    "IMAGE_NORM_STATS",
    "IO_NOTES",
    "LAYER_NOTE",
    "LAYER_STATS_PREFIX",
    "MAX_JSON_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_MIN_SIDE",
    "MAX_STYLES",
    "MAX_TEXT_CHARS",
    "METADATA_PREFIX",
    "NORM_STATS",
    "NORM_STATS_MIX",
    "STYLE_WEIGHTS",
    "STYLIZED",
    "TILING_SCHEME",
    "ModelMetadata",
    "layer_stats_name",
    "printable",
    "style_problem",
]

#: Version of the contract, stored as metadata `style_plugin.format_version`.
FORMAT_VERSION = 1

#: The two inputs and the output every style model has.
IMAGE = "image"
STYLE_WEIGHTS = "style_weights"
STYLIZED = "stylized"
#: Optional inputs (graph inputs with stored defaults) and outputs that seamless tiling uses.
NORM_STATS = "norm_stats"
NORM_STATS_MIX = "norm_stats_mix"
IMAGE_NORM_STATS = "image_norm_stats"
#: Outputs `<prefix>0`, `<prefix>1`, ...: each normalisation layer's own statistics.
LAYER_STATS_PREFIX = "layer_norm_stats_"
#: The statistics layout a model declares in `style_plugin.tiling` when it has the above.
TILING_SCHEME = "norm_stats-v1"
#: Smallest side any exported preset accepts; a model may state a larger one in metadata.
DEFAULT_MIN_SIDE = 5

#: What each input and output holds, as stored in the file's doc strings.
IO_NOTES = {
    IMAGE: "RGB, float32 in [0,1], [N,3,H,W]",
    STYLE_WEIGHTS: "float32 [N,S]: per-sample convex mix of the styles",
    STYLIZED: "RGB, float32 in [0,1], [N,3,H,W], same size as image",
    NORM_STATS: "optional float32 [1 or N, 2K]: per-layer means then variances to use",
    NORM_STATS_MIX: "optional float32 [1]: 0 = own statistics (default), 1 = norm_stats",
    IMAGE_NORM_STATS: "float32 [N, 2K]: the statistics this image produced",
}
LAYER_NOTE = "float32 [N, 2C]: this normalisation layer's own means then variances"

#: Every metadata key is this prefix and a `ModelMetadata` field name.
METADATA_PREFIX = "style_plugin."

#: What a model may declare. Model files are untrusted input (docs/security.md): these bounds
#: keep reading one cheap, and real models stay far below them.
MAX_STYLES = 1024
#: Characters in a style's name or label, or in a plain (not JSON) metadata value.
MAX_TEXT_CHARS = 200
#: Characters in a JSON metadata value, and how deeply its lists and objects may nest.
MAX_JSON_CHARS = 1_000_000
MAX_JSON_DEPTH = 16
#: The largest `min_side` a model may state (the runtime pads smaller images up to it).
MAX_MIN_SIDE = 256


def layer_stats_name(layer: int) -> str:
    """The output that holds normalisation layer `layer`'s own statistics."""
    return f"{LAYER_STATS_PREFIX}{layer}"


def printable(text: str) -> str:
    """`text` with each character a terminal or text widget would obey rather than show
    (controls, format and bidi marks, line separators) written as its Python escape.

    Model files name their styles, and names reach terminals and dialogs. Backslashes stay
    as they are, so escaping twice changes nothing.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


@dataclass(frozen=True)
class ModelMetadata:
    """The `style_plugin.*` metadata of a style model, one field per key.

    `styles` is a list of {"name", "label"} in `style_weights` column order, `training` what
    the model was trained on (JSON objects in the file); the rest are plain strings there.
    """

    styles: list[dict[str, str]] | None = None
    preset: str | None = None
    min_side: int = DEFAULT_MIN_SIDE
    precision: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    package_version: str | None = None
    tiling: str | None = None
    format_version: int | None = None

    def to_properties(self) -> dict[str, str]:
        """The key-value strings an ONNX file stores (fields left None are not written)."""
        properties = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            text = json.dumps(value, sort_keys=True) if item.name in _JSON else str(value)
            properties[METADATA_PREFIX + item.name] = text
        return properties

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> ModelMetadata:
        """Read the file's key-value strings back; unreadable values fall back to defaults
        (a model from elsewhere may carry none of them), except a malformed style list.

        A value beyond the bounds above is a one-line ValueError naming the key, whatever
        the key: the file is not to be trusted.
        """
        values: dict[str, Any] = {}
        for item in dataclasses.fields(cls):
            key = METADATA_PREFIX + item.name
            text = properties.get(key)
            if text is None:
                continue
            parse = _PARSERS.get(item.name, _text)
            try:
                values[item.name] = parse(text)
            except _Refused as exc:
                raise ValueError(f"metadata {key!r} {exc}") from None
            except (TypeError, ValueError, KeyError):
                if item.name == "styles":
                    raise ValueError(f"metadata {key!r} is malformed") from None
        return cls(**values)


class _Refused(ValueError):
    """A metadata value beyond the contract's bounds; the message says how, after the key."""


def _bounded(text: str, limit: int) -> str:
    """`text`, refused when longer than `limit` characters."""
    if len(text) > limit:
        raise _Refused(f"is longer than {limit} characters")
    return text


def _text(text: str) -> str:
    """A plain value (preset, precision, ...): short text."""
    return _bounded(text, MAX_TEXT_CHARS)


def _integer(text: str) -> int:
    """A whole number, written as short text."""
    return int(_text(text))


def _min_side(text: str) -> int:
    """The stated minimum side, refused above MAX_MIN_SIDE (small images are padded up to
    it, so a huge one would make every run huge)."""
    side = _integer(text)
    if side > MAX_MIN_SIDE:
        raise _Refused(f"must be at most {MAX_MIN_SIDE} pixels")
    return side


#: What decides JSON nesting: strings (whose brackets do not count; an unterminated one runs
#: to the end) and brackets. Matching is linear in the text's length.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def _check_nesting(text: str) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH: json.loads recurses once per level,
    so a deep enough value would end in RecursionError."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        if token[0] in ("[", "{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise _Refused(f"nests deeper than {MAX_JSON_DEPTH} levels")
        elif token[0] in ("]", "}"):
            depth -= 1


def _json(text: str) -> Any:
    """A JSON value, after bounding its length and nesting."""
    _check_nesting(_bounded(text, MAX_JSON_CHARS))
    return json.loads(text)


def _styles(text: str) -> list[dict[str, str]]:
    """[{"name", "label"}, ...] from the stored JSON, at most MAX_STYLES of them."""
    listed = _json(text)
    if not isinstance(listed, list):
        raise ValueError("not a list")
    if len(listed) > MAX_STYLES:
        raise _Refused(f"lists {len(listed)} styles; at most {MAX_STYLES} are supported")
    return [_style(entry) for entry in listed]


def style_problem(name: str, label: str | None = None) -> str | None:
    """Why a model may not declare a style of this name and label (None: the name), or None
    if it may. Names are typed and printed everywhere, so they must be short and printable;
    labels only short (hosts escape them). The trainer and the exporter check with it too."""
    for what, value in (("name", name), ("label", name if label is None else label)):
        if len(value) > MAX_TEXT_CHARS:
            return f"style {what} longer than {MAX_TEXT_CHARS} characters"
    if not name.isprintable():
        return f"style name with characters that cannot be shown: {printable(name)}"
    return None


def _style(entry: Any) -> dict[str, str]:
    """One {"name", "label"}; a missing label is the name."""
    name = str(entry["name"])
    label = str(entry.get("label") or name)
    problem = style_problem(name, label)
    if problem:
        raise _Refused(f"has a {problem}")
    return {"name": name, "label": label}


def _object(text: str) -> dict[str, Any]:
    value = _json(text)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


_JSON = {"styles", "training"}
_PARSERS = {
    "styles": _styles,
    "training": _object,
    "min_side": _min_side,
    "format_version": _integer,
}
