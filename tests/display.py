"""A virtual X display of its own for an editor under test: the command line that runs a
command through tests/with_display.sh (Xvfb picks a free display and names it once ready)."""

from __future__ import annotations

from pathlib import Path

SCRIPT = Path(__file__).with_name("with_display.sh")


def on_a_display(command: list[str], script: str = str(SCRIPT)) -> list[str]:
    """`command` run on a display of its own; `script` is where the runner sees SCRIPT (a
    copy inside a chroot, say)."""
    return ["bash", script, *command]
