"""The package's own "Stylize" filter: any installed style, strength, colour preservation,
stroke scale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from style_plugin.contract import printable
from style_plugin.hooks.filters import Choice, Filter, Param, Progress
from style_plugin.runtime.scale import working_size
from style_plugin.runtime.settings import (
    DEFAULT_SCALE,
    DEFAULT_STRENGTH,
    SCALE_RANGE,
    StyleSettings,
)
from style_plugin.runtime.store import list_styles
from style_plugin.runtime.stylizer import Stylizer

__all__ = ["PREVIEW_WORK_SIDE", "StylizeFilter"]

#: Longest side a preview is stylized at (about 2 s on two CPU cores).
PREVIEW_WORK_SIDE = 2048


class StylizeFilter(Filter):
    """Neural style transfer with the style models installed (bundled, packs, user folder)."""

    name = "stylize"
    label = "Stylize"
    description = "Repaint the image in the style of a painting (neural style transfer)."

    def __init__(self, device: str = "auto") -> None:
        self.stylizer = Stylizer(device=device)

    def style_choices(self) -> list[Choice]:
        """Every installed style once (the first model holding a name wins, as in stylize);
        labels escaped, as every host and `style-plugin filters` show them as they are."""
        choices: dict[str, Choice] = {}
        for _, model in list_styles(self.stylizer.settings).models:
            for style in model.styles:
                choices.setdefault(style.name, Choice(style.name, printable(style.label)))
        return list(choices.values())

    def params(self) -> list[Param]:
        choices = tuple(self.style_choices())
        return [
            Param(
                "style",
                "Style",
                "choice",
                choices[0].value if choices else None,
                "The painting whose style to apply.",
                choices=choices,
            ),
            Param(
                "strength",
                "Strength",
                "float",
                DEFAULT_STRENGTH,
                "0 keeps the original, 1 applies the model's output alone.",
                minimum=0.0,
                maximum=1.0,
                step=0.05,
            ),
            Param(
                "preserve_colors",
                "Preserve colours",
                "bool",
                False,
                "Keep the original's colours; take only the style's light and texture.",
            ),
            Param(
                "scale",
                "Stroke scale",
                "float",
                DEFAULT_SCALE,
                "Stroke size relative to the image: 1 as on a 1024 px image at any size, "
                "2 twice as large; 0 the model's own pixel size at full resolution.",
                minimum=SCALE_RANGE[0],
                maximum=SCALE_RANGE[1],
                step=0.25,
            ),
            Param(
                "max_side",
                "Maximum side",
                "int",
                0,
                "Scale the image down first to at most this many pixels (0: full size).",
                minimum=0,
                maximum=65536,
                step=64,
            ),
        ]

    def run(
        self,
        image: Image.Image | np.ndarray,
        params: dict[str, Any],
        progress: Progress | None,
        cancel: Callable[[], bool] | None,
    ) -> Image.Image:
        settings = StyleSettings.from_params(params)
        return self.stylizer.stylize(
            image, params["style"], settings, progress=progress, cancel=cancel
        )

    def preview_input(
        self, image: Image.Image, values: dict[str, Any], max_side: int
    ) -> Image.Image:
        """The image at the working size its stroke scale sets (at most PREVIEW_WORK_SIDE:
        finer strokes than that show larger), so the shrunk preview has the strokes of the
        full-size result. At scale 0 (strokes of fixed pixel size) the plain shrunk copy."""
        settings = StyleSettings.from_params(values)
        if settings.scale == 0:
            return super().preview_input(image, values, max_side)
        work = image.copy()
        if settings.max_side:
            work.thumbnail((settings.max_side, settings.max_side), Image.Resampling.LANCZOS)
        working = working_size(work.height, work.width, settings.scale)
        if working is not None:
            work = work.resize((working[1], working[0]), Image.Resampling.LANCZOS)
        work.thumbnail((PREVIEW_WORK_SIDE, PREVIEW_WORK_SIDE), Image.Resampling.LANCZOS)
        return work
