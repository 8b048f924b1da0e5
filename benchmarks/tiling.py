"""Seamless tiling: what it costs (tiled vs untiled time) and how exact it is (vs untiled).

(a) Time of the runtime's default tiling (1024 px tiles, 128 px overlap, thumbnail statistics
    with exact early layers), and of the same without the exact layers, vs one untiled run,
    at 3072 and 4096 px, on a real photo scaled up, and how close the tiled outputs come to
    the untiled one.
(b) Quality on real photos at 768-2048 px with small tiles (256 and 512 px), against the
    untiled output of the same model: mean absolute difference (0-255) and the seam ratio
    (mean absolute step across the tile borders, divided by the untiled output's step at the
    same rows and columns; 1.0 = no seam), for
      naive        independent tiles, no overlap, each tile its own statistics
      feather      overlapping feathered tiles, each tile its own statistics
      thumb r=R    feathered tiles normalised with the statistics of a thumbnail R times
                   smaller than the image (R = 1: the whole image gives them: exact statistics)
      thumb        the runtime's thumbnail (longer side 2.5 x the tile size) alone
      default      what the runtime does: that thumbnail, with the first 4 layers' statistics
                   made exact by passes over the full-size image
(c) With --figure PATH, a PNG strip of one crop around a tile corner: naive | runtime | untiled.

    python benchmarks/tiling.py [--time-sizes 3072 4096] [--sizes 768 1024 1536 2048]
        [--tiles 256 512] [--photos 2] [--ratios 1 1.5 2 4] [--repeats 3] [--figure PNG]
        [--model default.onnx|untrained] [--style NAME]

The model is the bundled style model (what users get; tiling matters most for a trained
model's textures) in its first style, or `--model PATH.onnx --style NAME`; `--model untrained`
exports an untrained `fast` checkpoint instead.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results
from inference_speed import (
    ROOT,
    checkpoint_for,
    export_model,
    load_photo,
    machine_line,
    photo_paths,
    timed_together,
)

from style_plugin.runtime.model import StyleModel, load_model
from style_plugin.runtime.pixels import from_float, to_batch
from style_plugin.runtime.statistics import LayerProbe, statistics_runs
from style_plugin.runtime.stylizer import Stylizer, _infer, _probe, _reach
from style_plugin.runtime.tiling import (
    DEFAULT_OVERLAP,
    DEFAULT_TILE_SIZE,
    THUMBNAIL_SCALE,
    Infer,
    TileSettings,
    stylize_tiled,
    tile_spans,
)

BUNDLED_MODEL = ROOT / "style_plugin" / "data" / "models" / "default.onnx"
#: How the results page names the ways of tiling.
LABELS = {
    "naive": "independent tiles",
    "feather": "feathered, own statistics",
    "r=1": "thumbnail r=1 (exact statistics)",
    "thumb": "thumbnail alone (2.5x tile)",
    "default": "**runtime default**",
}


@dataclass(frozen=True)
class Method:
    """One way of tiling: its name, its settings, and whether tiles share statistics."""

    name: str
    settings: TileSettings
    shared: bool
    naive: bool = False
    exact: bool = False

    def run(
        self, rgb: np.ndarray, infer: Infer, probe: LayerProbe | None, reach: int
    ) -> np.ndarray:
        """Tile `rgb`; `reach` (the model's, runtime/reach.py) only where tiles share statistics,
        as the runtime does."""
        if self.naive:
            return stylize_naive(rgb, infer, self.settings.tile_size)
        if self.exact:
            infer = with_exact_statistics(rgb, infer)
        return stylize_tiled(
            rgb,
            infer,
            self.settings,
            probe=probe,
            shared_statistics=self.shared,
            reach=reach if self.shared else 0,
        )


def with_exact_statistics(rgb: np.ndarray, infer: Infer) -> Infer:
    """`infer` with the whole image's own statistics in place of any given ones: what tiling
    gives when its statistics are exact. (A thumbnail as big as the image would not show
    it: the runtime then runs the image whole.)"""
    _, exact = infer(to_batch(rgb), None)
    return lambda batch, stats: infer(batch, None if stats is None else exact)


def stylize_naive(rgb: np.ndarray, infer: Infer, tile: int) -> np.ndarray:
    """Independent tiles on a plain grid (starts at multiples of `tile`), no overlap, no
    shared statistics: what tiling without the runtime's care gives."""
    out = np.empty_like(rgb)
    for top in range(0, rgb.shape[0], tile):
        for left in range(0, rgb.shape[1], tile):
            patch = rgb[top : top + tile, left : left + tile]
            batch = to_batch(patch)
            stylized, _ = infer(batch, None)
            out[top : top + tile, left : left + tile] = from_float(
                stylized[0].transpose(1, 2, 0), rgb.dtype
            )
    return out


def make_infer(model: StyleModel, style: str | None) -> Infer:
    """One style (None: the first), one [1,3,h,w] batch at a time, optionally with given
    statistics (the feeds the runtime's Stylizer sends; sizes here are above the minimum side)."""
    weights = model.style_weights(style)[None, :]
    wanted = ["stylized", "image_norm_stats"]
    one = np.ones(1, dtype=np.float32)

    def infer(batch: np.ndarray, stats: np.ndarray | None):
        feeds = {"image": batch, "style_weights": weights}
        if stats is not None:
            feeds |= {"norm_stats": stats, "norm_stats_mix": one}
        stylized, own = model.session.run(wanted, feeds)
        return stylized, own

    return infer


def border_lines(length: int, settings: TileSettings, naive: bool = False) -> list[int]:
    """Rows (or columns) where a tile starts or ends inside the image."""
    if naive:
        return list(range(settings.tile_size, length, settings.tile_size))
    spans = tile_spans(length, settings.tile_size, settings.overlap)
    lines = {start for start, _ in spans[1:]} | {end for _, end in spans[:-1]}
    return sorted(line for line in lines if 0 < line < length)


def mean_step(image: np.ndarray, rows: list[int], cols: list[int]) -> float:
    """Mean |difference| between each border line and the line before it, rows and columns."""
    values = image.astype(np.float32)
    steps = [np.abs(values[r] - values[r - 1]).ravel() for r in rows]
    steps += [np.abs(values[:, c] - values[:, c - 1]).ravel() for c in cols]
    return float(np.concatenate(steps).mean()) if steps else float("nan")


def compare(
    tiled: np.ndarray, untiled: np.ndarray, settings: TileSettings, naive: bool = False
) -> tuple[float, float]:
    """(mean |tiled - untiled| on 0-255, seam ratio) for tiles laid out by `settings`."""
    mad = float(np.abs(tiled.astype(np.int16) - untiled.astype(np.int16)).mean())
    rows = border_lines(tiled.shape[0], settings, naive)
    cols = border_lines(tiled.shape[1], settings, naive)
    return mad, mean_step(tiled, rows, cols) / mean_step(untiled, rows, cols)


def methods(size: int, tile: int, ratios: list[float]) -> list[Method]:
    overlap = min(DEFAULT_OVERLAP, tile // 2)  # what Stylizer(tile_size=tile) uses
    found = [
        Method("naive", TileSettings(tile, 0), shared=False, naive=True),
        Method("feather", TileSettings(tile, overlap), shared=False),
    ]
    for ratio in ratios:
        side = max(32, round(size / ratio))
        if ratio == 1:  # exact statistics, through the tiles (a small thumbnail, replaced)
            settings = TileSettings(tile, overlap, tile, exact_layers=0)
            found.append(Method("r=1", settings, shared=True, exact=True))
        else:
            settings = TileSettings(tile, overlap, side, exact_layers=0)
            found.append(Method(f"r={ratio:g}", settings, shared=True))
    found.append(Method("thumb", TileSettings(tile, overlap, exact_layers=0), shared=True))
    found.append(Method("default", TileSettings(tile, overlap), shared=True))
    return found


def _keep(outputs: dict, key: str, stylizer: Stylizer, rgb: np.ndarray, style: str | None) -> None:
    outputs[key] = stylizer.stylize_array(rgb, style, scale=0)  # tiles at full resolution


def time_table(model_path: Path, args: argparse.Namespace, report: results.Report) -> None:
    """(a): tiled (runtime defaults, and without the exact layers) vs untiled time, and how
    close the outputs are."""
    photo = photo_paths()[0]
    report.add(
        f"{model_path.name}, {photo.name} scaled to each size, tiles of {DEFAULT_TILE_SIZE} px "
        f"overlapping by {DEFAULT_OVERLAP}; medians of {args.repeats} interleaved runs after a "
        "warm-up. 'runtime' is the default (thumbnail statistics, the first layers' made "
        "exact), 'thumbnail' the same tiles with the thumbnail's statistics alone, 'exact' "
        "every layer's exact (`--exact-tiles`). Runs: tiles + thumbnail + exact-layer passes. "
        "MAD: mean absolute difference from the untiled output, 0-255."
    )
    rows = []
    model = load_model(model_path, device="cpu")
    tiled_settings = TileSettings()
    side = round(THUMBNAIL_SCALE * DEFAULT_TILE_SIZE)
    for size in args.time_sizes:
        rgb = load_photo(photo, size)
        thumb = Stylizer(model_path, device="cpu")
        thumb.tiles = TileSettings(exact_layers=0)
        stylizers = {
            "untiled": Stylizer(model_path, device="cpu", tile_size=size),
            "thumb": thumb,
            "tiled": Stylizer(model_path, device="cpu"),
            "exact": Stylizer(model_path, device="cpu", exact_tiles=True),
        }
        outputs: dict[str, np.ndarray] = {}
        runs = {
            key: functools.partial(_keep, outputs, key, stylizer, rgb, args.style)
            for key, stylizer in stylizers.items()
        }
        medians = timed_together(runs, args.repeats, args.repeats, 0)
        tiles = len(tile_spans(size, DEFAULT_TILE_SIZE, DEFAULT_OVERLAP)) ** 2
        weights = model.style_weights(args.style)
        probe, reach = _probe(model, weights), _reach(model, _infer(model, weights))
        exact_layers = tiled_settings.exact_layers
        passes = statistics_runs((size, size), side, probe, exact_layers, reach) - 1
        made = f"{tiles}+1+{passes}" if size > side else "1"
        mads = {k: compare(outputs[k], outputs["untiled"], tiled_settings) for k in runs}
        untiled_s, thumb_s, tiled_s, exact_s = (medians[k] for k in stylizers)
        rows.append(
            (size, made, f"{untiled_s:.2f}", f"{thumb_s:.2f}", f"{tiled_s:.2f}", f"{exact_s:.2f}",
             f"{mads['thumb'][0]:.2f}", f"{mads['tiled'][0]:.2f}", f"{mads['exact'][0]:.2f}",
             f"{mads['tiled'][1]:.2f}")
        )  # fmt: skip
    header = ["size", "runs", "untiled s", "thumbnail s", "runtime s", "exact s"]
    header += ["MAD thumbnail", "MAD runtime", "MAD exact", "seam"]
    report.table(header, rows, left=0)


def quality_table(model: StyleModel, args: argparse.Namespace, report: results.Report) -> dict:
    """(b): tiled vs untiled on real photos with small tiles; returns the outputs of one case
    for the figure."""
    infer = make_infer(model, args.style)
    probe, reach = _probe(model, model.style_weights(args.style)), _reach(model, infer)
    every = photo_paths()
    photos = every[:: max(1, len(every) // args.photos)][: args.photos]
    report.add(
        f"{model.path.name}, {len(photos)} photo(s) ({', '.join(p.name for p in photos)}) scaled "
        "to each size and tiled small, against the untiled output. MAD: mean absolute "
        "difference, 0-255; seam: the mean step across tile borders over the untiled image's "
        "step there (1.0: no seam); r=R: statistics of a thumbnail R times smaller than the "
        "image alone."
    )
    names = [m.name for m in methods(1024, 256, args.ratios)]
    mads: dict[str, list[float]] = {n: [] for n in names}
    seams: dict[str, list[float]] = {n: [] for n in names}
    rows = []
    figure: dict = {}
    for size in args.sizes:
        images = [load_photo(p, size) for p in photos]
        untiled = [stylize_tiled(rgb, infer, TileSettings(size, 0)) for rgb in images]
        for tile in args.tiles:
            if tile >= size:
                continue
            case_mad: dict[str, float] = {}
            case_seam: dict[str, float] = {}
            for method in methods(size, tile, args.ratios):
                results = []
                for k, rgb in enumerate(images):
                    out = method.run(rgb, infer, probe, reach)
                    results.append(compare(out, untiled[k], method.settings, method.naive))
                    if k == 0 and size == args.figure_size and tile == args.figure_tile:
                        figure[method.name] = out
                        figure["untiled"] = untiled[0]
                case_mad[method.name] = statistics.mean(r[0] for r in results)
                case_seam[method.name] = statistics.mean(r[1] for r in results)
                mads[method.name].append(case_mad[method.name])
                seams[method.name].append(case_seam[method.name])
            rows.append((size, tile, case_mad, case_seam))
            print(f"  done {size} px, tile {tile}", file=sys.stderr)
    summary = []
    for name in names:
        mad = statistics.mean(mads[name])
        # Under half a hundredth of a level the output is the untiled one: no ratio to quote.
        gain = "untiled" if mad < 0.005 else f"{statistics.mean(mads['naive']) / mad:.1f}x"
        summary.append(
            (LABELS.get(name, f"thumbnail {name}"), f"{mad:.2f}",
             f"{max(mads[name]):.2f}", gain, f"{statistics.mean(seams[name]):.2f}",
             f"{max(seams[name]):.2f}")
        )  # fmt: skip
    header = ["method", "mean MAD", "worst MAD", "vs independent tiles", "mean seam"]
    report.table([*header, "worst seam"], summary)
    report.add("Per case, MAD of the thumbnail alone and of the runtime default:")
    report.table(
        ["size", "tile", "tiles wide", "thumbnail alone", "runtime"],
        [
            (size, tile, f"{size / tile:g}", f"{mad['thumb']:.2f}", f"{mad['default']:.2f}")
            for size, tile, mad, _ in rows
        ],
        left=0,
    )
    worst_gain = min(c_mad["naive"] / max(c_mad["default"], 1e-9) for _, _, c_mad, _ in rows)
    report.add(
        f"Worst case of the runtime default over {len(rows)} size and tile cases: MAD "
        f"{max(mads['default']):.2f}, {worst_gain:.1f}x closer than independent tiles, seam "
        f"{max(seams['default']):.2f}."
    )
    return figure


def write_figure(path: Path, outputs: dict, size: int, tile: int, crop: int) -> None:
    """A strip naive | runtime default | untiled of one crop centred on a tile corner."""
    from PIL import Image, ImageDraw

    corner = (size // tile // 2) * tile  # a naive tile corner near the middle
    top = min(max(0, corner - crop // 2), size - crop)
    panels = [("naive tiles", "naive"), ("runtime tiling", "default"), ("untiled", "untiled")]
    gap, label = 6, 18
    strip = Image.new("RGB", (3 * crop + 2 * gap, crop + label), "white")
    draw = ImageDraw.Draw(strip)
    for k, (title, key) in enumerate(panels):
        patch = outputs[key][top : top + crop, top : top + crop]
        strip.paste(Image.fromarray(patch), (k * (crop + gap), label))
        draw.text((k * (crop + gap) + 4, 3), title, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    strip.save(path, optimize=True)
    if path.stat().st_size > 300_000:  # keep the docs light: a 256-colour palette is plenty
        strip.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
    print(
        f"\nwrote {path} ({path.stat().st_size / 1e3:.0f} KB): {crop}x{crop} crop at "
        f"({top}, {top}) of the {size} px case with {tile} px tiles"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-sizes", type=int, nargs="*", default=[3072, 4096])
    parser.add_argument("--sizes", type=int, nargs="*", default=[768, 1024, 1536, 2048])
    parser.add_argument("--tiles", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--photos", type=int, default=2, help="real photos per quality case")
    parser.add_argument("--ratios", type=float, nargs="+", default=[1, 1.5, 2, 4])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs in (a)")
    parser.add_argument("--figure", type=Path, help="write the comparison strip here (PNG)")
    parser.add_argument("--figure-size", type=int, default=1024)
    parser.add_argument("--figure-tile", type=int, default=256)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--model", default=str(BUNDLED_MODEL), help=".onnx, or 'untrained'")
    parser.add_argument("--style", help="the style to run (default: the model's first)")
    results.add_arguments(parser, "tiling", "Tiling")
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        if args.model == "untrained":
            checkpoint, which = checkpoint_for("fast", Path(tmp), prefer_trained=False)
            model_path = export_model(checkpoint, Path(tmp) / "fast.onnx")
        else:
            model_path, which = Path(args.model), "trained"
        model = load_model(model_path, device="cpu")
        style = args.style or model.style_names[0]
        print(
            f"model: {model_path.name} ({model.preset} {model.precision}, weights {which}), "
            f"style {style}; onnxruntime CPU provider"
        )
        if not model.tiling:
            sys.exit("the exported model does not expose normalisation statistics")
        if args.time_sizes:
            report = results.Report()
            time_table(model_path, args, report)
            name, title = f"{args.section}-time", f"{args.title}: time"
            results.publish(args, report, name=name, title=title)
        if args.sizes:
            report = results.Report()
            figure = quality_table(model, args, report)
            if args.figure and figure:
                write_figure(args.figure, figure, args.figure_size, args.figure_tile, args.crop)
            name, title = f"{args.section}-quality", f"{args.title}: how close to untiled"
            results.publish(args, report, name=name, title=title)


if __name__ == "__main__":
    main()
