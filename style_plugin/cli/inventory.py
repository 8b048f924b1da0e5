"""What is installed and whether it works: `models` and `doctor`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from style_plugin import contract
from style_plugin.cli.app import app
from style_plugin.errors import StylePluginError, one_line


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List installed styles, and any broken model files and plugins.

    Styles come from the bundled models, style packs and the user model folder, each with the painting it was trained on when its model says.
    """
    import json
    from dataclasses import asdict

    from style_plugin.plugins import registry
    from style_plugin.runtime.session import SessionSettings
    from style_plugin.runtime.store import bundled_models_dir, list_styles, style_clashes
    from style_plugin.user_dirs import user_models_dir

    skipped = [asdict(plugin) for plugin in registry().broken]  # also loads the packs' styles
    listing = list_styles(SessionSettings(device="cpu"))  # listing needs no GPU
    styles = [
        {
            "name": info.name,
            "label": info.label,
            "painting": _painting(loaded.metadata, info.name),
            "model": str(entry.path),
            "source": entry.source,
            "preset": loaded.preset,
            "precision": loaded.precision,
        }
        for entry, loaded in listing.models
        for info in loaded.styles
    ]
    broken = [
        {"model": str(entry.path), "source": entry.source, "reason": reason}
        for entry, reason in listing.broken
    ]
    clashes = style_clashes(listing)
    folder = user_models_dir()
    if as_json:
        document = {
            "styles": styles,
            "clashes": clashes,
            "broken": broken,
            "broken_plugins": skipped,
            "user_models_dir": str(folder),
            "bundled_models_dir": str(bundled_models_dir()),
        }
        typer.echo(json.dumps(document, indent=2))
        return
    if styles:
        columns = ("name", "label", "painting", "source", "preset", "precision", "model")
        rows = [[str(style[k] or "-") for k in columns] for style in styles]
        _print_table(rows, headers=[k.upper() for k in columns])
    else:
        typer.echo("no style models installed.")
        typer.echo(
            f"Add one: style-plugin export RUN_DIR -o {folder / 'name.onnx'}  "
            f"(the user model folder is {folder}), or pass --model FILE.onnx to stylize."
        )
    for name, sources in clashes.items():
        others = ", ".join(f"{source}:{name}" for source in sources[1:])
        typer.echo(
            contract.printable(
                f"note: style {name!r} is in {', '.join(sources)}; {name!r} means the one from "
                f"{sources[0]}, pick another with {others}"
            )
        )
    if broken:
        typer.echo("")
        typer.echo(f"broken model files ({len(broken)}, skipped):")
        for item in broken:
            reason = item["reason"].removeprefix(f"{item['model']} ")
            typer.echo(contract.printable(f"  {item['model']} ({item['source']}): {reason}"))
    if skipped:
        typer.echo("")
        typer.echo(f"broken plugins ({len(skipped)}, skipped):")
        for plugin in skipped:
            typer.echo(
                contract.printable(f"  {plugin['name']} ({plugin['stage']}): {plugin['reason']}")
            )
    if styles:
        typer.echo("")
        typer.echo(f"user model folder: {folder}")


def _print_table(rows: list[list[str]], headers: list[str] | None = None) -> None:
    """`rows` as a rich table on stdout, every cell escaped (`printable`) and shown as text,
    never as rich markup: names come from model files. On a terminal the table fits its
    width; elsewhere it is plain columns, a row a line, never wrapped, so grep and cut work."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = sys.stdout.isatty()
    table = Table(
        show_header=headers is not None,
        header_style="bold" if terminal else "",
        box=box.SIMPLE_HEAD if terminal else None,
        show_edge=False,
        pad_edge=False,
    )
    for header in headers or [""] * len(rows[0]):
        table.add_column(header, overflow="fold")  # a long path wraps, never cut short
    for row in rows:
        table.add_row(*(Text(contract.printable(cell)) for cell in row))
    if terminal:
        Console(file=sys.stdout, highlight=False).print(table)
        return
    plain = Console(width=1_000_000, color_system=None, highlight=False)
    with plain.capture() as captured:
        plain.print(table)
    for line in captured.get().splitlines():
        typer.echo(line.rstrip())


def _painting(metadata: dict, style: str) -> str | None:
    """The file name of the painting a style was trained on, from the model's training
    summary (None when the model does not say)."""
    training = metadata.get("training")
    styles = training.get("styles") if isinstance(training, dict) else None
    painting = styles.get(style) if isinstance(styles, dict) else None
    return painting if isinstance(painting, str) else None


def _version(distribution: str) -> str | None:
    """An installed distribution's version, without importing it."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _plugins_line() -> str:
    """The installed plugins by name and how many were skipped (this loads them)."""
    from style_plugin.plugins import BUILTIN_NAME, plugin_manager, registry

    skipped = len(registry().broken)
    names = [name for name, _ in plugin_manager().list_name_plugin() if name != BUILTIN_NAME]
    line = ", ".join(sorted(names)) or "none installed"
    return f"{line}; {skipped} skipped (see `style-plugin models`)" if skipped else line


