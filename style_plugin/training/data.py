"""The trainer's inputs: content photos, the style paintings and per-step random choices.

Every random choice for training step ``s`` (which photos, crop boxes, flips, which style per
sample, which crops of the paintings) comes from a generator seeded by ``(seed, s, rank,
stream)`` rather than from one global RNG stream. Resuming at step ``s`` therefore reproduces
the same batches without saving any RNG state, and the number of DataLoader workers does not
change what is trained on.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

from style_plugin.contract import printable
from style_plugin.errors import DataError
from style_plugin.runtime.reading import draft_to
from style_plugin.training.borders import Border, trim_border
from style_plugin.training.image_files import (
    displayed_size,
    open_rgb,
    opened,
    to_rgb,
    to_tensor,
    unreadable_photo,
    why_unusable,
)

IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
)

_STYLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PERMUTATION_STREAM = 1_000_003  # stream id of the per-epoch photo order (not a per-step use)


# --------------------------------------------------------------------------- randomness


def step_generator(seed: int, step: int, rank: int = 0, stream: int = 0) -> torch.Generator:
    """A CPU generator for one (seed, step, rank, stream); hashing mixes all four ints well.

    ``stream`` separates independent uses within a step (content vs style sampling), so adding
    a new use never shifts the numbers an existing one draws.
    """
    key = f"{int(seed)}/{int(step)}/{int(rank)}/{int(stream)}".encode()
    digest = hashlib.blake2b(key, digest_size=8, person=b"style-plugin").digest()
    return torch.Generator(device="cpu").manual_seed(int.from_bytes(digest, "little") >> 1)


def sample_style_indices(num_styles: int, batch_size: int, generator: torch.Generator) -> Tensor:
    """Uniformly drawn style index per sample, long ``[batch_size]``."""
    return torch.randint(num_styles, (batch_size,), generator=generator, dtype=torch.long)


# --------------------------------------------------------------------------- content photos


@dataclass
class ContentScan:
    """Result of scanning a content folder: usable photos and the files left out (with why)."""

    paths: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _check_image(path: Path, min_side: int, allow_large: bool) -> str | None:
    """None if ``path`` decodes completely and is big enough, else the one-line reason."""
    try:
        if path.stat().st_size == 0:
            return "empty file"
        with opened(path, allow_large) as img:
            w, h = displayed_size(img)
            if min(w, h) < min_side:
                return f"smaller than the crop ({w}x{h} < {min_side})"
            if img.format == "JPEG":
                img.draft(None, (1, 1))  # 1/8-scale IDCT still reads every byte of the stream
            img.load()
    except Exception as exc:  # one bad file must not stop the scan
        return why_unusable(exc)
    return None


def _image_files(folder: Path) -> list[Path]:
    """Image-suffixed files under ``folder``, recursively; hidden files and folders left out."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                found.append(Path(root, name))
    return sorted(found)


def scan_content_folder(
    folder: str | Path,
    min_side: int,
    workers: int = 2,
    *,
    label: str = "content folder",
    allow_large: bool = False,
) -> ContentScan:
    """Find and fully decode every image under ``folder`` once, so training never trips on one.

    Raises DataError if the folder is missing, holds no image files, or none of them is usable;
    ``label`` names the folder's role in those messages. Images over Pillow's
    decompression-bomb limit are left out unless ``allow_large``.
    """
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise DataError(f"{label} not found: {folder}")
    if not folder.is_dir():
        raise DataError(f"{label} is not a folder: {folder}")
    files = _image_files(folder)
    if not files:
        suffixes = " ".join(sorted(IMAGE_SUFFIXES))
        raise DataError(f"no image files ({suffixes}) in {label} {folder}")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        reasons = list(pool.map(lambda p: _check_image(p, min_side, allow_large), files))
    scan = ContentScan()
    for path, reason in zip(files, reasons, strict=True):
        if reason is None:
            scan.paths.append(path)
        else:
            scan.skipped.append((path, reason))
    if not scan.paths:
        first, why = scan.skipped[0]
        raise DataError(
            f"none of the {len(files)} image files in {label} {folder} is usable "
            f"({len(scan.skipped)} skipped; first: {first}: {why})"
        )
    return scan


