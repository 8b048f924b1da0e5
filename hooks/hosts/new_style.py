"""Adding a style from inside an editor, the part every host shares: what to ask for, the
`style-plugin add-style` command line the plug-in starts as a separate process, and how to
read what that process reports.

A separate process because training imports PyTorch and runs for minutes: the editor stays
responsive, its own Python needs no torch, and Cancel is a signal that the trainer answers
by keeping its checkpoint (the same request later goes on from there). The process is the
`style-plugin` command of the environment that installed the plug-in, recorded in its
environment record (hooks/hosts/environment.py), so it can be another Python than the
editor's.

Before it starts, the dialogs say how long it takes on this machine (`intro`); while it
runs, the time left and the open image drawn in the style so far (`Progress`), so that a
person can stop it early once it looks right.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from style_plugin.contract import MAX_TEXT_CHARS, printable
from style_plugin.errors import StylePluginError
from style_plugin.hooks.filters import Filter
from style_plugin.training.config import NEW_STYLE_STEPS
from style_plugin.training.watching import expected_time, live_preview_path, time_left_text
from style_plugin.user_dirs import user_runs_dir

__all__ = [
    "ABOUT",
    "NEW_STYLE_STEPS",
    "NewStyleRequest",
    "Progress",
    "add_style_command",
    "checked_name",
    "child_environment",
    "failure_message",
    "installed_styles",
    "intro",
    "live_preview_path",
    "progress_text",
    "read_event",
    "recorded_command",
    "snapshot_painting_path",
    "style_name",
]

#: Variables an editor sets for its embedded Python (Krita's AppImage sets PYTHONHOME, for
#: one) that would make another interpreter load the editor's standard library.
_EDITOR_PYTHON_VARIABLES = ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONEXECUTABLE")
_NOT_NAME = re.compile(r"[^a-z0-9_.-]+")
#: What "New style from an image…" does, in its help.
ABOUT = (
    "The style is learnt in the background, showing the open image in it as it goes, and "
    "then appears in the Style list. Cancel keeps what was learnt: the same name goes on "
    "from there."
)


def intro(steps: int = NEW_STYLE_STEPS) -> str:
    """What the editors' "New style from an image…" dialogs say above their fields: `ABOUT`
    and how long `steps` steps take on this machine (training/watching.py)."""
    return f"{ABOUT} {expected_time(steps)}"


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
    for `steps` training steps; `preview_photo`, when given, is drawn in the style as it is
    learnt (the open image)."""

    name: str
    label: str
    painting: Path
    steps: int = NEW_STYLE_STEPS
    preview_photo: Path | None = None

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

    @property
    def preview_file(self) -> Path | None:
        """The live preview the training draws, where it draws one: the only file its
        reports may name (`read_event`)."""
        return live_preview_path(self.name) if self.preview_photo is not None else None


def request_with_open_image(
    label: str,
    painting: str | Path | None,
    steps: int,
    taken: Sequence[str],
    save_open_image: Callable[[str], Path] | None,
    learn_from_open_image: bool,
    preview_on_open_image: bool = True,
) -> NewStyleRequest:
    """The request a dialog's values make, or StylePluginError saying what to change.
    `save_open_image(name) -> Path` saves the open image for style `name` (None: no image is
    open), once the name is known to be good; the image is then learnt from
    (`learn_from_open_image`) and drawn in the style as it is learnt
    (`preview_on_open_image`)."""
    if learn_from_open_image:
        if save_open_image is None:
            raise StylePluginError("Open an image first, or choose a painting file.")
        painting = save_open_image(checked_name(label, taken))
    request = NewStyleRequest.checked(label, painting or "", steps, taken=taken)
    if save_open_image is None or not preview_on_open_image:
        return request
    photo = request.painting if learn_from_open_image else save_open_image(request.name)
    return dataclasses.replace(request, preview_photo=photo)


def snapshot_painting_path(name: str) -> Path:
    """Where an editor saves its open image for style `name`, to learn the style from it or
    to draw it in the style as it is learnt: beside the run, and the same file each time, so
    that a cancelled training of it goes on."""
    return user_runs_dir() / f"{name}-painting.png"


def add_style_command(command: Sequence[str], request: NewStyleRequest) -> list[str]:
    """The command line that trains `request` and installs it, reporting as JSON lines.
    `command`: how to run `style-plugin` (the environment record's `command`)."""
    preview = ["--preview", str(request.preview_photo)] if request.preview_photo else []
    return [
        *command,
        "add-style",
        f"{request.name}={request.painting}",
        "--label",
        request.label,
        "--steps",
        str(request.steps),
        *preview,
        "--json-progress",
    ]


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment for the process: the editor's, less what points Python at the editor's
    own interpreter."""
    return {k: v for k, v in environ.items() if k not in _EDITOR_PYTHON_VARIABLES}


@dataclass(frozen=True)
class Progress:
    """What the process has reported so far: its step of `total` and the seconds it has
    left (`eta_s`, None until it knows), its latest live preview (`preview`, drawn at step
    `preview_step`), the model once added."""

    step: int = 0
    total: int = 0
    model: str | None = None
    interrupted: bool = False
    eta_s: float | None = None
    preview: Path | None = None
    preview_step: int = 0


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _seconds(value: Any) -> float | None:
    """A number of seconds from a report: finite and not negative, else None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value) if math.isfinite(value) else None
    return None


def read_event(line: str, progress: Progress, preview_file: Path | None = None) -> Progress:
    """`progress` updated by one line of the process's output (lines that are not its JSON
    events change nothing). A preview is taken only where it names `preview_file`, the one
    the request's training draws (`NewStyleRequest.preview_file`): the line is the
    process's, but what an editor opens is its own choice."""
    try:
        event: Any = json.loads(line)
    except ValueError:
        return progress
    if not isinstance(event, dict):
        return progress
    kind, step = event.get("event"), event.get("step")
    if kind == "step" and _count(step) and _count(event.get("total")):
        eta = _seconds(event.get("eta_s"))
        return dataclasses.replace(progress, step=step, total=event["total"], eta_s=eta)
    if kind == "preview" and _count(step) and preview_file is not None:
        path = event.get("path")
        if isinstance(path, str) and Path(path) == preview_file:
            return dataclasses.replace(progress, preview=preview_file, preview_step=step)
        return progress
    if kind == "added" and isinstance(event.get("model"), str):
        return dataclasses.replace(progress, step=progress.total, model=event["model"])
    if kind == "interrupted":
        return dataclasses.replace(progress, model=None, interrupted=True)
    return progress


def progress_text(request: NewStyleRequest, progress: Progress) -> str:
    """What a progress window says of `progress`: preparing, then the step and the time left."""
    if not progress.total:
        return f"Preparing to learn “{request.label}”…"
    text = f"Learning “{request.label}”: step {progress.step} of {progress.total}"
    if progress.eta_s is not None and progress.step < progress.total:
        text += f", {time_left_text(progress.eta_s)}"
    return text


def failure_message(stderr: str, exit_code: int) -> str:
    """Why the process failed, in one line: its last `error:` line, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    if errors:
        return printable(errors[-1].removeprefix("error:").strip())
    if lines:
        return printable(lines[-1])
    return f"the training process ended with status {exit_code}"
