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
from style_plugin.runtime.model import StyleModel, load_model, parse_style_mix, split_source
from style_plugin.runtime.session import SessionSettings
from style_plugin.user_dirs import user_models_dir

__all__ = [
    "ModelEntry",
    "StoreListing",
    "bundled_model_files",
    "bundled_models_dir",
    "discover_models",
    "find_model",
    "list_styles",
    "style_clashes",
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
    """The first model holding every style named in `style` (None: the first model found).

    A name may carry its source (`pack:name`) to pick among models that share a style name.
    An unknown name is named in the error; so are names that exist only in different models
    (a mix must come from one model).
    """
    entries = discover_models(extra)
    if not entries:
        raise ModelError(
            "no style model installed: pass --model FILE.onnx, or export one with "
            f"`style-plugin export` into {user_models_dir()}"
        )
    wanted = list(parse_style_mix(style)) if style is not None else []
    loaded: list[tuple[ModelEntry, StyleModel]] = []
    for entry in entries:
        try:
            model = load_model(entry.path, **_options(settings))
        except StylePluginError:
            continue  # reported by `style-plugin models`; other models may still serve
        if all(_holds(entry, model, name) for name in wanted):
            return model
        loaded.append((entry, model))
    if not loaded:
        raise ModelError("no style model could be loaded; run `style-plugin models` to see why")
    known = ", ".join(dict.fromkeys(n for _, model in loaded for n in model.style_names))
    for name in wanted:
        if not any(_holds(entry, model, name) for entry, model in loaded):
            raise ModelError(f"unknown style {name!r}; known styles: {known}")
    places = "; ".join(
        f"{name} in {next(e.path.name for e, m in loaded if _holds(e, m, name))}" for name in wanted
    )
    raise ModelError(
        f"a mix must come from one model, and these styles are not: {places} (a style added "
        "with its own trunk is a model of its own; one added with --trunk frozen mixes with "
        "the styles of the model it was added to)"
    )


def _holds(entry: ModelEntry, model: StyleModel, name: str) -> bool:
    """Whether the model holds style `name` (bare, or `source:name` from this entry's source)."""
    source, bare = split_source(name)
    if name in model.style_names:
        return True
    return source == entry.source and bare in model.style_names


def style_clashes(listing: StoreListing) -> dict[str, list[str]]:
    """Style names held by models of more than one source, with those sources in the order
    the store tries them (a bare name means the first; `source:name` picks another)."""
    sources: dict[str, list[str]] = {}
    for entry, model in listing.models:
        for name in model.style_names:
            found = sources.setdefault(name, [])
            if entry.source not in found:
                found.append(entry.source)
    return {name: found for name, found in sources.items() if len(found) > 1}
