"""The package's own "Stylize" filter: any installed style, strength, colour preservation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from hooks.filters import Choice, Filter, Param, Progress
from style_plugin.contract import printable
from style_plugin.runtime.store import list_styles
from style_plugin.runtime.stylizer import Stylizer

__all__ = ["StylizeFilter"]


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
                1.0,
                "0 keeps the original, 1 applies the full style.",
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
        return self.stylizer.stylize(
            image,
            params["style"],
            strength=params["strength"],
            preserve_colors=params["preserve_colors"],
            max_side=params["max_side"] or None,
            progress=progress,
            cancel=cancel,
        )
