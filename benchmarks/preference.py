"""Blind pairwise preference: which of two outputs carries more of the painting's style?

`sheets` makes one picture per (style, photo, pair of methods) from the outputs that
benchmarks/quality.py wrote (OUT/STYLE/PHOTO_METHOD.jpg): the painting, then the two outputs
side by side as "A" and "B" in a random order. The pictures are numbered in a shuffled order and
carry no file name, method or style; the order is recorded in a key kept apart from them:

    python benchmarks/preference.py sheets out/quality --pair ours:previous --pair ours:magenta \\
        --sheets out/blind/sheets --key out/blind/key.json [--seed 0]

A judge who sees only the folder of sheets writes one line per sheet to a TSV file, with the
flaws seen in each output (a frame, a strip, a seam, a grid...; "-" for none) if asked:

    sheet  choice(A|B)  style_A(1-5)  style_B(1-5)  content_A(1-5)  content_B(1-5)  [flaws_A  flaws_B]

`tally` joins the answers (one file per judge; several judges may answer the same sheet) with
the key and prints, per pair and style, how often each method won (with counts), its mean
style-likeness and content-recognisability ratings and how many of its outputs had a flaw
named, then every flaw named; with `--section`, also into that section of docs/results.md,
the methods named as `--name` says:

    python benchmarks/preference.py tally out/blind/key.json out/blind/answers-*.tsv \\
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


RATINGS = ("style_A", "style_B", "content_A", "content_B")
NO_FLAW = ("", "-", "none")


def read_answers(path: Path) -> dict[str, dict]:
    """sheet -> {choice, style_A, style_B, content_A, content_B, flaws_A, flaws_B, flaws_asked}
    of one judge; '#' lines and a header skipped; the flaw columns are optional ('' when
    absent or none)."""
    answers = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0].startswith("#") or row[0] == "sheet":
                continue
            name, choice, *rest = (c.strip() for c in row)
            if choice not in ("A", "B") or len(rest) not in (4, 6):
                raise SystemExit(f"{path}: bad line {row!r}")
            flaws = [f if f.lower() not in NO_FLAW else "" for f in rest[4:]] or ["", ""]
            answers[name] = {
                "choice": choice,
                **dict(zip(RATINGS, (float(r) for r in rest[:4]), strict=True)),
                "flaws_A": flaws[0],
                "flaws_B": flaws[1],
                "flaws_asked": len(rest) == 6,
            }
    return answers


def tally(args: argparse.Namespace) -> None:
    names = dict(item.split("=", 1) for item in args.name)
    key = json.loads(args.key.read_text(encoding="utf-8"))
    judged = [read_answers(path) for path in args.answers]
    missing = sorted(name for name in key if not any(name in answers for answers in judged))
    if missing:
        print(f"no answer for {len(missing)} sheets: {', '.join(missing[:5])} ...")
    groups: dict[tuple[str, str, str], list[dict]] = {}
    flaws: list[tuple[str, str, str, str]] = []  # method, style, photo, what was named
    for name, item in key.items():
        for answers in judged:
            if name not in answers:
                continue
            answer = answers[name]
            record = {}
            for side in ("A", "B"):
                record[item[side]] = {
                    "won": answer["choice"] == side,
                    "style": answer[f"style_{side}"],
                    "content": answer[f"content_{side}"],
                    "flawed": bool(answer[f"flaws_{side}"]),
                }
                if answer[f"flaws_{side}"]:
                    flaws.append(
                        (
                            item[side],
                            item["style"],
                            Path(item["photo"]).name,
                            answer[f"flaws_{side}"],
                        )
                    )
            for style in (item["style"], "all"):
                groups.setdefault((*item["pair"], style), []).append(record)  # --pair's order
    report = results.Report()
    judges = f"{args.judges} judge{'s' if args.judges != 1 else ''}" if args.judges else "judges"
    sheets = sum(any(name in answers for answers in judged) for name in key)
    count = sum(len(answers.keys() & key.keys()) for answers in judged)
    each = "one answer to a sheet" if count == sheets else f"{count} answers in all"
    report.add(
        f"{sheets} sheets, each the painting and two unlabelled outputs of one held-out photo "
        f"in a random order, answered by {judges} who saw only the sheets, {each}: which "
        "output carries more of the painting's style, each output's style likeness and content "
        "recognisability from 1 to 5"
        + (", and any flaw seen in it." if any(_asked_flaws(a) for a in judged) else ".")
    )
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][:2], kv[0][2] == "all", kv[0][2]))
    rows = []
    for (first, second, style), records in ordered:
        wins = sum(r[first]["won"] for r in records)

        def mean(method: str, what: str, records: list[dict] = records) -> float:
            return statistics.fmean(r[method][what] for r in records)

        def flawed(method: str, records: list[dict] = records) -> int:
            return sum(r[method]["flawed"] for r in records)

        shown = names.get(first, first)
        rows.append(
            (
                f"{shown} vs {names.get(second, second)}",
                style,
                f"{shown} {wins}/{len(records)} ({100 * wins / len(records):.0f}%)",
                f"{mean(first, 'style'):.1f} vs {mean(second, 'style'):.1f}",
                f"{mean(first, 'content'):.1f} vs {mean(second, 'content'):.1f}",
                f"{flawed(first)} vs {flawed(second)}",
            )
        )
    header = ["pair", "style", "wins", "style likeness 1-5", "content 1-5", "flaws named"]
    report.table(header, rows, left=6)
    if flaws:
        report.add("Flaws the judges named:")
        report.add(
            "\n".join(
                f"- {names.get(m, m)}, {style}, {photo}: {what}"
                for m, style, photo, what in sorted(flaws)
            )
        )
    if args.section:
        results.publish(args, report, date=args.judged)


def _asked_flaws(answers: dict[str, dict]) -> bool:
    """Whether a judge's file has the flaw columns."""
    return any(a["flaws_asked"] for a in answers.values())


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
    t.add_argument("answers", type=Path, nargs="+", help="one TSV file per judge")
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
