"""Synthetic test images: small, deterministic, made on the fly (no downloads, no datasets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_photo(path: Path, width: int = 96, height: int = 80, seed: int = 0) -> Path:
    """A smooth 'photo': colour gradients plus a few soft discs, different for each seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack(
        [
            0.5 + 0.5 * np.sin(x / width * rng.uniform(2, 6) + rng.uniform(0, 6)),
            0.5 + 0.5 * np.cos(y / height * rng.uniform(2, 6) + rng.uniform(0, 6)),
            np.full_like(x, rng.uniform(0.2, 0.8)),
        ],
        axis=-1,
    )
    for _ in range(3):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(5, 20)
        disc = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
        image = image * (1 - disc) + rng.uniform(0, 1, 3) * disc
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((image * 255).astype(np.uint8)).save(path)
    return path


def make_painting(path: Path, size: int = 96, kind: str = "stripes") -> Path:
    """A strongly textured 'painting' whose Gram statistics differ clearly from the photos."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    if kind == "stripes":
        r = 0.5 + 0.5 * np.sign(np.sin((x + y) / 3.0))
        image = np.stack([r, 0.2 * np.ones_like(r), 1 - r], axis=-1)
    else:
        r = 0.5 + 0.5 * np.sign(np.sin(x / 2.0) * np.sin(y / 2.0))
        image = np.stack([0.9 * r, r, 0.1 + 0 * r], axis=-1)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((image * 255).astype(np.uint8)).save(path)
    return path
