"""The output side of a batch: each input's output path, name and format, decided before any
work, with the items that are skipped or cannot be done (and why).

Nothing is written here; the plan is what keeps a batch from writing onto an input, onto
another item's output, or over an existing file it was not asked to replace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from style_plugin.errors import StylePluginError
from style_plugin.runtime.inputs import InputItem, pillow_extensions
from style_plugin.runtime.options import OUTPUT_FORMATS, BatchOptions, OptionError, normalize_format
from style_plugin.runtime.report import Problem, Reason

__all__ = ["PlannedItem", "plan_outputs"]

#: Input formats whose own format (and extension) the output keeps; others are written as PNG
#: (GIF would be palette-quantised, most of the rest are rarely wanted as outputs).
_KEPT_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "TIFF", "BMP"})


@dataclass
class PlannedItem:
    """An input with its output path and format, or why it is skipped or cannot be done."""

    item: InputItem
    output: Path | None = None
    format: str | None = None
    error: str | None = None
    skip: bool = False


def _output_format(source_suffix: str, wanted: str | None) -> tuple[str, str | None]:
    """(Pillow format, new extension or None to keep the input's) for one input."""
    if wanted is not None:
        return OUTPUT_FORMATS[normalize_format(wanted)]
    fmt = pillow_extensions().get(source_suffix.lower())
    if fmt in _KEPT_FORMATS:
        return fmt, None
    return "PNG", ".png"


def _single_file_target(items: list[InputItem], options: BatchOptions) -> bool:
    """Whether `output` names the one output file (rather than a folder)."""
    out = options.output
    if out is None or options.output_is_dir or out.is_dir():
        return False
    if out.suffix.lower() not in pillow_extensions():
        return False
    usable = [item for item in items if item.error is None]
    from_folder = any(item.kind == "folder" for item in usable)
    if len(usable) <= 1 and not from_folder:
        return True
    found = f"{len(usable)} image{'' if len(usable) == 1 else 's'}"
    raise OptionError(
        "{0} {out} names one file, but the inputs give {found}; "
        "give a folder (e.g. {0} {folder}/) to write them into",
        "output",
        out=out,
        found=found + (" from a folder" if from_folder else ""),
        folder=out.with_suffix(""),
    )


def _single_file_format(target: Path, wanted: str | None) -> str:
    """The Pillow format of the one output file named `target`; it must agree with `wanted`."""
    fmt = pillow_extensions()[target.suffix.lower()]
    if wanted is not None and OUTPUT_FORMATS[normalize_format(wanted)][0] != fmt:
        raise OptionError(
            "{0} {wanted} does not match the output file name {target}",
            "format",
            wanted=wanted,
            target=target,
        )
    if fmt not in Image.SAVE:
        raise StylePluginError(f"cannot write {fmt} files ({target}); use png, jpeg, webp or tiff")
    return fmt


def _target(item: InputItem, options: BatchOptions, single: bool) -> tuple[Path, str]:
    """Where `item`'s result goes, and in which Pillow format."""
    if single:
        assert options.output is not None
        return options.output, _single_file_format(options.output, options.format)
    fmt, ext = _output_format(item.path.suffix, options.format)
    if options.output is not None:
        relative = item.relative
        name = relative.stem + (options.suffix or "") + (ext or relative.suffix)
        return options.output / relative.with_name(name), fmt
    suffix = options.default_suffix if options.suffix is None else options.suffix
    return item.path.with_name(item.path.stem + suffix + (ext or item.path.suffix)), fmt


def _check(
    plan: PlannedItem,
    target: Path,
    options: BatchOptions,
    inputs: set[str],
    taken: dict[str, Path],
) -> None:
    """Mark `plan` skipped or failed when `target` must not be written; claim it otherwise."""
    key = os.path.realpath(target)
    if key in inputs:
        if target.exists() and options.skip_existing:
            plan.skip = True
        elif key == os.path.realpath(plan.item.path):
            plan.error = f"refusing to write onto the input itself ({target})"
        else:
            why = f"its output {target} is another input of this batch"
            plan.error = Reason(why, Problem.OUTPUT_IS_AN_INPUT)
    elif key in taken:
        why = f"its output {target} is also the output of {taken[key]}"
        plan.error = Reason(why, Problem.OUTPUT_SHARED)
    else:
        taken[key] = plan.item.path
        if target.is_dir():
            plan.error = f"its output {target} is a folder"
        elif target.exists() or target.is_symlink():
            if options.skip_existing:
                plan.skip = True
            elif not options.overwrite:
                plan.error = Reason(f"{target} exists", Problem.OUTPUT_EXISTS)


def plan_outputs(items: list[InputItem], options: BatchOptions) -> list[PlannedItem]:
    """Where each input's result goes, and which items are skipped or fail before any work.

    Fails (per item, the batch goes on): an output that is an input of this batch, two
    inputs mapping to one output (the second fails), an existing output without
    `overwrite` / `skip_existing`. OptionError (before any work) for an output file name
    with several inputs, or one whose suffix disagrees with `format`.
    """
    single = _single_file_target(items, options)
    inputs = {os.path.realpath(item.path) for item in items if item.error is None}
    taken: dict[str, Path] = {}
    planned = []
    for item in items:
        plan = PlannedItem(item, error=item.error)
        planned.append(plan)
        if item.error is None:
            plan.output, plan.format = _target(item, options, single)
            _check(plan, plan.output, options, inputs, taken)
    return planned
