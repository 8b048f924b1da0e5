"""Running the real GIMP 3 in the tests: where (this machine, or the Debian 13 root that
.ci/gimp3-root builds), the plug-in installed as a user would, `gimp-console-3.0`'s batch
interpreter, and the whole GIMP under Xvfb with a dialog driven by xdotool."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from style_plugin.hooks.hosts import InstallOptions
from style_plugin.hooks.hosts.gimp import installer as gimp_installer

from style_plugin.errors import StylePluginError
from tests.hosts.gimp import debian_root
from tests.support import DISPLAY_SCRIPT, on_a_display

GIMP_CONSOLE = "gimp-console-3.0"
GIMP_TIMEOUT_S = 300
#: The screen's top-left corner, where a dialog opens without a window manager, with some
#: of GIMP's window: (left, top, right, bottom).
DIALOG_CORNER = (0, 0, 800, 606)

# Opens settings["source"] in a window and the procedure settings["procedure"] on it as the
# menu does (its dialog); a script adds its own settings of `config` and what follows the run.
DIALOG_OPENING = """\
import json
import os
import time

import gi
gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio

settings = json.loads(open(SETTINGS).read())
image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(settings["source"]))
Gimp.Display.new(image)
Gimp.displays_flush()
procedure = Gimp.get_pdb().lookup_procedure(settings["procedure"])
config = procedure.create_config()
config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)  # the dialog, as from the menu
config.set_property("image", image)
"""

# Ends the dialog script: GIMP quits.
DIALOG_CLOSING = """\
quit = Gimp.get_pdb().lookup_procedure("gimp-quit")
quit_config = quit.create_config()
quit_config.set_property("force", True)
quit.run(quit_config)
"""

GRAB_SCRIPT = """\
import sys

import gi
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk

window = Gdk.get_default_root_window()
pixbuf = Gdk.pixbuf_get_from_window(window, 0, 0, window.get_width(), window.get_height())
pixbuf.savev(sys.argv[1], "png", [], [])
"""

# Under Xvfb: GIMP starts and runs dialog.py; once a window titled TITLE is up, a screenshot
# (screen.png), then Return (OK) is typed into it. A driver adds what follows, then
# DRIVER_END waits for GIMP to quit.
DRIVER_START = """\
W=$1
gimp-3.0 --no-splash --batch-interpreter python-fu-eval \\
    -b "SETTINGS = '$W/settings.json'; exec(open('$W/dialog.py').read())" >"$W/gimp.log" 2>&1 &
gimp=$!
window=
for _ in $(seq 240); do
    window=$(xdotool search --name '^TITLE' 2>/dev/null | head -1)
    [ -n "$window" ] && break
    sleep 0.5
