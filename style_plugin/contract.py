"""The style-model file contract, written once: what an exporter writes and the runtime reads.

A style model is one ONNX file with the inputs and outputs named below and `style_plugin.*`
metadata (docs/style-model.md). The exporter (exporters/onnx.py) and the runtime
(style_plugin/runtime/model.py) both take every name, key and version from here, and so
would a second exporter. Plain Python only: no torch, no onnxruntime.
"""

from __future__ import annotations

import dataclasses
import json
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
    "METADATA_PREFIX",
    "NORM_STATS",
    "NORM_STATS_MIX",
    "STYLE_WEIGHTS",
    "STYLIZED",
    "TILING_SCHEME",
    "ModelMetadata",
    "layer_stats_name",
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


def layer_stats_name(layer: int) -> str:
    """The output that holds normalisation layer `layer`'s own statistics."""
    return f"{LAYER_STATS_PREFIX}{layer}"


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
        (a model from elsewhere may carry none of them), except a malformed style list."""
        values: dict[str, Any] = {}
        for item in dataclasses.fields(cls):
            text = properties.get(METADATA_PREFIX + item.name)
            if text is None:
                continue
            parse = _PARSERS.get(item.name, str)
            try:
                values[item.name] = parse(text)
            except (TypeError, ValueError, KeyError):
                if item.name == "styles":
                    raise ValueError(f"metadata '{METADATA_PREFIX}styles' is malformed") from None
        return cls(**values)


def _styles(text: str) -> list[dict[str, str]]:
    """[{"name", "label"}, ...] from the stored JSON; a missing label is the name."""
    listed = json.loads(text)
    if not isinstance(listed, list):
        raise ValueError(text)
    return [{"name": str(s["name"]), "label": str(s.get("label") or s["name"])} for s in listed]


def _object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(text)
    return value


_JSON = {"styles", "training"}
_PARSERS = {"styles": _styles, "training": _object, "min_side": int, "format_version": int}
