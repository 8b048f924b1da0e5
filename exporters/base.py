"""What every export format provides and reports; light to import (no torch, no onnx)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote and how well the written model matched PyTorch.

    `max_abs_diff` is the largest absolute difference between the exported model (run in its
    own runtime) and the PyTorch fp32 generator over every verified image, or None when
    verification was skipped; `verified_sizes` lists the (height, width) sizes it covered.
    """

    output: Path
    size_bytes: int
    styles: tuple[str, ...]
    labels: tuple[str, ...]
    preset: str
    precision: str
    opset: int
    max_abs_diff: float | None = None
    verified_sizes: tuple[tuple[int, int], ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One line for people: where, how big, which styles, precision, verification."""
        size = f"{self.size_bytes / 1024:.0f} KiB"
        if self.max_abs_diff is None:
            checked = "not verified"
        else:
            sizes = ", ".join(f"{h}x{w}" for h, w in self.verified_sizes)
            checked = f"verified at {sizes}: max abs diff {self.max_abs_diff:.2g}"
        return (
            f"wrote {self.output} ({size}, {self.precision}, opset {self.opset}, "
            f"preset {self.preset}); styles: {', '.join(self.styles)}; {checked}"
        )


@dataclass(frozen=True)
class Exporter:
    """One export format: a name users type, the file suffix it writes, and its function.

    `export(source, output, **options)` turns a training run folder or checkpoint file into a
    deployable file and returns an `ExportReport`. The `export` command passes the options
    `opset`, `fp16`, `verify`, `labels`, `overwrite` and `styles` (a subset to export, or
    None for all). The function must import heavy libraries
    (torch, onnx) itself, so that listing formats stays cheap for hosts.
    """

    name: str
    suffix: str
    description: str
    function: Callable[..., ExportReport]

    def export(self, source: str | Path, output: str | Path, **options: Any) -> ExportReport:
        """Export `source` (run folder or checkpoint) to `output` with format options."""
        return self.function(source, output, **options)