done
if [ -z "$window" ]; then echo "no TITLE dialog appeared"; kill -9 $gimp; exit 3; fi
echo "dialog: $(xdotool getwindowname "$window")"
sleep 3  # let it draw
python3 "$W/grab.py" "$W/screen.png"
xdotool windowfocus --sync "$window"
xdotool key Return
"""
DRIVER_END = """\
for _ in $(seq 240); do kill -0 $gimp 2>/dev/null || break; sleep 0.5; done
kill -9 $gimp 2>/dev/null
exit 0
"""


@dataclass(frozen=True)
class GimpPlace:
    """Where GIMP 3 runs: on this machine, or in the Debian 13 root of .ci/gimp3-root. `work`
    is the test's folder as this process sees it, `seen_as` the same folder as GIMP sees it,
    `command(args, env)` the command line that runs `args` there with `env`."""

    work: Path
    seen_as: str
    command: Callable[[list[str], dict[str, str]], list[str]]

    def path(self, name: str) -> str:
        """`work / name` as GIMP sees it."""
        return f"{self.seen_as}/{name}"

    def environment(self) -> dict[str, str]:
        """GIMP's environment: a private profile and home, style-plugin's user folder in
        `work`, offline; on this machine its own environment too."""
        env = {
            "HOME": self.path("home"),
            "GIMP3_DIRECTORY": self.path("gimp3"),
            "STYLE_PLUGIN_MODELS_DIR": self.path("models"),
            "STYLE_PLUGIN_OFFLINE": "1",
        }
        return {**os.environ, **env} if self.seen_as == str(self.work) else env

    def run(self, args: list[str]) -> str:
        """Run `args` there with `environment()`; the exit status and output, as a log."""
        done = subprocess.run(
            self.command(args, self.environment()),
            capture_output=True,
            text=True,
            timeout=GIMP_TIMEOUT_S,
            check=False,
        )
        return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


@contextmanager
def gimp_place(where: str, tmp_path: Path) -> Iterator[GimpPlace]:
    """The place to run GIMP 3 `where` ("this machine" or "debian 13 root"), or a skip with
    the reason it is not here."""
    if where == "this machine":
        if shutil.which(GIMP_CONSOLE) is None:
            pytest.skip("GIMP 3 is not installed here (Debian 12 ships GIMP 2.10)")
        yield GimpPlace(tmp_path, str(tmp_path), lambda args, env: list(args))
        return
    reason = debian_root.unavailable()
    if reason:
        pytest.skip(reason)
    work = debian_root.ROOT / "tmp" / f"style-plugin-{os.getpid()}-{tmp_path.name}"
    work.mkdir(parents=True)
    try:
        with debian_root.mounted():
            yield GimpPlace(work, f"/tmp/{work.name}", debian_root.inside)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def install_plugin(place: GimpPlace, where: str) -> None:
    """Install the plug-in into the place's private GIMP profile, as a user would."""
    plugin_dir = place.path("gimp3/plug-ins")
    if where == "this machine":
        try:
            gimp_installer.install(InstallOptions(plugin_dir=Path(plugin_dir)))
        except StylePluginError as exc:
            pytest.skip(f"GIMP's Python differs from this environment's: {exc}")
        return
    args = [debian_root.VENV_PYTHON, "-m", "style_plugin", "install", "gimp"]
    done = subprocess.run(
        place.command([*args, "--plugin-dir", plugin_dir], {"HOME": place.path("home")}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def run_console(place: GimpPlace, script: str, settings: dict[str, Any]) -> str:
    """Run the Python `script` (which reads the dict SETTINGS names) in gimp-console-3.0's
    batch interpreter; its log (GIMP exits 0 even when a batch command fails)."""
    (place.work / "batch.py").write_text(script)
    (place.work / "settings.json").write_text(json.dumps(settings))
    script_file, settings_file = place.path("batch.py"), place.path("settings.json")
    return place.run(
        [
            GIMP_CONSOLE,
            "--no-interface",
            "--no-data",
            "--no-fonts",
            "--batch-interpreter",
            "python-fu-eval",
            "--batch",
            f"SETTINGS = {settings_file!r}; exec(open({script_file!r}).read())",
            "--quit",
        ]
    )


def run_dialog(
    place: GimpPlace, script: str, settings: dict[str, Any], title: str, then: str = ""
) -> str:
    """Run the whole GIMP under Xvfb with the dialog `script` (DIALOG_OPENING, its own part,
    DIALOG_CLOSING): the driver waits for the dialog titled `title`, photographs the screen
    (screen.png), presses OK, runs the shell lines `then` and waits for GIMP to quit. The
    driver's and GIMP's log."""
    (place.work / "dialog.py").write_text(script)
    (place.work / "grab.py").write_text(GRAB_SCRIPT)
    driver = DRIVER_START.replace("TITLE", title) + then + DRIVER_END
    (place.work / "driver.sh").write_text(driver)
    (place.work / "settings.json").write_text(json.dumps(settings))
    # Xvfb picks the display itself: the root cannot see this machine's X lock files, but
    # X servers share abstract sockets, and a server binds only a display that is free.
    shutil.copy(DISPLAY_SCRIPT, place.work / DISPLAY_SCRIPT.name)
    driver_command = ["bash", place.path("driver.sh"), place.seen_as]
    log = place.run(on_a_display(driver_command, place.path(DISPLAY_SCRIPT.name)))
    gimp_log = place.work / "gimp.log"
    return log + "\n" + (gimp_log.read_text() if gimp_log.exists() else "")