class ContentCrops(torch.utils.data.Dataset):
    """Random-resized square crops of the content photos, keyed by (image index, item seed).

    The key fully determines the crop, so batches are reproducible in any worker.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        crop_size: int,
        scale: tuple[float, float] = (1.0, 2.0),
        allow_large: bool = False,
    ) -> None:
        if crop_size < 1:
            raise ValueError(f"crop_size must be positive, got {crop_size}")
        if not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale must be (low, high) with 0 < low <= high, got {scale}")
        self.paths = [Path(p) for p in paths]
        self.crop_size = crop_size
        self.scale = (float(scale[0]), float(scale[1]))
        self.allow_large = allow_large

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key: tuple[int, int]) -> Tensor:
        index, item_seed = key
        path = self.paths[index]
        g = torch.Generator(device="cpu").manual_seed(int(item_seed))
        u, fx, fy, flip = torch.rand(4, generator=g, dtype=torch.float64).tolist()
        crop = self.crop_size
        try:
            with opened(path, self.allow_large) as img:
                w, h = img.size
                short = min(w, h)
                # Shorter side after resizing: crop * U(scale), never above the original
                # (no upscaling past the photo's own detail) and never below the crop.
                target = max(
                    crop, min(short, crop * (self.scale[0] + u * (self.scale[1] - self.scale[0])))
                )
                draft_to(img, target * max(w, h) / short)
                img.load()
                img = to_rgb(img)
        except Exception as exc:
            raise unreadable_photo(path, exc) from exc
        # Crop window in source pixels: a crop x crop window of the image resized to `target`.
        w, h = img.size
        side = crop * min(w, h) / target
        x0 = fx * (w - side)
        y0 = fy * (h - side)
        out = img.resize((crop, crop), Image.Resampling.BICUBIC, box=(x0, y0, x0 + side, y0 + side))
        if flip < 0.5:
            out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return to_tensor(out)


def centre_crops(paths: Sequence[Path], size: int, allow_large: bool = False) -> Tensor:
    """Photos centre-cropped to ``size`` x ``size`` (the preview sheets' rows), as a float
    ``[K,3,size,size]`` batch in [0,1]."""
    crops = []
    for path in paths:
        try:
            with opened(path, allow_large) as img:
                img.draft("RGB", (size * 2, size * 2))
                crops.append(to_tensor(ImageOps.fit(to_rgb(img), (size, size))))
        except Exception as exc:
            raise unreadable_photo(path, exc) from exc
    return torch.stack(crops)


def whole_photo(path: Path, max_side: int, min_side: int, allow_large: bool = False) -> Tensor:
    """A photo whole, as the user sees it (EXIF applied), its long side at most ``max_side``:
    a float ``[1,3,H,W]`` batch in [0,1] (a live preview's photo). DataError (one line) for a
    photo that cannot be read, or is under ``min_side`` pixels a side."""
    try:
        photo = to_tensor(open_rgb(Path(path), max_side, allow_large))[None]
    except Exception as exc:
        raise DataError(
            f"cannot read the photo {printable(str(path))}: {why_unusable(exc)}"
        ) from exc
    height, width = photo.shape[-2:]
    if min(height, width) < min_side:
        raise DataError(
            f"the photo {printable(str(path))} is {width}x{height}; it needs at least "
            f"{min_side} pixels a side"
        )
    return photo


class StepBatchSampler(torch.utils.data.Sampler[list[tuple[int, int]]]):
    """For each step in ``[start_step, end_step)``, a batch of ``(image index, item seed)`` keys.

    Photos are visited in a per-epoch random order (each photo once per epoch per rank); the
    order and the item seeds depend only on (seed, step, rank), so step ``k`` gives the same
    batch whether the run started at 0 or resumed at ``k``.
    """

    def __init__(
        self,
        num_items: int,
        batch_size: int,
        seed: int,
        start_step: int,
        end_step: int,
        rank: int = 0,
    ) -> None:
        if num_items < 1 or batch_size < 1:
            raise ValueError(
                f"need num_items >= 1 and batch_size >= 1, got {num_items}, {batch_size}"
            )
        if not 0 <= start_step <= end_step:
            raise ValueError(f"need 0 <= start_step <= end_step, got {start_step}, {end_step}")
        self.num_items = num_items
        self.batch_size = batch_size
        self.seed = seed
        self.start_step = start_step
        self.end_step = end_step
        self.rank = rank

    def __len__(self) -> int:
        return self.end_step - self.start_step

    def _order(self, epoch: int) -> list[int]:
        g = step_generator(self.seed, epoch, self.rank, _PERMUTATION_STREAM)
        return torch.randperm(self.num_items, generator=g).tolist()

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        orders: dict[int, list[int]] = {}
        for step in range(self.start_step, self.end_step):
            g = step_generator(self.seed, step, self.rank, stream=0)
            seeds = torch.randint(2**62, (self.batch_size,), generator=g).tolist()
            batch = []
            for i, item_seed in enumerate(seeds):
                epoch, pos = divmod(step * self.batch_size + i, self.num_items)
                if epoch not in orders:
                    orders = {e: o for e, o in orders.items() if e >= epoch - 1}
                    orders[epoch] = self._order(epoch)
                batch.append((orders[epoch][pos], item_seed))
            yield batch


# --------------------------------------------------------------------------- style paintings


def parse_style_specs(specs: Sequence[str]) -> dict[str, Path]:
    """Parse ``NAME=PATH`` strings into an ordered name -> path mapping."""
    styles: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        name, path = name.strip(), path.strip()
        if not sep:
            raise DataError(f"style {spec!r} must be NAME=PATH (for example scream=scream.jpg)")
        if not name or not path:
            raise DataError(f"style {spec!r} needs both a name and a path: NAME=PATH")
        if not _STYLE_NAME.fullmatch(name):
            raise DataError(
                f"style name {name!r} in {spec!r} must start with a letter or digit and use only "
                "letters, digits, '_', '.' and '-'"
            )
        if name in styles:
            raise DataError(f"style name {name!r} is given twice ({styles[name]} and {path})")
        styles[name] = Path(path).expanduser()
    return styles


def _open_style(path: str | Path, max_side: int | None, allow_large: bool = False) -> Image.Image:
    """Decode a painting or artwork; any failure becomes a one-line DataError naming the file."""
    path = Path(path).expanduser()
    try:
        return open_rgb(path, max_side, allow_large)
    except Exception as exc:
        raise DataError(f"cannot read style image {path}: {why_unusable(exc)}") from exc


def load_image(path: str | Path, max_side: int | None = None) -> Tensor:
    """RGB float ``[3,H,W]`` in [0,1], EXIF orientation applied, long side <= ``max_side``."""
    return to_tensor(_open_style(path, max_side))


def _real_source(img: Image.Image, crop_size: int) -> Tensor:
    """A real-sample source as uint8 ``[3,H,W]``, upscaled if its short side is below the crop."""
    w, h = img.size
    if min(w, h) < crop_size:
        ratio = crop_size / min(w, h)
        size = (max(crop_size, round(w * ratio)), max(crop_size, round(h * ratio)))
        img = img.resize(size, Image.Resampling.BICUBIC)
    return torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).contiguous()


class StyleImages:
    """The paintings (one per style, plus optional extra artworks per style) used as the
    style-loss targets and as the discriminator's real samples.

    A painting must keep ``min_side`` pixels on each side once scaled to ``style_size`` and
    its border is cut (the perceptual network's deepest style layer needs them); images over
    Pillow's decompression-bomb limit are refused unless ``allow_large``."""

    def __init__(
        self,
        styles: Mapping[str, Path],
        style_size: int,
        crop_size: int,
        extra_real: Mapping[str, Path] | None = None,
        keep_borders: bool = False,
        min_side: int = 1,
        allow_large: bool = False,
    ) -> None:
        if not styles:
            raise DataError("no styles given: pass at least one NAME=PATH painting")
        self.names: list[str] = list(styles)
        self.crop_size = crop_size
        self.keep_borders = keep_borders
        #: The border cut off each painting (by style name; only those that had one).
        self.borders: dict[str, Border] = {}
        self.paintings: list[Tensor] = []
        # Real samples are kept as uint8 so that many extra artworks stay affordable in memory.
        self._sources: list[list[Tensor]] = []
        for name in self.names:
            img = self._without_border(_open_style(styles[name], style_size, allow_large), name)
            if min(img.size) < min_side:
                raise DataError(
                    f"style image {styles[name]} is too small to learn from: {img.width}x"
                    f"{img.height} px (scaled to at most --style-size {style_size}, its border "
                    f"cut); it needs at least {min_side} px on each side"
                )
            self.paintings.append(to_tensor(img))
            self._sources.append([_real_source(img, crop_size)])
        self.extra_skipped: list[tuple[Path, str]] = []
        for name, folder in (extra_real or {}).items():
            if name not in styles:
                known = ", ".join(self.names)
                raise DataError(
                    f"extra artworks {folder} given for unknown style {name!r} (styles: {known})"
                )
            scan = scan_content_folder(
                folder,
                min_side=1,
                label=f"extra artworks folder for {name!r}",
                allow_large=allow_large,
            )
            self.extra_skipped.extend(scan.skipped)
            index = self.names.index(name)
            self._sources[index] += [
                _real_source(
                    self._without_border(_open_style(p, style_size, allow_large)), crop_size
                )
                for p in scan.paths
            ]

    def _without_border(self, img: Image.Image, name: str | None = None) -> Image.Image:
        """The image with its frame or margin cut off (unless borders are kept); a painting's
        cut is recorded under its style `name`."""
        if self.keep_borders:
            return img
        trimmed, border = trim_border(img)
        if border and name is not None:
            self.borders[name] = border
        return trimmed

    def num_sources(self, style_index: int) -> int:
        """How many images (painting + extra artworks) feed this style's real samples."""
        return len(self._sources[style_index])

    def real_crops(self, style_index: Tensor, generator: torch.Generator) -> Tensor:
        """``[N,3,crop,crop]`` random crops (and flips) of each sample's style painting or of one
        of its extra artworks, chosen uniformly; deterministic given the generator."""
        indices = style_index.tolist()
        draws = torch.rand(len(indices), 4, generator=generator, dtype=torch.float64).tolist()
        crop = self.crop_size
        out = torch.empty(len(indices), 3, crop, crop)
        for i, (s, (fk, fx, fy, flip)) in enumerate(zip(indices, draws, strict=True)):
            sources = self._sources[s]
            src = sources[min(int(fk * len(sources)), len(sources) - 1)]
            _, h, w = src.shape
            y = min(int(fy * (h - crop + 1)), h - crop)
            x = min(int(fx * (w - crop + 1)), w - crop)
            patch = src[:, y : y + crop, x : x + crop]
            if flip < 0.5:
                patch = patch.flip(-1)
            out[i] = patch.float().div_(255.0)
        return out
