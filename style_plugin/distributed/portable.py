"""A stylize job that can travel to other machines: the model's bytes and every setting.

The Ray engine ships one `PortableJob` to its workers. A worker process writes the model
into its cache folder once, named by its SHA-256, and keeps the loaded `Stylizer`, so it
pays the model load once however many images it is given.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from style_plugin.atomic import atomic_path
from style_plugin.runtime.reading import SourceImage
from style_plugin.runtime.settings import StyleSettings
from style_plugin.runtime.stylizer import Stylizer
from style_plugin.runtime.tiling import DEFAULT_TILE_SIZE
from style_plugin.user_dirs import user_cache_dir

__all__ = ["PortableJob"]

#: The share of a GPU one image task or actor asks for. Decoding, resizing and encoding a
#: frame take a CPU core far longer than the model takes the GPU (docs/cluster.md), so
#: several tasks, each with its own CUDA session, share one GPU.
GPU_SHARE = 0.125
_STYLIZERS: dict[tuple, Stylizer] = {}
_STYLIZERS_LOCK = threading.Lock()


@dataclass(frozen=True)
class PortableJob:
    """What `stylize_job` binds, with the model as bytes instead of a loaded session.

    `settings` say how each image is stylized, as `Stylizer.stylize` takes them. `threads`
    is onnxruntime's CPU threads per image on a worker (1: one image per core); `device` is
    chosen on each worker (auto: its GPU where it has one).
    """

    model: bytes = field(repr=False)
    style: str | Mapping[str, float] | None = None
    settings: StyleSettings = field(default_factory=StyleSettings)
    device: str = "auto"
    threads: int = 1
    tile_size: int = DEFAULT_TILE_SIZE
    exact_tiles: bool = False

    @classmethod
    def from_file(cls, path: str | Path, **fields: object) -> PortableJob:
        """The job for the style model file at `path` (load it here first: that checks it)."""
        return cls(Path(path).read_bytes(), **fields)  # type: ignore[arg-type]

    @property
    def gpus(self) -> float:
        """The GPUs one task or actor asks Ray for: a share of one when `device` names a GPU."""
        return GPU_SHARE if self.device in ("cuda", "tensorrt") else 0.0

    @functools.cached_property
    def digest(self) -> str:
        """The model's SHA-256, which names its copy in each worker's cache."""
        return hashlib.sha256(self.model).hexdigest()

    def stylizer(self) -> Stylizer:
        """This process's `Stylizer` for the model and settings, loaded on first use."""
        key = (self.digest, self.device, self.threads, self.tile_size, self.exact_tiles)
        with _STYLIZERS_LOCK:
            if key not in _STYLIZERS:
                _STYLIZERS[key] = Stylizer(
                    self._model_file(),
                    device=self.device,
                    threads=self.threads,
                    tile_size=self.tile_size,
                    exact_tiles=self.exact_tiles,
                )
            return _STYLIZERS[key]

    def run(self, source: SourceImage) -> Image.Image:
        """Stylize one decoded image as the local batch's job would."""
        return self.stylizer().stylize_source(source, self.style, self.settings)

    def _model_file(self) -> Path:
        """The model written into this machine's cache (again if the copy there differs)."""
        path = user_cache_dir() / "shipped-models" / f"{self.digest}.onnx"
        if not (path.is_file() and path.read_bytes() == self.model):
            with atomic_path(path) as tmp:
                tmp.write_bytes(self.model)
        return path
