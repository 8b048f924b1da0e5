"""The `export` command: a trained run -> a deployable style model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from style_plugin.cli.app import app, fail, require_torch
from style_plugin.contract import printable


@app.command()
def export(
    source: Annotated[
        Path, typer.Argument(metavar="RUN", help="A training run folder, or a checkpoint file.")
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FILE", help="The style model file to write."),
    ] = ...,  # type: ignore[assignment]
    export_format: Annotated[
        str,
        typer.Option(
            "--format", "-f", metavar="FORMAT", help="Export format: onnx, or one a plugin adds."
        ),
    ] = "onnx",
    opset: Annotated[int, typer.Option(metavar="17..20", help="ONNX opset version.")] = 17,
    fp16: Annotated[
        bool,
        typer.Option(
            "--fp16",
            help="Weights in float16, half the file; inputs, outputs and instance norm "
            "stay float32.",
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            help="Check the exported model in onnxruntime against PyTorch before keeping it."
        ),
    ] = True,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", metavar="NAME=LABEL", help="A style's display label; repeatable."),
    ] = None,
    style: Annotated[
        list[str] | None,
        typer.Option(
            "--style",
            "-s",
            metavar="NAME",
            help="Export only this style; repeatable, in the order given. Default: all.",
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
) -> None:
    """Export a training run or checkpoint as a style model file."""
    require_torch()
    from style_plugin.plugins import get_exporter

    labels: dict[str, str] = {}
    for item in label or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            fail(f"--label takes NAME=LABEL, got {item!r}")
        labels[name.strip()] = text
    exporter = get_exporter(export_format)
    report = exporter.export(
        source,
        output,
        opset=opset,
        fp16=fp16,
        verify=verify,
        labels=labels,
        overwrite=overwrite,
        styles=style,
    )
    typer.echo(printable(report.summary()))
