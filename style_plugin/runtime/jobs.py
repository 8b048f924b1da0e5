"""The work a batch does on each image: the `ImageJob` shape, and the job that stylizes.

A job carries its own settings (a style, a filter's parameters), bound when it is made, so
the batch runner knows nothing about what the work is.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from style_plugin.runtime.reading import SourceImage
from style_plugin.runtime.settings import StyleSettings
from style_plugin.runtime.stylizer import Style, Stylizer

__all__ = ["ImageJob", "stylize_job"]

#: The work done on each decoded image: job(source, progress, cancel) -> the result.
#: `progress(done, total)` reports steps within the image (tiles); `cancel()` returning True
#: asks it to stop (raising `Cancelled`).
ImageJob = Callable[[SourceImage, Callable[[int, int], None], Callable[[], bool]], Image.Image]


def stylize_job(
    stylizer: Stylizer, style: Style = None, settings: StyleSettings | None = None
) -> ImageJob:
    """The job that stylizes each image with `style` and `settings` (default: the defaults)."""

    def job(
        source: SourceImage, progress: Callable[[int, int], None], cancel: Callable[[], bool]
    ) -> Image.Image:
        return stylizer.stylize_source(source, style, settings, progress=progress, cancel=cancel)

    return job
