"""Adding a style from inside an editor, the part every host shares: what to ask for, the
`style-plugin add-style` command line the plug-in starts as a separate process, and how to
read what that process reports.

A separate process because training imports PyTorch and runs for minutes: the editor stays
responsive, its own Python needs no torch, and Cancel is a signal that the trainer answers
by keeping its checkpoint (the same request later goes on from there). The process is the
`style-plugin` command of the environment that installed the plug-in, recorded in its
environment record (hooks/hosts/environment.py), so it can be another Python than the
editor's.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from style_plugin.contract import MAX_TEXT_CHARS, printable
from style_plugin.errors import StylePluginError
from style_plugin.hooks.filters import Filter
from style_plugin.training.config import NEW_STYLE_STEPS
from style_plugin.user_dirs import user_runs_dir

__all__ = [
    "INTRO",
    "NEW_STYLE_STEPS",
    "NewStyleRequest",
    "Progress",
    "add_style_command",
    "checked_name",
    "child_environment",
    "failure_message",
    "installed_styles",
    "read_event",
    "recorded_command",
    "snapshot_painting_path",
    "style_name",
]

#: Variables an editor sets for its embedded Python (Krita's AppImage sets PYTHONHOME, for
#: one) that would make another interpreter load the editor's standard library.
_EDITOR_PYTHON_VARIABLES = ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONEXECUTABLE")
_NOT_NAME = re.compile(r"[^a-z0-9_.-]+")
#: What the editors' "New style from an image…" dialogs say above their fields.
INTRO = (
    "The style is learnt in the background (a quarter to half an hour on a laptop's CPU at "
    f"{NEW_STYLE_STEPS} steps, minutes on a GPU) and then appears in the Style list. "
    "Cancel keeps what was learnt: the same name goes on from there."
)


def style_name(label: str) -> str:
    """The file-safe name of a style labelled `label`: 'Sunflowers (1888)' -> 'sunflowers-1888',
    'Étude' -> 'etude'; a label with no Latin letter or digit gets 'style-' and a digest."""
    latin = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    name = _NOT_NAME.sub("-", latin.strip().lower()).strip("-._")[:64].rstrip("-._")
    if not name and label.strip():
        return "style-" + hashlib.sha256(label.strip().encode()).hexdigest()[:8]
    return name


def checked_name(label: str, taken: Sequence[str] = ()) -> str:
    """The name of a new style labelled `label`, or StylePluginError saying what to change.
    `taken`: the names of the styles installed now (a new style may not hide one)."""
    label = label.strip()
    if not label:
        raise StylePluginError("Give the new style a name.")
    if len(label) > MAX_TEXT_CHARS:
        raise StylePluginError(f"The name is longer than {MAX_TEXT_CHARS} characters.")
    name = style_name(label)
    if name in taken:
        raise StylePluginError(f"A style named {name!r} is installed already; choose another name.")
    return name


def installed_styles(filter_: Filter) -> list[str]:
    """The names of the styles `filter_` offers now, which a new style may not take."""
    return [
        choice.value
        for param in filter_.params()
        if param.name == "style"
        for choice in param.choices
    ]


def recorded_command(record: Mapping[str, Any] | None) -> list[str] | None:
    """How to run `style-plugin` outside the editor, from its environment record; None when
    the record has no usable command (written by an install from before it had one)."""
    command = (record or {}).get("command")
    if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
        return list(command)
    return None


@dataclass(frozen=True)
class NewStyleRequest:
    """A style to add: shown as `label` under the file name `name`, learnt from `painting`
    for `steps` training steps."""

    name: str
    label: str
    painting: Path
    steps: int = NEW_STYLE_STEPS

    @classmethod
    def checked(
        cls,
        label: str,
        painting: str | Path,
        steps: int = NEW_STYLE_STEPS,
        taken: Sequence[str] = (),
    ) -> NewStyleRequest:
        """A request from what a dialog holds, or StylePluginError saying what to change."""
        name = checked_name(label, taken)
        if not str(painting).strip():
            raise StylePluginError("Choose the painting to learn the style from.")
        painting = Path(painting).expanduser()
        if not painting.is_file():
            raise StylePluginError(f"No image file at {printable(str(painting))}.")
        if steps < 1:
            raise StylePluginError("Train for at least one step.")
        return cls(name, label.strip(), painting.resolve(), steps)


def snapshot_painting_path(name: str) -> Path:
    """Where an editor saves its open image to learn style `name` from it: beside the run,
    and the same file each time, so that a cancelled training of it goes on."""
    return user_runs_dir() / f"{name}-painting.png"


def add_style_command(command: Sequence[str], request: NewStyleRequest) -> list[str]:
    """The command line that trains `request` and installs it, reporting as JSON lines.
    `command`: how to run `style-plugin` (the environment record's `command`)."""
    return [
        *command,
        "add-style",
        f"{request.name}={request.painting}",
        "--label",
        request.label,
        "--steps",
        str(request.steps),
        "--json-progress",
    ]


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment for the process: the editor's, less what points Python at the editor's
    own interpreter."""
    return {k: v for k, v in environ.items() if k not in _EDITOR_PYTHON_VARIABLES}


@dataclass(frozen=True)
class Progress:
    """What the process has reported so far: its step of `total`, the model once added."""

    step: int = 0
    total: int = 0
    model: str | None = None
    interrupted: bool = False


def read_event(line: str, progress: Progress) -> Progress:
    """`progress` updated by one line of the process's output (lines that are not its JSON
    events change nothing)."""
    try:
        event: Any = json.loads(line)
    except ValueError:
        return progress
    if not isinstance(event, dict):
        return progress
    kind = event.get("event")
    numbers = {key: event.get(key) for key in ("step", "total")}
    if kind == "step" and all(isinstance(v, int) for v in numbers.values()):
        return Progress(numbers["step"], numbers["total"], progress.model)
    if kind == "added" and isinstance(event.get("model"), str):
        return Progress(progress.total, progress.total, event["model"])
    if kind == "interrupted":
        return Progress(progress.step, progress.total, None, interrupted=True)
    return progress


def failure_message(stderr: str, exit_code: int) -> str:
    """Why the process failed, in one line: its last `error:` line, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    if errors:
        return printable(errors[-1].removeprefix("error:").strip())
    if lines:
        return printable(lines[-1])
    return f"the training process ended with status {exit_code}"
