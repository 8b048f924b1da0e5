"""The output side of a batch: each input's output path, name and format, decided before any
work, with the items that are skipped or cannot be done (and why).

Nothing is written here; the plan is what keeps a batch from writing onto an input, onto
another item's output, or over an existing file it was not asked to replace, and from
working on its own earlier outputs or on an image its output format cannot hold.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from style_plugin.errors import StylePluginError
from style_plugin.runtime.inputs import InputItem, pillow_extensions
from style_plugin.runtime.options import OUTPUT_FORMATS, BatchOptions, OptionError, normalize_format
from style_plugin.runtime.reading import reads_16_bit_colour
from style_plugin.runtime.report import Problem, Reason, failure_reason
from style_plugin.runtime.wide_colour import WIDE_FORMATS

__all__ = ["Plan", "PlannedItem", "plan_outputs"]

#: Input formats whose own format (and extension) the output keeps; others are written as PNG
#: (GIF would be palette-quantised, most of the rest are rarely wanted as outputs).
_KEPT_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "TIFF", "BMP"})
#: Output formats that cannot store transparency: an input that has some fails as soon as it
#: is decoded, before its work (runtime/batch.py).
OPAQUE_FORMATS = frozenset({"JPEG"})
#: The longest file name, in bytes, that common file systems take (NAME_MAX on Linux).
_NAME_MAX = 255
#: How many left-out inputs a note names before it counts the rest.
_NAMED = 3


@dataclass
class PlannedItem:
    """An input with its output path and format, or why it is skipped or cannot be done."""

    item: InputItem
    output: Path | None = None
    format: str | None = None
    error: str | None = None
    skip: bool = False


class Plan(list[PlannedItem]):
    """The planned items in the inputs' order, and `notes`: lines worth telling that are not
    failures (inputs left out as other inputs' outputs, outputs that keep fewer bits)."""

    def __init__(self, items: Iterable[PlannedItem] = (), notes: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.notes = list(notes)


def _output_format(source_suffix: str, wanted: str | None) -> tuple[str, str | None]:
    """(Pillow format, new extension or None to keep the input's) for one input."""
    if wanted is not None:
        return OUTPUT_FORMATS[normalize_format(wanted)]
    fmt = pillow_extensions().get(source_suffix.lower())
    if fmt in _KEPT_FORMATS:
        return fmt, None
    return "PNG", ".png"


def _single_file_target(items: list[InputItem], options: BatchOptions) -> bool:
    """Whether `output` names the one output file (an image suffix) rather than a folder (no
    suffix, a trailing separator, or an existing folder); OptionError for another suffix."""
    out = options.output
    if out is None or options.output_is_dir or os.path.isdir(out) or not out.suffix:
        return False
    if out.suffix.lower() not in pillow_extensions():
        raise OptionError(
            "{0} {out}: {suffix!r} is not an image file extension; name a .png, .jpg, .webp "
            "or .tif file, or a folder as {out}/",
            "output",
            out=out,
            suffix=out.suffix,
        )
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
    size = len(os.fsencode(target.name))
    key = os.path.realpath(target)
    if size > _NAME_MAX:
        plan.error = (
            f"its output's file name would be {size} bytes, over the {_NAME_MAX}-byte limit"
        )
    elif key in inputs:
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
        try:
            _check_existing(plan, target, options)
        except OSError as exc:  # a folder that cannot be searched, a path too long, ...
            plan.error = failure_reason(exc, plan.item.path)


def _check_existing(plan: PlannedItem, target: Path, options: BatchOptions) -> None:
    """Mark `plan` skipped or failed for what is already at `target`, as `options` ask."""
    if target.is_dir():
        plan.error = f"its output {target} is a folder"
    elif target.exists() or target.is_symlink():
        if options.skip_existing:
            plan.skip = True
        elif not options.overwrite:
            plan.error = Reason(f"{target} exists", Problem.OUTPUT_EXISTS)


def _earlier_outputs(items: list[InputItem], options: BatchOptions) -> list[InputItem]:
    """Inputs found in a folder or by a pattern that are another input's output, named from
    that input's name (not the same name with another extension): results of an earlier run,
    left out so that a second run neither works on its own outputs nor fails on them.
    Files named on their own are always kept."""
    usable = [item for item in items if item.error is None]
    sources = {os.path.realpath(_target(item, options, False)[0]): item for item in usable}
    return [
        item
        for item in usable
        if item.kind != "file" and _named_from(item, sources.get(os.path.realpath(item.path)))
    ]


def _named_from(output: InputItem, source: InputItem | None) -> bool:
    """Whether `output`'s name was made from `source`'s by more than a change of extension."""
    return source is not None and _stem(output) != _stem(source)


def _stem(item: InputItem) -> str:
    """The item's real path without its extension."""
    return os.path.splitext(os.path.realpath(item.path))[0]


def _left_out_note(left_out: list[InputItem]) -> str:
    """One line on the inputs left out as other inputs' outputs, naming the first few."""
    names = ", ".join(str(item.path) for item in left_out[:_NAMED])
    if len(left_out) > _NAMED:
        names += f" and {len(left_out) - _NAMED} more"
    files = "a file" if len(left_out) == 1 else f"{len(left_out)} files"
    return (
        f"left out {files} named as the output of another input (an earlier result?): "
        f"{names}; to include one, name it on its own"
    )


def _plan_item(
    item: InputItem,
    options: BatchOptions,
    single: bool,
    inputs: set[str],
    taken: dict[str, Path],
) -> PlannedItem:
    """`item` with its output and format, or why it is skipped or cannot be done."""
    plan = PlannedItem(item, error=item.error)
    if item.error is None:
        plan.output, plan.format = _target(item, options, single)
        _check(plan, plan.output, options, inputs, taken)
    return plan


def plan_outputs(items: list[InputItem], options: BatchOptions) -> Plan:
    """Where each input's result goes, and which items are skipped or fail before any work.

    Inputs found in a folder or by a pattern that are another input's output (an earlier
    run's results) are left out, with a note. Fails (per item, the batch goes on): an output
    that is an input of this batch, two inputs mapping to one output (the second fails), an
    existing output without `overwrite` / `skip_existing`, a file name too long, an input
    with transparency for a format without it. Notes a 16-bit colour PNG or TIFF whose output
    format holds 8 bits per channel. OptionError (before any work) for an output file name
    with several inputs, one whose suffix disagrees with `format`, or one with a suffix that
    is no image's.
    """
    single = _single_file_target(items, options)
    left_out = [] if single else _earlier_outputs(items, options)
    plan = Plan(notes=[_left_out_note(left_out)] if left_out else [])
    leave = set(left_out)
    kept = [item for item in items if item not in leave]
    inputs = {os.path.realpath(item.path) for item in kept if item.error is None}
    taken: dict[str, Path] = {}
    for item in kept:
        planned = _plan_item(item, options, single, inputs, taken)
        plan.append(planned)
        if _narrowed(planned):
            plan.notes.append(
                f"{item.path}: 16 bits per channel; {planned.format} holds 8, "
                "so the output has 8 bits per channel"
            )
    return plan


def _narrowed(plan: PlannedItem) -> bool:
    """Whether `plan` will write a 16-bit colour input in a format of 8 bits per channel."""
    if plan.error is not None or plan.skip or plan.format in WIDE_FORMATS:
        return False
    return reads_16_bit_colour(plan.item.path)
