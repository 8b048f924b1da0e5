"""Before/after gallery for the README: a grid of photos x the styles of one style model.

Rows are photos; the first column is the photo, then one column per style of the model. A
header row names each style (its label from the model's metadata) above a thumbnail of its
painting (the path recorded in the model's training summary; `--styles NAME=PATH` overrides,
`--no-paintings` leaves the thumbnails out). Runtime only: onnxruntime, numpy and Pillow.

    python benchmarks/gallery.py [--model style_plugin/data/models/default.onnx]
        [--photos PHOTO ...] [--rows 4] [--cell 256] [--work-size 512]
        [--out docs/images/gallery.jpg] [--max-kb 600]

Photos: by default held-out photos of ../shared/datasets/content (number ending in 0: never
seen by the bundled model's training); without that folder, the bundled sample photos in
style_plugin/data/photos. Each photo is centre-cropped to a square of `--work-size` pixels,
stylized at that size (the scale at which the styles were trained and are judged) and then
shrunk to the `--cell` size of the grid. The JPEG quality is lowered step by step until the
file fits in `--max-kb` kilobytes.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_MODEL = ROOT / "style_plugin" / "data" / "models" / "default.onnx"
DEFAULT_OUT = ROOT / "docs" / "images" / "gallery.jpg"
DATASET_PHOTOS = ROOT.parent / "shared" / "datasets" / "content"
DATASET_PAINTINGS = ROOT.parent / "shared" / "datasets" / "styles"
BUNDLED_PHOTOS = ROOT / "style_plugin" / "data" / "photos"
#: Held-out photos (number ending in 0) with clear subjects of different kinds, in the order
#: the gallery takes them: an animal close up, architecture with water, a face, a skyline.
GALLERY_PHOTOS = (
    "030_gcompris-fcat.jpg",
    "020_gcompris-chateaudechenonceau.jpg",
    "050_gcompris-longnosedmonkey.jpg",
    "150_sklearn-china.jpg",
    "070_gcompris-penguin.jpg",
    "100_gcompris-wormscathedral.jpg",
)

BACKGROUND = (255, 255, 255)
INK = (40, 40, 40)
MUTED = (110, 110, 110)
GAP = 4


# --- drawing helpers (benchmarks/quality.py uses them too) ----------------------------------


def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans at `size` px where the system has it (labels such as "Dürer" need more
    than ASCII), else Pillow's built-in scalable font (its bitmap font on old Pillow builds)."""
    try:
        return ImageFont.truetype("DejaVuSansCondensed.ttf", size)
    except OSError:
        pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def text_width(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.ImageFont) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=face)
    return int(right - left)


def fit_text(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.ImageFont, width: int) -> str:
    """`text`, shortened with an ellipsis until it fits in `width` pixels."""
    if text_width(draw, text, face) <= width:
        return text
    while len(text) > 1 and text_width(draw, text + "…", face) > width:
        text = text[:-1]
    return text + "…"


def centered_text(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    text: str,
    face: ImageFont.ImageFont,
    fill: tuple[int, int, int] = INK,
) -> None:
    """Draw one line of text centred in `box` (left, top, right, bottom), shortened to fit."""
    left, top, right, bottom = box
    text = fit_text(draw, text, face, right - left - 4)
    _, y0, _, y1 = draw.textbbox((0, 0), text, font=face)
    x = left + (right - left - text_width(draw, text, face)) // 2
    y = top + (bottom - top - (y1 - y0)) // 2 - y0
    draw.text((x, y), text, font=face, fill=fill)


