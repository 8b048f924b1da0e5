"""Blind pairwise preference: which of two outputs carries more of the painting's style?

`sheets` makes one picture per (style, photo, pair of methods) from the outputs that
benchmarks/quality.py wrote (OUT/STYLE/PHOTO_METHOD.jpg): the painting, then the two outputs
side by side as "A" and "B" in a random order. The pictures are numbered in a shuffled order and
carry no file name, method or style; the order is recorded in a key kept apart from them:

    python benchmarks/preference.py sheets out/quality --pair ours:previous --pair ours:magenta \\
        --sheets out/blind/sheets --key out/blind/key.json [--seed 0]

A judge who sees only the folder of sheets writes one line per sheet to a TSV file:

    sheet  choice(A|B)  style_A(1-5)  style_B(1-5)  content_A(1-5)  content_B(1-5)

`tally` joins the answers with the key and prints, per pair and style, how often each method won
(with counts) and its mean style-likeness and content-recognisability ratings; with
`--section`, also into that section of docs/results.md, the methods named as `--name` says:

    python benchmarks/preference.py tally out/blind/key.json out/blind/answers.tsv \\
        [--section blind-bundled --judges 2 --judged 2026-12-04 --name previous="the old model"]

The keys and answers of the judged tests are kept in benchmarks/blind/.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results  # benchmarks/ is not a package
from gallery import INK, centered_text, font

CELL = 384  # px: the long side of each image on a sheet
GAP = 8


def fit(image: Image.Image, side: int) -> Image.Image:
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def sheet(painting: Path, left: Path, right: Path) -> Image.Image:
    """painting | A | B, each scaled to CELL px on its long side, with only those labels."""
    images = [fit(Image.open(p), CELL) for p in (painting, left, right)]
    label_h = 30
    width = sum(i.width for i in images) + GAP * 4
    height = max(i.height for i in images) + label_h + GAP * 2
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    face = font(20)
    x = GAP
    for label, image in zip(("painting", "A", "B"), images, strict=True):
        centered_text(draw, (x, GAP, x + image.width, GAP + label_h), label, face)
        canvas.paste(image, (x, GAP + label_h))
        x += image.width + GAP
    draw.line([(images[0].width + GAP * 1.5, 0), (images[0].width + GAP * 1.5, height)], fill=INK)
    return canvas


def make_sheets(args: argparse.Namespace) -> None:
    pairs = [tuple(p.split(":", 1)) for p in args.pair]
    rng = random.Random(args.seed)
    report = json.loads((args.results / "quality.json").read_text(encoding="utf-8"))
    items = []
    for style in report["paintings"]:
        for photo in report["photos"][: args.photos or None]:
            stem = Path(photo).stem
            for first, second in pairs:
                outputs = [args.results / style / f"{stem}_{m}.jpg" for m in (first, second)]
                if not all(o.is_file() for o in outputs):
                    print(f"skip {style} {photo} {first}:{second}: an output is missing")
                    continue
                order = [first, second] if rng.random() < 0.5 else [second, first]
                items.append(
                    {
                        "style": style,
                        "photo": photo,
                        "A": order[0],
                        "B": order[1],
                        "pair": [first, second],
                    }
                )
    rng.shuffle(items)
    args.sheets.mkdir(parents=True, exist_ok=True)
    if any(args.sheets.iterdir()) or args.key.exists():
        raise SystemExit(f"{args.sheets} or {args.key} exists: a new set of sheets needs new ones")
    key = {}
    for number, item in enumerate(items, 1):
        name = f"sheet-{number:03d}.png"
        painting = Path(report["paintings"][item["style"]])
        outputs = [
            args.results / item["style"] / f"{Path(item['photo']).stem}_{item[s]}.jpg"
            for s in ("A", "B")
        ]
        sheet(painting, *outputs).save(args.sheets / name)
        key[name] = item
    args.key.parent.mkdir(parents=True, exist_ok=True)
    args.key.write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(key)} sheets to {args.sheets} and their key to {args.key}")


def read_answers(path: Path) -> dict[str, dict]:
    """sheet -> {choice, style_A, style_B, content_A, content_B}; '#' lines and a header skipped."""
    answers = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0].startswith("#") or row[0] == "sheet":
                continue
            name, choice, *ratings = (c.strip() for c in row)
            if choice not in ("A", "B") or len(ratings) != 4:
                raise SystemExit(f"{path}: bad line {row!r}")
            values = [float(r) for r in ratings]
            answers[name] = {
                "choice": choice,
                **dict(zip(("style_A", "style_B", "content_A", "content_B"), values, strict=True)),
            }
    return answers


def tally(args: argparse.Namespace) -> None:
    names = dict(item.split("=", 1) for item in args.name)
    key = json.loads(args.key.read_text(encoding="utf-8"))
    answers = read_answers(args.answers)
    missing = sorted(set(key) - set(answers))
    if missing:
        print(f"no answer for {len(missing)} sheets: {', '.join(missing[:5])} ...")
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for name, item in key.items():
        if name not in answers:
            continue
        answer = answers[name]
        methods = item["pair"]  # in the order --pair named them
        record = {}
        for side in ("A", "B"):
            record[item[side]] = {
                "won": answer["choice"] == side,
                "style": answer[f"style_{side}"],
                "content": answer[f"content_{side}"],
            }
        for style in (item["style"], "all"):
            groups.setdefault((methods[0], methods[1], style), []).append(record)
    report = results.Report()
    judges = f"{args.judges} judge{'s' if args.judges != 1 else ''}" if args.judges else "judges"
    answered = sum(name in answers for name in key)
    report.add(
        f"{answered} sheets, each the painting and two unlabelled outputs of one held-out photo "
        f"in a random order, answered by {judges} who saw only the sheets, one answer to a sheet: "
        "which output carries more of the painting's style, and each output's style likeness "
        "and content recognisability from 1 to 5."
    )
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][:2], kv[0][2] == "all", kv[0][2]))
    rows = []
    for (first, second, style), records in ordered:
        wins = sum(r[first]["won"] for r in records)

        def mean(method: str, what: str, records: list[dict] = records) -> float:
            return statistics.fmean(r[method][what] for r in records)

        shown = names.get(first, first)
        rows.append(
            (
                f"{shown} vs {names.get(second, second)}",
                style,
                f"{shown} {wins}/{len(records)} ({100 * wins / len(records):.0f}%)",
                f"{mean(first, 'style'):.1f} vs {mean(second, 'style'):.1f}",
                f"{mean(first, 'content'):.1f} vs {mean(second, 'content'):.1f}",
            )
        )
    report.table(["pair", "style", "wins", "style likeness 1-5", "content 1-5"], rows, left=5)
    if args.section:
        results.publish(args, report, date=args.judged)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sheets", help="make blind sheets from quality.py's outputs")
    s.add_argument("results", type=Path, help="quality.py's --out folder")
    s.add_argument("--pair", action="append", required=True, metavar="METHOD:METHOD")
    s.add_argument("--photos", type=int, default=0, help="use the first N photos (0: all)")
    s.add_argument("--sheets", type=Path, required=True)
    s.add_argument("--key", type=Path, required=True)
    s.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("tally", help="win rates and ratings from a judge's answers")
    t.add_argument("key", type=Path)
    t.add_argument("answers", type=Path)
    t.add_argument("--name", action="append", default=[], metavar="METHOD=NAME",
                   help="how the results page names a method of the key")  # fmt: skip
    t.add_argument("--judges", type=int, help="how many judges answered")
    t.add_argument("--judged", help="the date of the answers, YYYY-MM-DD (default: today)")
    results.add_arguments(t, None, "Blind preference")
    args = parser.parse_args(argv)
    if args.command == "tally" and args.section and not args.judges:
        parser.error("tally --section needs --judges N: the results page says how many judged")
    make_sheets(args) if args.command == "sheets" else tally(args)


if __name__ == "__main__":
    main()
