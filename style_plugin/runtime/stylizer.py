"""The Python API: `Stylizer` holds a loaded style model; `stylize()` is the one-call form.

    from style_plugin import stylize
    stylize("photo.jpg", style="starry-night", strength=0.8).save("out.png")

Inputs are paths, PIL images or numpy arrays of any mode and size; the result is a PIL image
of the input's kind (greyscale stays greyscale, alpha comes back exactly). Big images run in
seamless tiles (runtime/tiling.py); tiny ones are padded up to the model's minimum side.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from style_plugin import contract
from style_plugin.errors import ModelError, StylePluginError
from style_plugin.runtime.images import (
    SourceImage,
    blend,
    fit_max_side,
    open_image,
    preserve_colors,
    restore,
)
from style_plugin.runtime.model import StyleModel, load_model
from style_plugin.runtime.providers import ProviderReport
from style_plugin.runtime.scale import DEFAULT_SCALE, enlarge_with_detail, shrink, working_size
from style_plugin.runtime.session import ModelSession, SessionSettings, open_session
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

__all__ = ["DEFAULT_STRENGTH", "Stylizer", "stylize"]

#: How much of the stylized image, blended over the original, by default. Judged blind
#: against Magenta's network (docs/quality.md): 0.8 keeps the same style likeness as 1.0
#: and makes the photo more recognisable (4.4 against 3.6 of 5).
DEFAULT_STRENGTH = 0.8

Style = str | Mapping[str, float] | None
ImageInput = str | Path | Image.Image | np.ndarray


class Stylizer:
    """A style model ready to stylize many images: load once, call from any thread.

    `model` is a style model file, a loaded `StyleModel`, or None for the model that holds
    the requested style among the installed ones (bundled first, then the user's folder).
    `tile_size` bounds the pixels run at once (memory); `exact_tiles` makes tiled images
    reproduce the untiled result (every layer's statistics exact, at 2-4x the time of the
    default, which makes the first four layers' exact). `device` and `threads` choose where.
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
        *,
        strength: float = DEFAULT_STRENGTH,
        preserve_colors: bool = False,
        scale: float = DEFAULT_SCALE,
        max_side: int | None = None,
        allow_large: bool = False,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> Image.Image:
        """Stylize a path, PIL image or array; returns a PIL image of the input's kind.

        `style` is a name, a mix ('scream=0.7,mosaic=0.3' or a mapping) or None for the
        model's first style. `strength` blends with the original (0..1, default 0.8: 1 is the
        model's output alone); `preserve_colors`
        keeps the original's colours and takes only the stylized luminance; `scale` sets the
        stroke size relative to the image (1: as on a 1024 px image at any size; 2: twice
        as large; 0: the model's own pixel size at full resolution); `max_side` scales the
        image down first (0 or None: full size). `allow_large` lifts Pillow's
        decompression-bomb guard.
        """
        source = open_image(image, allow_large=allow_large)
        return self.stylize_source(
            source,
            style,
            strength=strength,
            preserve_colors=preserve_colors,
            scale=scale,
            max_side=max_side,
            progress=progress,
            cancel=cancel,
        )

    def stylize_source(
        self,
        source: SourceImage,
        style: Style = None,
        *,
        strength: float = DEFAULT_STRENGTH,
        preserve_colors: bool = False,
        scale: float = DEFAULT_SCALE,
        max_side: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> Image.Image:
        """`stylize` for an image already opened with `open_image` (batches decode ahead)."""
        if max_side is not None and max_side < 0:
            raise StylePluginError(f"max side must be 0 (full size) or more pixels, not {max_side}")
        source = fit_max_side(source, max_side)
        rgb = self.stylize_array(
            source.rgb,
            style,
            strength=strength,
            preserve_colors=preserve_colors,
            scale=scale,
            progress=progress,
            cancel=cancel,
        )
        return restore(source, rgb)

    def stylize_array(
        self,
        rgb: np.ndarray,
        style: Style = None,
        *,
        strength: float = DEFAULT_STRENGTH,
        preserve_colors: bool = False,
        scale: float = DEFAULT_SCALE,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> np.ndarray:
        """Stylize an HxWx3 RGB array (uint8, uint16, or float32 in [0,1]); same dtype out."""
        if not (isinstance(strength, int | float) and math.isfinite(strength)) or not (
            0.0 <= strength <= 1.0
        ):
            raise StylePluginError(f"strength must be between 0 and 1, got {strength}")
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise StylePluginError(f"expected an HxWx3 RGB array, got shape {rgb.shape}")
        try:
            working = working_size(rgb.shape[0], rgb.shape[1], scale)
        except (TypeError, ValueError):
            raise StylePluginError(
                f"scale must be 0 (full resolution) or more, got {scale}"
            ) from None
        model = self.model_for(style)
        weights = model.style_weights(style)
        if strength == 0.0:
            return rgb.copy()
        finish = _finish(strength, preserve_colors)
        if working is None:
            return self._run(model, weights, rgb, finish, progress, cancel)
        small = shrink(rgb, working)
        painted = self._run(model, weights, small, None, progress, cancel)
        return enlarge_with_detail(rgb, small, painted, finish, cancel)

    def _run(
        self,
        model: StyleModel,
        weights: np.ndarray,
        rgb: np.ndarray,
        finish: Finish | None,
        progress: Callable[[int, int], None] | None,
        cancel: Callable[[], bool] | None,
    ) -> np.ndarray:
        """The generator over `rgb` as it is, in tiles when it is large."""
        height, width = rgb.shape[:2]
        tiles = self.tiles
        tiled = len(tile_spans(height, tiles.tile_size, tiles.overlap)) * len(
            tile_spans(width, tiles.tile_size, tiles.overlap)
        )
        return stylize_tiled(
            rgb,
            _infer(model, weights, lean=tiled > 1),
            self.tiles,
            probe=_probe(model, weights) if tiled > 1 else None,
            finish=finish,
            progress=progress,
            cancel=cancel,
            shared_statistics=model.tiling,
        )


def _finish(strength: float, keep_colors: bool) -> Finish | None:
    """Per-pixel post-processing of stylized rows: colour preservation, then strength."""
    if strength == 1.0 and not keep_colors:
        return None

    def finish(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if keep_colors:
            stylized = preserve_colors(original, stylized)
        return stylized if strength == 1.0 else blend(original, stylized, strength)

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


def _probe(model: StyleModel, weights: np.ndarray) -> LayerProbe | None:
    """Runs of the model cut short after one normalisation layer (lean sessions, opened once
    per layer on first use), or None when the model does not report its layers' statistics."""
    if not model.layer_channels:
        return None
    style_weights = weights[None, :]
    sessions: dict[int, ModelSession] = {}

    def run(batch: np.ndarray, stats: np.ndarray, layer: int) -> np.ndarray:
        output = contract.layer_stats_name(layer)
        if layer not in sessions:
            sessions[layer] = _lean(model.session, until=output)
        session = sessions[layer]
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
    *,
    model: str | Path | None = None,
    strength: float = DEFAULT_STRENGTH,
    preserve_colors: bool = False,
    scale: float = DEFAULT_SCALE,
    max_side: int | None = None,
    device: str = "auto",
    threads: int = 0,
    tile_size: int = DEFAULT_TILE_SIZE,
    exact_tiles: bool = False,
    allow_large: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Image.Image:
    """Stylize one image with an installed style (or `model`); returns a PIL image.

    See `Stylizer.stylize` for the options; stylizers are cached, so calling this in a loop
    loads each model once.
    """
    key = str(Path(model).resolve()) if model is not None else None
    stylizer = _cached_stylizer(key, device, threads, tile_size, exact_tiles)
    return stylizer.stylize(
        image,
        style,
        strength=strength,
        preserve_colors=preserve_colors,
        scale=scale,
        max_side=max_side,
        allow_large=allow_large,
        progress=progress,
        cancel=cancel,
    )