def thumbnail(path: Path, height: int, max_width: int) -> Image.Image | None:
    """A painting scaled to `height` (narrower than `max_width`), or None if it cannot be read."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            scale = min(height / image.height, max_width / image.width)
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            return image.resize(size, Image.Resampling.LANCZOS)
    except OSError:
        return None


def placeholder(size: tuple[int, int], text: str) -> Image.Image:
    """A light grey cell saying why an image is missing."""
    cell = Image.new("RGB", size, (225, 225, 225))
    draw = ImageDraw.Draw(cell)
    centered_text(draw, (0, 0, *size), text, font(max(10, size[1] // 16)), MUTED)
    return cell


def save_jpeg_under(image: Image.Image, out: Path, max_bytes: int) -> tuple[int, int]:
    """Write `image` as the best-quality JPEG (92 down to 40) that fits in `max_bytes`;
    returns (quality, bytes). Raises SystemExit if even quality 40 is too big."""
    for quality in range(92, 39, -4):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
        if buffer.tell() <= max_bytes:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(buffer.getvalue())
            return quality, buffer.tell()
    raise SystemExit(
        f"the gallery does not fit in {max_bytes // 1024} KB even at JPEG quality 40; "
        "use fewer --rows or a smaller --cell"
    )


def resolve_painting(path: str | Path) -> Path | None:
    """A painting from a model's training summary: as given, relative to the repo root
    (training runs from there), or by its file name in the dataset's paintings (models keep
    only the file name since they stopped carrying their trainer's folders)."""
    given = Path(path).expanduser()
    candidates = [given, ROOT / given, DATASET_PAINTINGS / given.name]
    return next((p for p in candidates if p.is_file()), None)


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """'name=path' items -> {name: path}."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise SystemExit(f"--styles takes NAME=PATH items, got {item!r}")
        result[name.strip()] = path.strip()
    return result


# --- the gallery ------------------------------------------------------------------------------


def default_photos(rows: int) -> tuple[list[Path], str]:
    """The gallery's photos and a phrase saying where they come from."""
    if DATASET_PHOTOS.is_dir():
        held_out = sorted(
            p for p in DATASET_PHOTOS.glob("*.jpg") if p.name.split("_", 1)[0].endswith("0")
        )
        preferred = [DATASET_PHOTOS / n for n in GALLERY_PHOTOS if (DATASET_PHOTOS / n).is_file()]
        chosen = [*preferred, *(p for p in held_out if p not in preferred)][:rows]
        if chosen:
            return chosen, f"held-out photos of {DATASET_PHOTOS}"
    bundled = sorted(BUNDLED_PHOTOS.glob("*.jpg"))[:rows]
    return bundled, "the bundled sample photos (style_plugin/data/photos)"


