"""Previews of a run: sheets (each row a content photo followed by its rendering in every
style) and the live preview (one photo of the user's choice in the styles being learnt)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from style_plugin.atomic import atomic_path


def to_pil(image: Tensor) -> Image.Image:
    """[3,H,W] float in [0,1] -> RGB PIL image."""
    array = (image.detach().float().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(np.ascontiguousarray(array), "RGB")


def _thumbnail(image: Tensor, size: int) -> Tensor:
    """Fit a painting into a size x size cell (letterboxed on white) for the header row."""
    _, h, w = image.shape
    scale = size / max(h, w)
    resized = torch.nn.functional.interpolate(
        image[None].float(),
        size=(max(1, round(h * scale)), max(1, round(w * scale))),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )[0]
    cell = torch.ones(3, size, size)
    top, left = (size - resized.shape[1]) // 2, (size - resized.shape[2]) // 2
    cell[:, top : top + resized.shape[1], left : left + resized.shape[2]] = resized.clamp(0, 1)
    return cell


@contextlib.contextmanager
def _evaluating(generator: torch.nn.Module) -> Iterator[None]:
    """The generator in eval mode within the block, back in its own mode after it."""
    was_training = generator.training
    generator.eval()
    try:
        yield
    finally:
        generator.train(was_training)


def _in_each_style(
    generator: torch.nn.Module, photo: Tensor, num_styles: int, device: torch.device
) -> list[Tensor]:
    """`photo` [1,3,H,W] rendered in each of the `num_styles` styles, as [3,H,W] on the CPU."""
    photo = photo.to(device)
    rendered = []
    for s in range(num_styles):
        weights = torch.zeros(1, num_styles, device=device)
        weights[0, s] = 1
        rendered.append(generator(photo, weights)[0].float().cpu())
    return rendered


@torch.no_grad()
def render_preview(
    generator: torch.nn.Module, contents: Tensor, paintings: Sequence[Tensor], device: torch.device
) -> Image.Image:
    """Grid with a header row of paintings, then per photo: photo | style 1 | ... | style S."""
    n, _, size, _ = contents.shape
    num_styles = len(paintings)
    cells = [torch.ones(3, size, size)] + [_thumbnail(p.cpu(), size) for p in paintings]
    with _evaluating(generator):
        for i in range(n):
            cells.append(contents[i].cpu())
            cells.extend(_in_each_style(generator, contents[i : i + 1], num_styles, device))
    columns = num_styles + 1
    rows = [torch.cat(cells[r * columns : (r + 1) * columns], dim=2) for r in range(n + 1)]
    return to_pil(torch.cat(rows, dim=1))


@torch.no_grad()
def render_live_preview(
    generator: torch.nn.Module, photo: Tensor, num_styles: int, device: torch.device
) -> Image.Image:
    """`photo` [1,3,H,W] in each style being learnt, side by side (one style: the photo's own
    size and aspect)."""
    with _evaluating(generator):
        rendered = _in_each_style(generator, photo, num_styles, device)
    return to_pil(torch.cat(rendered, dim=2))


def save_preview(image: Image.Image, path: str | Path) -> None:
    """Write a preview PNG atomically (lossless, so artefacts seen are the model's own)."""
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", optimize=True)
