"""The Python API: `Stylizer` holds a loaded style model; `stylize()` is the one-call form.

    from style_plugin import stylize
    stylize("photo.jpg", style="starry-night", strength=0.8).save("out.png")

Inputs are paths, PIL images or numpy arrays of any mode and size; the result is a PIL image
of the input's kind (greyscale stays greyscale, alpha comes back exactly). Big images run in
seamless tiles (runtime/tiling.py); tiny ones are padded up to the model's minimum side.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from style_plugin import contract
from style_plugin.errors import ModelError, StylePluginError
from style_plugin.runtime.dither import DITHER_LEVELS
from style_plugin.runtime.model import StyleModel, load_model
from style_plugin.runtime.pixels import blend, fit_max_side, preserve_colors, restore
from style_plugin.runtime.providers import ProviderReport
from style_plugin.runtime.reach import edge_reach
from style_plugin.runtime.reading import SourceImage, open_image
from style_plugin.runtime.scale import enlarge_with_detail, shrink, working_size
from style_plugin.runtime.session import ModelSession, SessionSettings, open_session
from style_plugin.runtime.settings import StyleSettings
from style_plugin.runtime.statistics import LayerProbe
from style_plugin.runtime.store import find_model
from style_plugin.runtime.tiling import (
    DEFAULT_OVERLAP,
    DEFAULT_TILE_SIZE,
    Finish,
    Infer,
    TileSettings,
    stylize_tiled,
    tile_spans,
)
from style_plugin.runtime.truncate import normalised_activation

__all__ = ["Stylizer", "stylize"]

Style = str | Mapping[str, float] | None
ImageInput = str | Path | Image.Image | np.ndarray


class Stylizer:
    """A style model ready to stylize many images: load once, call from any thread.

    `model` is a style model file, a loaded `StyleModel`, or None for the model that holds
    the requested style among the installed ones (bundled first, then the user's folder).
    `tile_size` bounds the pixels run at once (memory); `exact_tiles` brings tiled images
    closer to the untiled result (every layer's statistics exact, not only the first four's,
    at several times the time). `device` and `threads` choose where.
    """

    def __init__(
        self,
        model: str | Path | StyleModel | None = None,
        *,
        device: str = "auto",
        threads: int = 0,
        tile_size: int = DEFAULT_TILE_SIZE,
        overlap: int = DEFAULT_OVERLAP,
        exact_tiles: bool = False,
    ) -> None:
        try:
            self.settings = SessionSettings(device, threads)
            self.tiles = TileSettings(tile_size, min(overlap, tile_size // 2))
            if exact_tiles:
                self.tiles = replace(self.tiles, exact_layers=None)
        except ValueError as exc:
            raise StylePluginError(str(exc)) from None
        if isinstance(model, StyleModel):
            self._model: StyleModel | None = model
        elif model is not None:
            self._model = load_model(model, device=device, threads=threads)
        else:
            self._model = None

    def model_for(self, style: Style = None) -> StyleModel:
        """The model that will run `style`: the given one, or the installed one holding it."""
        if self._model is not None:
            return self._model
        return find_model(style, self.settings)

    def provider(self, style: Style = None) -> ProviderReport:
        """Which execution provider runs (and why not the one asked for)."""
        return self.model_for(style).session.provider

    def stylize(
        self,
        image: ImageInput,
        style: Style = None,
        settings: StyleSettings | None = None,
        *,
        allow_large: bool = False,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        **changes: Any,
    ) -> Image.Image:
        """Stylize a path, PIL image or array; returns a PIL image of the input's kind.

        `style` is a name, a mix ('scream=0.7,mosaic=0.3' or a mapping) or None for the
        model's first style. `settings` (default: `StyleSettings()`) say how, with keyword
        `changes` to them: `strength=0.5`, `preserve_colors=True`, `scale=2`, `max_side=2048`
        (`StyleSettings` says what each means). `allow_large` lifts Pillow's
        decompression-bomb guard.
        """
        chosen = StyleSettings.from_call(settings, **changes)
        source = open_image(image, allow_large=allow_large, draft_side=chosen.max_side)
        return self.stylize_source(source, style, chosen, progress=progress, cancel=cancel)

    def stylize_source(
        self,
        source: SourceImage,
        style: Style = None,
        settings: StyleSettings | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        **changes: Any,
    ) -> Image.Image:
        """`stylize` for an image already opened with `open_image` (batches decode ahead)."""
        chosen = StyleSettings.from_call(settings, **changes)
        source = fit_max_side(source, chosen.max_side)
        return restore(source, self._stylize_rgb(source.rgb, style, chosen, progress, cancel))

    def stylize_array(
        self,
        rgb: np.ndarray,
        style: Style = None,
        settings: StyleSettings | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        **changes: Any,
    ) -> np.ndarray:
        """Stylize an HxWx3 RGB array (uint8, uint16, or float32 in [0,1]); same dtype and
        size out, so `max_side` is refused: shrink the array first, or use `stylize`."""
        chosen = StyleSettings.from_call(settings, **changes)
        if chosen.max_side is not None:
            raise StylePluginError(
                "stylize_array keeps the array's size, so it takes no max_side; "
                "use stylize, or shrink the array first"
            )
        return self._stylize_rgb(rgb, style, chosen, progress, cancel)

    def _stylize_rgb(
        self,
        rgb: np.ndarray,
        style: Style,
        settings: StyleSettings,
        progress: Callable[[int, int], None] | None,
        cancel: Callable[[], bool] | None,
    ) -> np.ndarray:
        """Stylize HxWx3 values at their own size, at the stroke scale `settings` asks for."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise StylePluginError(f"expected an HxWx3 RGB array, got shape {rgb.shape}")
        working = working_size(rgb.shape[0], rgb.shape[1], settings.scale)
        model = self.model_for(style)
        weights = model.style_weights(style)
        if settings.strength == 0.0:
            return rgb.copy()
        finish = _finish(settings)
        if working is None:
            return self._run(model, weights, rgb, finish, progress, cancel)
        small = shrink(rgb, working)
        painted = self._run(model, weights, small, None, progress, cancel)
        return enlarge_with_detail(rgb, small, painted, finish, cancel, self.settings.threads)

    def _run(
        self,
        model: StyleModel,
        weights: np.ndarray,
        rgb: np.ndarray,
        finish: Finish | None,
        progress: Callable[[int, int], None] | None,
        cancel: Callable[[], bool] | None,
    ) -> np.ndarray:
        """The generator over `rgb` as it is, in tiles when it is large, with `EDGE_MARGIN`
        pixels of the picture mirrored around it (cropped off again), dithered
        (runtime/dither.py)."""
        height, width = rgb.shape[:2]
        margin = min(EDGE_MARGIN, height - 1, width - 1)
        if margin > 0:
            rgb = np.pad(rgb, ((margin, margin), (margin, margin), (0, 0)), mode="reflect")
        tiles = self.tiles
        tiled = len(tile_spans(rgb.shape[0], tiles.tile_size, tiles.overlap)) * len(
            tile_spans(rgb.shape[1], tiles.tile_size, tiles.overlap)
        )
        infer = _infer(model, weights, lean=tiled > 1)
        painted = stylize_tiled(
            rgb,
            infer,
            tiles,
            probe=_probe(model, weights) if tiled > 1 else None,
            finish=finish,
            progress=progress,
            cancel=cancel,
            shared_statistics=model.tiling,
            reach=_reach(model, infer) if tiled > 1 and model.tiling else 0,
            dither=DITHER_LEVELS,
        )
        return np.ascontiguousarray(painted[margin : margin + height, margin : margin + width])


#: Pixels of the picture mirrored around it for the model (and cropped off after). Models
#: learn to paint the edges of their training crops their own way, and some paint a strip
#: or a frame there; with the picture continued past its edge, that falls outside it.
EDGE_MARGIN = 32


def _finish(settings: StyleSettings) -> Finish | None:
    """Per-pixel post-processing of stylized rows: colour preservation, then strength, in
    place on the stylized rows."""
    strength, keep_colors = settings.strength, settings.preserve_colors
    if strength == 1.0 and not keep_colors:
        return None

    def finish(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if keep_colors:
            stylized = preserve_colors(original, stylized, out=stylized)
        return stylized if strength == 1.0 else blend(original, stylized, strength, out=stylized)

    return finish


#: `norm_stats_mix` = 1: normalise with the given statistics.
_ONE = np.ones(1, dtype=np.float32)


def _lean(session: ModelSession, until: str | None = None) -> ModelSession:
    """The session for tiled images: without onnxruntime's memory arena (docs/runtime.md),
    and with `until`, cut short after that output."""
    return open_session(session.path, replace(session.settings, memory_arena=False), until)


def _padded(batch: np.ndarray, min_side: int) -> np.ndarray:
    """`batch` with sides below `min_side` extended by repeating its edge pixels."""
    height, width = batch.shape[2:]
    pad_h, pad_w = max(0, min_side - height), max(0, min_side - width)
    if pad_h or pad_w:
        batch = np.pad(batch, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode="edge")
    return batch


def _infer(model: StyleModel, weights: np.ndarray, lean: bool = False) -> Infer:
    """Run the model on one [1,3,h,w] batch, padding sides below its minimum (edge pixels
    repeated) and cropping the result back; with statistics, normalise with them. `lean`
    (tiled images) runs on a session without onnxruntime's memory arena."""
    session = _lean(model.session) if lean else model.session
    wanted = [contract.STYLIZED, contract.IMAGE_NORM_STATS] if model.tiling else [contract.STYLIZED]
    style_weights = weights[None, :]

    def infer(batch: np.ndarray, stats: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        height, width = batch.shape[2:]
        feeds = {
            contract.IMAGE: _padded(batch, model.min_side),
            contract.STYLE_WEIGHTS: style_weights,
        }
        if stats is not None:
            feeds[contract.NORM_STATS] = stats
            feeds[contract.NORM_STATS_MIX] = _ONE
        outputs = session.run(wanted, feeds)
        stylized = _check_finite(outputs[0][:, :, :height, :width], model)
        return stylized, (outputs[1] if len(outputs) > 1 else None)

    return infer


def _check_finite(stylized: np.ndarray, model: StyleModel) -> np.ndarray:
    """`stylized`, or ModelError naming the model if any value is NaN or infinite: saved,
    those would pass for black pixels, and a broken model for a working one."""
    if not np.isfinite(stylized).all():
        raise ModelError(
            f"style model {model.path} gave values that are not finite (NaN or infinity); "
            "the model is broken"
        )
    return stylized


#: Each model file's reach (runtime/reach.py), measured once: (path, mtime, size) -> pixels.
_REACHES: dict[tuple[str, int, int], int] = {}


def _reach(model: StyleModel, infer: Infer) -> int:
    """How far a cut edge falsifies the model's result, in pixels (measured on first use)."""
    stat = model.path.stat()
    key = (str(model.path), stat.st_mtime_ns, stat.st_size)
    if key not in _REACHES:
        _REACHES[key] = edge_reach(infer)
    return _REACHES[key]


def _probe(model: StyleModel, weights: np.ndarray) -> LayerProbe | None:
    """Runs of the model cut short at the activation one normalisation layer normalises (lean
    sessions, opened once per layer on first use), or None when the model does not report its
    layers' statistics."""
    if not model.layer_channels:
        return None
    style_weights = weights[None, :]
    sessions: dict[int, tuple[ModelSession, str]] = {}

    def run(batch: np.ndarray, stats: np.ndarray, layer: int) -> np.ndarray:
        if layer not in sessions:
            output = normalised_activation(model.path, contract.layer_stats_name(layer))
            sessions[layer] = _lean(model.session, until=output), output
        session, output = sessions[layer]
        feeds = {
            contract.IMAGE: _padded(batch, model.min_side),
            contract.STYLE_WEIGHTS: style_weights,
            contract.NORM_STATS: stats,
            contract.NORM_STATS_MIX: _ONE,
        }
        wanted = {name: value for name, value in feeds.items() if name in session.input_names}
        return session.run([output], wanted)[0]

    return LayerProbe(model.layer_channels, run)


@functools.lru_cache(maxsize=8)
def _cached_stylizer(
    model: str | None, device: str, threads: int, tile_size: int, exact_tiles: bool
) -> Stylizer:
    return Stylizer(
        model, device=device, threads=threads, tile_size=tile_size, exact_tiles=exact_tiles
    )


def stylize(
    image: ImageInput,
    style: Style = None,
    settings: StyleSettings | None = None,
    *,
    model: str | Path | None = None,
    device: str = "auto",
    threads: int = 0,
    tile_size: int = DEFAULT_TILE_SIZE,
    exact_tiles: bool = False,
    allow_large: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    **changes: Any,
) -> Image.Image:
    """Stylize one image with an installed style (or `model`); returns a PIL image.

    See `Stylizer.stylize` for the settings and options; stylizers are cached, so calling
    this in a loop loads each model once.
    """
    chosen = StyleSettings.from_call(settings, **changes)  # a bad setting before any loading
    key = str(Path(model).resolve()) if model is not None else None
    stylizer = _cached_stylizer(key, device, threads, tile_size, exact_tiles)
    return stylizer.stylize(
        image, style, chosen, allow_large=allow_large, progress=progress, cancel=cancel
    )
