"""The work a batch does on each image: the `ImageJob` shape, and the job that stylizes.

A job carries its own settings (a style, a filter's parameters), bound when it is made, so
the batch runner knows nothing about what the work is.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from style_plugin.runtime.images import SourceImage
from style_plugin.runtime.scale import DEFAULT_SCALE
from style_plugin.runtime.stylizer import DEFAULT_STRENGTH, Style, Stylizer

__all__ = ["ImageJob", "stylize_job"]

#: The work done on each decoded image: job(source, progress, cancel) -> the result.
#: `progress(done, total)` reports steps within the image (tiles); `cancel()` returning True
#: asks it to stop (raising `Cancelled`).
ImageJob = Callable[[SourceImage, Callable[[int, int], None], Callable[[], bool]], Image.Image]


def stylize_job(
    stylizer: Stylizer,
    style: Style = None,
    *,
    strength: float = DEFAULT_STRENGTH,
    preserve_colors: bool = False,
    scale: float = DEFAULT_SCALE,
    max_side: int | None = None,
) -> ImageJob:
    """The job that stylizes each image with `style`, `strength`, colours, stroke scale and
    size as `Stylizer.stylize` takes them."""

    def job(
        source: SourceImage, progress: Callable[[int, int], None], cancel: Callable[[], bool]
    ) -> Image.Image:
        return stylizer.stylize_source(
            source,
            style,
            strength=strength,
            preserve_colors=preserve_colors,
            scale=scale,
            max_side=max_side,
            progress=progress,
            cancel=cancel,
        )

    return job
