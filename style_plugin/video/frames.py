"""Folders of numbered frames stylized as one sequence: the batch's items in natural numeric
order (frame2 before frame10), and a batch job that carries strokes from each frame to the
next (`TemporalBlend`). Names, formats and the rest of the batch's rules are the image
batch's own (runtime/batch.py runs the job on one thread, in order).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from style_plugin.runtime.pixels import fit_max_side, restore
from style_plugin.runtime.settings import StyleSettings
from style_plugin.video.defaults import DEFAULT_HOLD
from style_plugin.video.sequence import TemporalBlend

if TYPE_CHECKING:
    from style_plugin.runtime.jobs import ImageJob
    from style_plugin.runtime.outputs import PlannedItem
    from style_plugin.runtime.reading import SourceImage
    from style_plugin.runtime.stylizer import Style, Stylizer

__all__ = ["natural_key", "sequence_job", "sequence_order"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(path: Path) -> list[tuple[int, int | str]]:
    """A sort key putting numbers in names in numeric order: f2.png before f10.png."""
    parts = _DIGITS.split(path.as_posix())
    return [(1, int(part)) if part.isdigit() else (0, part.casefold()) for part in parts]


def sequence_order(plans: list[PlannedItem]) -> None:
    """Sort a batch's planned items in place into natural order of their inputs' paths."""
    plans.sort(key=lambda plan: natural_key(plan.item.path))


def sequence_job(
    stylizer: Stylizer,
    style: Style = None,
    settings: StyleSettings | None = None,
    hold: float = DEFAULT_HOLD,
) -> ImageJob:
    """The batch job stylizing each image as the next frame of one sequence."""
    chosen = settings or StyleSettings()
    frame_settings = StyleSettings.from_call(chosen, max_side=None)
    blend = TemporalBlend(hold)

    def job(
        source: SourceImage, progress: Callable[[int, int], None], cancel: Callable[[], bool]
    ) -> Image.Image:
        source = fit_max_side(source, chosen.max_side)
        stylized = stylizer.stylize_array(
            source.rgb, style, frame_settings, progress=progress, cancel=cancel
        )
        return restore(source, blend.blend(source.rgb, stylized))

    return job
