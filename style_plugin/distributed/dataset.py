"""`stylize_dataset`: a Ray Dataset of images in, the same Dataset stylized out, for pipelines.

Images are numpy arrays in one column, as `ray.data.read_images` gives them (HxWx3 or HxWx4
uint8, HxW grey, 16-bit or float): each comes back of the same shape and kind, stylized by
`Stylizer` exactly as the Python API would. The work runs on a pool of actors, each holding
the model once; other columns (paths, labels) pass through untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from style_plugin.distributed.cluster import cluster_cpus, import_ray
from style_plugin.distributed.portable import PortableJob
from style_plugin.runtime.reading import open_image
from style_plugin.runtime.settings import StyleSettings
from style_plugin.runtime.stylizer import Style, Stylizer

__all__ = ["stylize_dataset"]


def stylize_dataset(
    dataset: Any,
    style: Style = None,
    settings: StyleSettings | None = None,
    *,
    model: str | Path | None = None,
    column: str = "image",
    device: str = "auto",
    threads: int = 1,
    workers: int | tuple[int, int] | None = None,
    batch_size: int = 1,
    **changes: Any,
) -> Any:
    """The Ray Dataset `dataset` with the images in `column` stylized (lazily, as Ray Data is).

    `style`, `settings` and keyword `changes` to them (`strength=0.6`, ...) mean what they
    mean for `Stylizer.stylize`; `model` is a style model file (default: the installed one
    holding `style`), checked here before any work is sent. Each actor uses `threads` CPUs
    (and an eighth of a GPU with `device='cuda'`); `workers` is the number of actors, or
    (min, max) to let Ray Data scale the pool (default: up to one per `threads` CPUs of the
    cluster).
    """
    ray = import_ray()
    wanted = StyleSettings.from_call(settings, **changes)
    chosen = Stylizer(model, device="cpu", threads=1).model_for(style)
    chosen.style_weights(style)  # an unknown style fails here, naming the known ones
    job = PortableJob.from_file(
        chosen.path,
        style=style,
        settings=wanted,
        device=device,
        threads=threads,
    )
    if workers is None:
        cpus = cluster_cpus(ray) if ray.is_initialized() else 1
        workers = (1, max(1, cpus // threads))
    return dataset.map_batches(
        DatasetStylizer,
        fn_constructor_kwargs={"job": job, "column": column},
        batch_size=batch_size,
        batch_format="numpy",
        concurrency=workers,
        num_cpus=threads,
        num_gpus=job.gpus,
    )


class DatasetStylizer:
    """A Ray Data actor: stylizes the images of one column, batch after batch."""

    def __init__(self, job: PortableJob, column: str) -> None:
        self.job = job
        self.column = column
        job.stylizer()  # load the model when the actor starts, not on its first batch

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        images = [np.asarray(self.job.run(open_image(image))) for image in batch[self.column]]
        shapes = {image.shape for image in images}
        if len(shapes) == 1:
            stacked = np.stack(images)
        else:  # images of different sizes: a ragged column
            stacked = np.empty(len(images), dtype=object)
            stacked[:] = images
        return {**batch, self.column: stacked}
