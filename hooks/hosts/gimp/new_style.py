"""GIMP's "New Style from an Image…", the part that does not need GIMP: the procedure's
name and arguments, the request read from them, and the training run as a child process.

GIMP runs a plug-in's procedure in the plug-in's own process while its windows stay usable,
so the plug-in waits for `style-plugin add-style` (hooks/hosts/new_style.py) and moves GIMP's
progress bar with the step reports (and, run from its dialog, shows the open image drawn in
the style so far in a window of its own). The Cancel button of that bar kills the plug-in outright
(GIMP closes it; no code of ours runs), so on Linux the child is started with a
parent-death signal: it gets SIGTERM when the plug-in dies, finishes its step, keeps its
checkpoint and exits, as it does for Krita's Cancel; the same request later goes on from there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from style_plugin.atomic import atomic_path
from style_plugin.errors import StylePluginError
from style_plugin.hooks.hosts.new_style import (
    ABOUT,
    NEW_STYLE_STEPS,
    NewStyleRequest,
    Progress,
    add_style_command,
    child_environment,
    failure_message,
    installed_styles,
    intro,
    progress_text,
    read_event,
    recorded_command,
    request_with_open_image,
)

__all__ = [  # with what the plug-in's procedure uses of hooks/hosts/new_style.py
    "ABOUT",
    "MENU_LABEL",
    "PAINTING_SIDE",
    "PROCEDURE_NAME",
    "Progress",
    "StyleArguments",
    "TrainingCancelled",
    "added_message",
    "installed_styles",
    "intro",
    "painting_read_scale",
    "progress_text",
    "recorded_command",
    "request_from",
    "train",
    "write_painting",
]

#: The procedure's name in GIMP's procedural database, beside Stylize's.
PROCEDURE_NAME = "plug-in-style-plugin-new-style"
#: Its menu entry, under Filters > Artistic next to Stylize.
MENU_LABEL = "New Style from an _Image..."
#: The longest side the open image is read at to learn from (training works on 512 px).
PAINTING_SIDE = 2048
#: How much of the end of the child's stderr is read to say why it failed.
_STDERR_BYTES = 20_000
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class StyleArguments:
    """The procedure's arguments (GIMP names): the painting file, whether to learn from the
    open image instead, the style's name and its training steps."""

    PAINTING = "painting"
    USE_OPEN_IMAGE = "use-open-image"
    LABEL = "label"
    STEPS = "steps"
    ALL = (PAINTING, USE_OPEN_IMAGE, LABEL, STEPS)
    DEFAULT_STEPS = NEW_STYLE_STEPS
    MAX_STEPS = 100_000


class TrainingCancelled(StylePluginError):
    """The training stopped before its last step and kept its checkpoint."""


def request_from(
    label: str,
    painting: str | None,
    steps: int,
    taken: Sequence[str],
    save_open_image: Callable[[str], Path] | None = None,
    use_open_image: bool = False,
    preview: bool = False,
) -> NewStyleRequest:
    """The request the procedure's values make, or StylePluginError saying what to change.
    `save_open_image(name) -> Path`: given when an image is open; only called once the name
    is known to be good. `use_open_image`: learn from it rather than the painting file;
    `preview`: show it in the style as it is learnt (runs from the dialog)."""
    return request_with_open_image(
        label, painting, steps, taken, save_open_image, use_open_image, preview
    )


def painting_read_scale(width: int, height: int) -> float:
    """The scale to read an open image at for learning: at most PAINTING_SIDE a side, so a
    large image is never read whole in float pixels."""
    return min(1.0, PAINTING_SIDE / max(width, height, 1))


def write_painting(image: Image.Image, path: Path) -> Path:
    """Save `image` as the PNG a style is learnt from, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:
        image.save(partial, format="PNG")
    return path


def added_message(request: NewStyleRequest) -> str:
    """What GIMP says once the style is installed."""
    return f"The style “{request.label}” was added: choose it in Filters > Artistic > Stylize..."


def _parent_death_signal() -> Callable[[], None] | None:
    """What the child runs before the command (Linux): arm SIGTERM for when the plug-in dies.
    prctl is looked up here, in the plug-in, so the forked child imports nothing."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    plug_in = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != plug_in:  # the plug-in died before the signal was armed
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


def train(
    command: Sequence[str],
    request: NewStyleRequest,
    on_progress: Callable[[Progress], Any],
    environ: Mapping[str, str] = os.environ,
) -> str:
    """Run `add-style` for `request` to its end, calling `on_progress` with each report; the
    installed model's path. StylePluginError says why it failed, TrainingCancelled that it
    was stopped (its checkpoint kept)."""
    line = add_style_command(command, request)
    # stderr goes to a file, not a pipe: a child outliving the plug-in can still write to it.
    with tempfile.TemporaryFile() as stderr:
        try:
            child = subprocess.Popen(
                line,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=child_environment(environ),
                preexec_fn=_parent_death_signal(),
            )
        except OSError as exc:
            raise StylePluginError(
                f"Cannot start {line[0]}: {exc.strerror or exc}. "
                "Run `style-plugin install gimp` again."
            ) from None
        progress = Progress()
        with child:
            assert child.stdout is not None
            for raw in child.stdout:
                line = raw.decode("utf-8", "replace")
                progress = read_event(line, progress, request.preview_file)
                on_progress(progress)
            exit_code = child.wait()
        stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - _STDERR_BYTES))
        said = stderr.read().decode("utf-8", "replace")
    if progress.model is not None and exit_code == 0:
        return progress.model
    if progress.interrupted:
        raise TrainingCancelled(
            f"Learning “{request.label}” stopped at step {progress.step}; what was learnt is "
            "kept, and the same name goes on from there."
        )
    raise StylePluginError(
        f"Learning “{request.label}” failed: " + failure_message(said, exit_code)
    )
