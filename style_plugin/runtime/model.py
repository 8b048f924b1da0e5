"""A style model file as hosts see it: its styles, metadata, and a ready session.

`load_model(path)` checks the file against the style-model contract (style_plugin/contract.py,
docs/style-model.md): ONNX that onnxruntime loads, inputs `image` [N,3,H,W] and
`style_weights` [N,S], output `stylized`. Anything else is a one-line ModelError. Metadata
written by this project's exporter names the styles; a contract-conforming model from
elsewhere gets `style-1`, `style-2`, ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from style_plugin import contract
from style_plugin.contract import DEFAULT_MIN_SIDE, ModelMetadata
from style_plugin.errors import ModelError, one_line
from style_plugin.runtime.session import ModelSession, SessionSettings, open_session

__all__ = ["StyleInfo", "StyleModel", "load_model", "parse_style_mix", "split_source"]


@dataclass(frozen=True)
class StyleInfo:
    """One style a model holds: the name users type and the label hosts show."""

    name: str
    label: str


@dataclass(frozen=True)
class StyleModel:
    """A loaded style model: its styles and metadata, and the session that runs it."""

    path: Path
    styles: tuple[StyleInfo, ...]
    session: ModelSession = field(repr=False)
    preset: str | None = None
    precision: str | None = None
    min_side: int = DEFAULT_MIN_SIDE
    format_version: int | None = None
    package_version: str | None = None
    training: dict[str, Any] = field(default_factory=dict, repr=False)
    tiling: bool = False
    #: Channels of each normalisation layer, when the model reports every layer's statistics
    #: on its own (what lets tiling make the early layers' statistics exact); else empty.
    layer_channels: tuple[int, ...] = ()

    @property
    def style_names(self) -> list[str]:
        return [s.name for s in self.styles]

    @property
    def metadata(self) -> dict[str, Any]:
        """Everything hosts may show about the model, as plain JSON-able values."""
        return {
            "path": str(self.path),
            "styles": [{"name": s.name, "label": s.label} for s in self.styles],
            "preset": self.preset,
            "precision": self.precision,
            "min_side": self.min_side,
            "format_version": self.format_version,
            "package_version": self.package_version,
            "seamless_tiling": self.tiling,
            "normalisation_layers": len(self.layer_channels),
            "training": self.training,
            "provider": self.session.provider.used,
        }

    def style_weights(self, style: str | Mapping[str, float] | None) -> np.ndarray:
        """The [S] float32 mix for a style name, a 'a=0.7,b=0.3' mix, or a mapping.

        None picks the model's first style. A name may carry its source (`pack:name`, as
        `style-plugin models` lists it). Weights are normalised to sum to 1 (the contract
        wants convex mixes); unknown names raise ModelError listing the known ones.
        """
        names = self.style_names
        given = parse_style_mix(style) if style is not None else {names[0]: 1.0}
        mix: dict[str, float] = {}
        for name, value in given.items():
            bare = name if name in names else split_source(name)[1]
            mix[bare] = mix.get(bare, 0.0) + value
        unknown = [name for name in mix if name not in names]
        if unknown:
            raise ModelError(
                f"unknown style {unknown[0]!r} in {self.path.name}; known styles: "
                f"{', '.join(names)}"
            )
        weights = np.zeros(len(names), dtype=np.float32)
        for name, value in mix.items():
            weights[names.index(name)] += value
        return weights / weights.sum()


def split_source(name: str) -> tuple[str | None, str]:
    """('pack', 'ukiyo-e') from 'pack:ukiyo-e', (None, 'ukiyo-e') from a bare name: a source
    (a style pack's name, `bundled` or `user`) picks one of several styles of the same name."""
    source, colon, bare = name.rpartition(":")
    return (source, bare) if colon and source and bare else (None, name)


def parse_style_mix(style: str | Mapping[str, float]) -> dict[str, float]:
    """{'scream': 0.7, 'mosaic': 0.3} from 'scream=0.7,mosaic=0.3', 'scream', or a mapping.

    A bare name weighs 1. Weights must be finite and >= 0 with a positive sum.
    """
    if isinstance(style, Mapping):
        items = [(str(k).strip(), v) for k, v in style.items()]
    else:
        items = []
        for part in str(style).split(","):
            name, sep, value = part.partition("=")
            if not name.strip():
                raise ModelError(f"bad style {style!r}: use NAME or NAME=WEIGHT,NAME=WEIGHT")
            items.append((name.strip(), value if sep else 1.0))
    mix: dict[str, float] = {}
    for name, value in items:
        try:
            weight = float(value)
        except (TypeError, ValueError):
            raise ModelError(f"style weight for {name!r} is not a number: {value!r}") from None
        if not math.isfinite(weight) or weight < 0:
            raise ModelError(f"style weight for {name!r} must be >= 0, got {value!r}")
        mix[name] = mix.get(name, 0.0) + weight
    if not mix or sum(mix.values()) <= 0:
        raise ModelError(f"style mix {style!r} has no positive weight")
    return mix


def load_model(path: str | Path, *, device: str = "auto", threads: int = 0) -> StyleModel:
    """Open a style model file, check it keeps the contract, and read its metadata.

    `device` is auto|cuda|tensorrt|cpu (auto: CUDA when it really works here); `threads`
    caps onnxruntime's CPU threads (0: one per core). Sessions are cached per file.
    """
    try:
        settings = SessionSettings(device, threads)
    except ValueError as exc:
        raise ModelError(str(exc)) from None
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ModelError(f"style model {path} {what}")
    if path.stat().st_size == 0:
        raise ModelError(f"style model {path} is empty (0 bytes)")
    try:
        session = open_session(path, settings)
    except ModelError:
        raise
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise ModelError(
            f"{path} is not an ONNX model onnxruntime can load ({_short(exc)})"
        ) from None
    num_styles = _check_contract(path, session)
    try:
        meta = ModelMetadata.from_properties(session.session.get_modelmeta().custom_metadata_map)
    except ValueError as exc:
        raise ModelError(f"{path}: {exc}") from None
    tiling = (
        meta.tiling == contract.TILING_SCHEME
        and {contract.NORM_STATS, contract.NORM_STATS_MIX} <= session.input_names
        and contract.IMAGE_NORM_STATS in session.output_names
    )
    return StyleModel(
        path=path,
        styles=_styles(meta, num_styles, path),
        session=session,
        preset=meta.preset,
        precision=meta.precision,
        min_side=meta.min_side,
        format_version=meta.format_version,
        package_version=meta.package_version,
        training=meta.training,
        tiling=tiling,
        layer_channels=_layer_channels(session) if tiling else (),
    )


def _short(exc: BaseException) -> str:
    """onnxruntime's reason without its error-code prefix and C++ source location, escaped:
    it quotes node names and types from the file."""
    text = one_line(exc, limit=1000)
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    text = re.sub(r"^Load model from .*? failed:", "", text)
    if "onnxruntime_src" in text:
        text = text.rsplit(") ", 1)[-1]
    return contract.printable(text.strip()[:160])


def _check_contract(path: Path, session: ModelSession) -> int:
    """The number of styles S, after checking the contract's inputs and output."""
    inputs = {i.name: i for i in session.session.get_inputs()}
    wanted = (contract.IMAGE, contract.STYLE_WEIGHTS)
    missing = [f"input {name!r}" for name in wanted if name not in inputs]
    if contract.STYLIZED not in session.output_names:
        missing.append(f"output {contract.STYLIZED!r}")
    if missing:
        raise ModelError(
            f"{path} is not a style model: it lacks {', '.join(missing)} (see docs/style-model.md)"
        )
    image, weights = inputs[contract.IMAGE], inputs[contract.STYLE_WEIGHTS]
    if len(image.shape) != 4 or image.shape[1] not in (3, "3") or image.type != "tensor(float)":
        raise ModelError(f"{path} is not a style model: input 'image' must be float32 [N,3,H,W]")
    styles = weights.shape[1] if len(weights.shape) == 2 else None
    if not isinstance(styles, int) or styles < 1 or weights.type != "tensor(float)":
        raise ModelError(
            f"{path} is not a style model: input 'style_weights' must be float32 [N,S] with a fixed S"
        )
    if styles > contract.MAX_STYLES:
        raise ModelError(
            f"{path} declares {styles} styles; at most {contract.MAX_STYLES} are supported"
        )
    return styles


def _layer_channels(session: ModelSession) -> tuple[int, ...]:
    """The channels C of `layer_norm_stats_0`, `_1`, ... (each [N, 2C]), or () unless they
    are all there and together make up `image_norm_stats`."""
    widths = {value.name: (value.shape or [None])[-1] for value in session.session.get_outputs()}
    channels: list[int] = []
    while (name := contract.layer_stats_name(len(channels))) in widths:
        width = widths[name]
        if not isinstance(width, int) or width < 2 or width % 2:
            return ()
        channels.append(width // 2)
    return tuple(channels) if 2 * sum(channels) == widths[contract.IMAGE_NORM_STATS] else ()


def _styles(meta: ModelMetadata, count: int, path: Path) -> tuple[StyleInfo, ...]:
    """The styles the metadata names (`style-1`, ... when it names none), one per column."""
    if meta.styles is None:
        return tuple(StyleInfo(f"style-{i + 1}", f"Style {i + 1}") for i in range(count))
    styles = tuple(StyleInfo(s["name"], s["label"]) for s in meta.styles)
    if len(styles) != count or len({s.name for s in styles}) != count:
        raise ModelError(
            f"{path}: metadata names {len(styles)} style(s) but the model takes {count}"
        )
    return styles
