"""Where style models come from: what plugins registered, then the user's model folder.

The bundled models and the styles of style packs are registered through the plugin system
(style_plugin/plugins.py; the built-in plugin registers the bundled ones), which this store
asks on first use, whatever path the caller imported it by. `discover_models()` lists model
files with their source; `find_model(style)` opens the one that holds a style (or the
default model). Broken files are reported by `list_styles`, not fatal: one bad download must
not hide the other styles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from style_plugin.errors import ModelError, StylePluginError
from style_plugin.plugins import ModelEntry, style_entries
from style_plugin.runtime.model import StyleModel, load_model, parse_style_mix
from style_plugin.runtime.paths import user_models_dir
from style_plugin.runtime.session import SessionSettings

__all__ = [
    "ModelEntry",
    "StoreListing",
    "bundled_model_files",
    "bundled_models_dir",
    "discover_models",
    "find_model",
    "list_styles",
]


@dataclass(frozen=True)
class StoreListing:
    """The loadable models, and the files that failed to load with the reason why."""

    models: list[tuple[ModelEntry, StyleModel]]
    broken: list[tuple[ModelEntry, str]]


def bundled_models_dir() -> Path:
    """The style models shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "data" / "models"


def _model_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.glob("*.onnx")) if p.is_file()]


def bundled_model_files() -> list[Path]:
    """The .onnx files shipped in the package (the built-in plugin registers these)."""
    return _model_files(bundled_models_dir())


def _folder_entries(folder: Path, source: str) -> list[ModelEntry]:
    return [ModelEntry(p, source) for p in _model_files(folder)]


def _options(settings: SessionSettings | None) -> dict[str, object]:
    settings = settings or SessionSettings()
    return {"device": settings.device, "threads": settings.threads}


def discover_models(extra: Iterable[ModelEntry] = ()) -> list[ModelEntry]:
    """Bundled and plugin models first (the default is the first bundled one), then the
    user's folder, then `extra`."""
    return [*style_entries(), *_folder_entries(user_models_dir(), "user"), *extra]


def list_styles(
    settings: SessionSettings | None = None, extra: Iterable[ModelEntry] = ()
) -> StoreListing:
    """Every discoverable model, loaded, plus the ones that could not be (with the reason)."""
    models, broken = [], []
    for entry in discover_models(extra):
        try:
            models.append((entry, load_model(entry.path, **_options(settings))))
        except StylePluginError as exc:
            broken.append((entry, str(exc)))
    return StoreListing(models, broken)


def find_model(
    style: str | Mapping[str, float] | None,
    settings: SessionSettings | None = None,
    extra: Iterable[ModelEntry] = (),
) -> StyleModel:
    """The first model holding every style named in `style` (None: the first model found)."""
    entries = discover_models(extra)
    if not entries:
        raise ModelError(
            "no style model installed: pass --model FILE.onnx, or export one with "
            f"`style-plugin export` into {user_models_dir()}"
        )
    names = set(parse_style_mix(style)) if style is not None else set()
    known: list[str] = []
    for entry in entries:
        try:
            model = load_model(entry.path, **_options(settings))
        except StylePluginError:
            continue  # reported by `style-plugin models`; other models may still serve
        if names <= set(model.style_names):
            return model
        known += model.style_names
    if not known:
        raise ModelError("no style model could be loaded; run `style-plugin models` to see why")
    wanted = ", ".join(sorted(names))
    raise ModelError(
        f"unknown style {wanted!r} (a mix must come from one model); known styles: "
        f"{', '.join(dict.fromkeys(known))}"
    )