def _cuda_check(model_path: Path | None) -> str:
    """One line: whether CUDA really runs a style model here, and if not why."""
    from style_plugin.runtime.model import load_model
    from style_plugin.runtime.providers import available_providers
    from style_plugin.runtime.store import discover_models

    if "CUDAExecutionProvider" not in available_providers():
        return "not available: this onnxruntime build has no GPU support (install onnxruntime-gpu)"
    candidates = [model_path] if model_path else [e.path for e in discover_models()]
    if not candidates:
        return (
            "not checked: the check loads a style model and none is installed "
            "(see `style-plugin models`, or pass --model FILE.onnx)"
        )
    problems = []
    for path in candidates:
        try:
            loaded = load_model(path, device="cuda")
        except StylePluginError as exc:
            problems.append(str(exc))
            continue
        report = loaded.session.provider
        if report.used == "cpu":
            return f"not used here: {report.reason or 'onnxruntime chose the CPU'}"
        try:
            import numpy as np

            side = max(loaded.min_side, 8)
            image = np.zeros((1, 3, side, side), dtype=np.float32)
            weights = loaded.style_weights(None)[None, :]
            loaded.session.run(
                [contract.STYLIZED], {contract.IMAGE: image, contract.STYLE_WEIGHTS: weights}
            )
        except Exception as exc:  # one line, whatever onnxruntime raised
            text = one_line(exc, limit=160, last=True)
            return f"{report.used} session created, but a test run failed: {text}"
        return f"works: {path.name} ran on {report.used}"
    return f"not checked: no style model could be loaded ({problems[0]})"


@app.command()
def doctor(
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            "-m",
            metavar="FILE",
            help="A style model file to check CUDA with. Default: the first installed one that loads.",
        ),
    ] = None,
) -> None:
    """Show versions, folders, providers and whether CUDA really works."""
    import os
    import platform

    from style_plugin import __version__
    from style_plugin.runtime.providers import available_providers
    from style_plugin.runtime.store import bundled_models_dir
    from style_plugin.user_dirs import user_cache_dir, user_models_dir

    rows: list[list[str]] = []

    def row(label: str, value: object) -> None:
        rows.append([label, str(value)])  # escaped there: load errors quote model files

    row("style-plugin", __version__)
    row("python", f"{platform.python_version()} ({sys.executable})")
    row("platform", platform.platform())
    ort_dists = [d for d in ("onnxruntime-gpu", "onnxruntime") if _version(d)]
    for dist in ort_dists or ["onnxruntime"]:
        row(dist, _version(dist) or "not installed")
    for dist, label in (("numpy", "numpy"), ("pillow", "Pillow"), ("typer", "typer")):
        row(label, _version(dist) or "not installed")
    row("torch", _version("torch") or "not installed (needed only to train and export)")
    row("plugins", _plugins_line())  # before the CUDA check: style packs' models count
    try:
        listed = available_providers()
    except ImportError as exc:
        row("providers", f"onnxruntime cannot be imported: {exc}")
    else:
        row("providers", ", ".join(listed))
        row("CUDA", _cuda_check(model))
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    row("CPU cores", f"{usable}" + (f" usable of {cores}" if usable != cores else ""))

    def folder_line(folder: Path) -> str:
        if not folder.is_dir():
            return f"{folder} (does not exist yet)"
        count = sum(1 for _ in folder.glob("*.onnx"))
        return f"{folder} ({count} model file{'' if count == 1 else 's'})"

    row("bundled models", folder_line(bundled_models_dir()))
    row("user models", folder_line(user_models_dir()))
    row("cache", user_cache_dir())
    _print_table(rows)
