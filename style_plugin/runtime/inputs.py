"""The input side of a batch: files, folders and glob patterns turned into `InputItem`s.

An argument that names nothing usable becomes an item with `error` set, so the batch reports
it with the rest rather than stopping.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from style_plugin.runtime.reading import READ_FORMATS
from style_plugin.runtime.report import Problem, Reason

__all__ = [
    "InputItem",
    "Inputs",
    "collect_inputs",
    "image_extensions",
    "pillow_extensions",
]


def pillow_extensions() -> dict[str, str]:
    """Lower-case suffix ('.jpg') -> Pillow format ('JPEG') for every registered plugin."""
    Image.init()
    return {ext.lower(): fmt for ext, fmt in Image.registered_extensions().items()}


def image_extensions() -> frozenset[str]:
    """Lower-case suffixes ('.png', ...) of the files picked up when scanning a folder: those
    of the formats the runtime reads (a file named explicitly is still tried, and refused in
    one line if it is in another)."""
    return frozenset(ext for ext, fmt in pillow_extensions().items() if fmt in READ_FORMATS)


@dataclass(frozen=True)
class InputItem:
    """One file to work on, or one argument that could not be used (`error` set).

    `path` is the file as the user can find it (the argument joined with what was found
    under it); `relative` is its path below the argument it came from (a folder, or a glob
    pattern's fixed leading folders), so that an output folder can mirror the input tree.
    `kind` says how it was named: 'file', 'folder' or 'glob'.
    """

    path: Path
    relative: Path
    kind: str = "file"
    error: str | None = None


class Inputs(list[InputItem]):
    """The items in the arguments' order, and `notes`: lines on what was left out that may
    have been wanted (a folder's sub-folders, not searched), each a tagged `Reason`."""

    def __init__(self, items: Iterable[InputItem] = (), notes: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.notes = list(notes)


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _scan_folder(
    folder: Path, recursive: bool, extensions: frozenset[str]
) -> tuple[list[Path], list[str]]:
    """Image files in `folder` (and below, if `recursive`), hidden files and folders left
    out; and a note on the sub-folders left unsearched, if any."""
    found = []
    unsearched = 0
    walker = folder.rglob("*") if recursive else folder.iterdir()
    for path in walker:
        if _is_hidden(path.relative_to(folder)):
            continue
        if path.suffix.lower() in extensions and path.is_file():
            found.append(path)
        elif not recursive and path.is_dir():
            unsearched += 1
    if not unsearched:
        return found, []
    folders = f"{unsearched} sub-folder{'' if unsearched == 1 else 's'}"
    return found, [Reason(f"{folder}: {folders} not searched", Problem.SUBFOLDERS_NOT_SEARCHED)]


def _glob_base(pattern: str) -> Path:
    """The leading folders of a pattern that hold no wildcard ('photos/2024' of 'photos/2024/*.jpg')."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.relative_to(base)
    except ValueError:
        return Path(path.name)


def _expand(argument: str, recursive: bool, extensions: frozenset[str]) -> Inputs:
    """The items one command-line argument stands for (an item with `error` if none)."""
    path = Path(argument)
    if path.is_dir():
        files, notes = _scan_folder(path, recursive, extensions)
        if not files:
            why = Reason(
                "no image files in it", None if recursive else Problem.SUBFOLDERS_NOT_SEARCHED
            )
            return Inputs([InputItem(path, Path(path.name), "folder", why)])
        return Inputs((InputItem(f, f.relative_to(path), "folder") for f in sorted(files)), notes)
    if path.exists() or path.is_symlink():
        return Inputs([InputItem(path, Path(path.name), "file")])
    if not glob.has_magic(argument):
        return Inputs([InputItem(path, Path(path.name), "file", "no such file or folder")])
    base = _glob_base(argument)
    items = Inputs()
    matches = sorted(Path(m) for m in glob.glob(argument, recursive=True))
    for match in matches:
        if match.is_dir():
            files, notes = _scan_folder(match, recursive, extensions)
            items += [InputItem(f, _relative(f, base), "glob") for f in files]
            items.notes += notes
        elif match.suffix.lower() in extensions and match.is_file():
            items.append(InputItem(match, _relative(match, base), "glob"))
    if not items:
        what = "matches no image files" if matches else "matches no files"
        return Inputs([InputItem(path, Path(path.name), "glob", what)], items.notes)
    return Inputs(sorted(items, key=lambda item: item.relative.as_posix()), items.notes)


def collect_inputs(inputs: Iterable[str], recursive: bool = False) -> Inputs:
    """Files to work on from arguments that are files, folders or glob patterns.

    Folders give their image files (by Pillow's registered extensions; with `recursive`
    also those in sub-folders, and without it a note on the sub-folders left unsearched;
    hidden files are left out); patterns (`*`, `?`, `[...]`, `**`) are expanded
    recursively-aware. A file named explicitly is always tried, so a non-image named on
    purpose is reported rather than skipped. An argument that names nothing becomes one
    item with `error` set. Duplicates (the same file reached twice, the same note) are
    dropped; items keep the arguments' order, sorted within each argument.
    """
    extensions = image_extensions()
    seen: set[str] = set()
    collected = Inputs()
    for argument in inputs:
        expanded = _expand(str(argument), recursive, extensions)
        for item in expanded:
            key = f"error:{item.path}" if item.error else os.path.realpath(item.path)
            if key in seen:
                continue
            seen.add(key)
            collected.append(item)
        collected.notes += [note for note in expanded.notes if note not in collected.notes]
    return collected