def square_photo(path: Path, side: int) -> np.ndarray:
    """A photo, upright, centre-cropped to a square and resized to `side` px, as uint8 RGB."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        fitted = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    return np.asarray(fitted).copy()


def build_gallery(
    model_path: Path,
    photos: Sequence[Path],
    *,
    cell: int,
    work_size: int,
    styles: Sequence[str] | None = None,
    overrides: dict[str, str] | None = None,
    paintings: bool = True,
    device: str = "cpu",
    threads: int = 0,
) -> tuple[Image.Image, dict[str, object]]:
    """The gallery image and a few facts about how it was made (styles, provider, timings)."""
    from style_plugin.runtime.stylizer import Stylizer

    stylizer = Stylizer(model_path, device=device, threads=threads, tile_size=max(work_size, 64))
    model = stylizer.model_for(None)
    known = {s.name: s.label for s in model.styles}
    names = list(styles) if styles else list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(
            f"{model_path.name} has no style {unknown[0]!r}; it has {', '.join(known)}"
        )
    recorded = dict(model.training.get("styles") or {})
    recorded.update(overrides or {})

    header_text = max(14, cell // 14)
    thumb_h = cell // 2 if paintings else 0
    header_h = header_text + 10 + thumb_h + (6 if paintings else 0)
    columns = 1 + len(names)
    width = columns * cell + (columns + 1) * GAP
    height = header_h + len(photos) * (cell + GAP) + GAP
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    face = font(header_text)

    def column_x(index: int) -> int:
        return GAP + index * (cell + GAP)

    centered_text(draw, (column_x(0), 0, column_x(0) + cell, header_text + 10), "photo", face)
    for i, name in enumerate(names, start=1):
        x = column_x(i)
        centered_text(draw, (x, 0, x + cell, header_text + 10), known[name], face)
        if not paintings:
            continue
        found = resolve_painting(recorded[name]) if name in recorded else None
        thumb = thumbnail(found, thumb_h, cell) if found else None
        if thumb is None:
            thumb = placeholder((cell, thumb_h), "painting not found")
        sheet.paste(thumb, (x + (cell - thumb.width) // 2, header_text + 10))

    seconds: list[float] = []
    for row, photo in enumerate(photos):
        y = header_h + row * (cell + GAP)
        rgb = square_photo(photo, work_size)
        small = Image.fromarray(rgb).resize((cell, cell), Image.Resampling.LANCZOS)
        sheet.paste(small, (column_x(0), y))
        for i, name in enumerate(names, start=1):
            start = time.perf_counter()
            out = stylizer.stylize_array(rgb, name)
            seconds.append(time.perf_counter() - start)
            tile = Image.fromarray(out).resize((cell, cell), Image.Resampling.LANCZOS)
            sheet.paste(tile, (column_x(i), y))
        print(f"  {photo.name}: {len(names)} styles done", flush=True)
    facts = {
        "styles": names,
        "provider": model.session.provider.used,
        "median_s": float(np.median(seconds)) if seconds else float("nan"),
    }
    return sheet, facts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="a style model .onnx")
    parser.add_argument("--photos", type=Path, nargs="+", help="photos for the rows")
    parser.add_argument("--rows", type=int, default=4, help="photos when --photos is not given")
    parser.add_argument("--only", nargs="+", metavar="STYLE", help="styles to show (default all)")
    parser.add_argument(
        "--styles", nargs="+", default=[], metavar="NAME=PATH", help="painting of a style"
    )
    parser.add_argument("--no-paintings", action="store_true", help="no painting thumbnails")
    parser.add_argument("--cell", type=int, default=256, help="side of one grid cell in px")
    parser.add_argument("--work-size", type=int, default=512, help="side stylized at, in px")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JPEG to write")
    parser.add_argument("--max-kb", type=int, default=600, help="largest file size allowed")
    parser.add_argument("--device", default="cpu", help="auto|cuda|tensorrt|cpu")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime CPU threads (0: all)")
    args = parser.parse_args(argv)

    if not args.model.is_file():
        raise SystemExit(
            f"no style model at {args.model}: train and export one first (recipes/bundled-styles.sh, "
            "then `style-plugin export RUN_DIR -o MODEL.onnx`), or pass --model"
        )
    if args.cell < 32 or args.work_size < 32:
        raise SystemExit("--cell and --work-size must be at least 32 px")
    if args.photos:
        photos, source = list(args.photos), "the photos given"
        missing = [p for p in photos if not p.is_file()]
        if missing:
            raise SystemExit(f"no such photo: {missing[0]}")
    else:
        photos, source = default_photos(args.rows)
    if not photos:
        raise SystemExit("no photos found: pass --photos")

    print(f"gallery: {args.model} x {len(photos)} photos ({source})", flush=True)
    start = time.perf_counter()
    sheet, facts = build_gallery(
        args.model,
        photos,
        cell=args.cell,
        work_size=args.work_size,
        styles=args.only,
        overrides=parse_overrides(args.styles),
        paintings=not args.no_paintings,
        device=args.device,
        threads=args.threads,
    )
    quality, size = save_jpeg_under(sheet, args.out, args.max_kb * 1024)
    print(
        f"wrote {args.out} ({sheet.width}x{sheet.height} px, {size / 1024:.0f} KB, JPEG quality "
        f"{quality}): {len(photos)} photos x {len(facts['styles'])} styles, "  # type: ignore[arg-type]
        f"stylized at {args.work_size} px on {facts['provider']} "
        f"(median {facts['median_s']:.2f} s per image), {time.perf_counter() - start:.0f} s in all"
    )


if __name__ == "__main__":
    main()
