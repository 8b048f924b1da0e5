"""Stylizing on a Ray cluster: the `ray` extra (`pip install 'style-plugin[ray]'`).

    from style_plugin.distributed import stylize_dataset
    images = ray.data.read_images("s3://bucket/frames/", include_paths=True)
    stylize_dataset(images, "starry-night").write_images("s3://bucket/out/", column="image")

`stylize_dataset` (dataset.py) maps a Ray Dataset of images through a style model on actors
across the cluster; `run_batch_on_ray` (files.py) is `style-plugin stylize --engine ray`:
the local batch's files, names and rules, with the work spread over the cluster;
`stylize_clip_on_ray` (clips.py) stylizes a video clip there in chunks of frames (chunks.py).
All ship the model and settings as one `PortableJob` (portable.py). Ray is imported only here, and
only when used; docs/cluster.md says how to run and what it costs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from style_plugin.lazy import lazy_attributes

__all__ = ["PortableJob", "run_batch_on_ray", "stylize_clip_on_ray", "stylize_dataset"]

if TYPE_CHECKING:
    from style_plugin.distributed.clips import stylize_clip_on_ray
    from style_plugin.distributed.dataset import stylize_dataset
    from style_plugin.distributed.files import run_batch_on_ray
    from style_plugin.distributed.portable import PortableJob

_LAZY = {
    "stylize_dataset": "style_plugin.distributed.dataset",
    "run_batch_on_ray": "style_plugin.distributed.files",
    "stylize_clip_on_ray": "style_plugin.distributed.clips",
    "PortableJob": "style_plugin.distributed.portable",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
