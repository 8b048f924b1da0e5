"""Running the real GIMP 3 in the tests: where (this machine, or the Debian 13 root that
.ci/gimp3-root builds), the plug-in installed as a user would, `gimp-console-3.0`'s batch
interpreter, and the whole GIMP under Xvfb with a dialog driven by xdotool. What runs in
GIMP and on its display are the programs in drivers/ (they import gi, so they run there,
never here)."""

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

from style_plugin.errors import StylePluginError
from style_plugin.hooks.hosts import InstallOptions
from style_plugin.hooks.hosts.gimp import installer as gimp_installer
from tests.hosts.gimp import debian_root
from tests.support import DISPLAY_SCRIPT, on_a_display

GIMP_CONSOLE = "gimp-console-3.0"
GIMP_TIMEOUT_S = 300
#: The screen's top-left corner, where a dialog opens without a window manager, with some
#: of GIMP's window: (left, top, right, bottom).
DIALOG_CORNER = (0, 0, 800, 606)

#: The programs run in the real GIMP 3 and its display, copied into each test's folder.
DRIVERS = Path(__file__).with_name("drivers")


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
        shutil.copytree(DRIVERS, tmp_path / DRIVERS.name)
        yield GimpPlace(tmp_path, str(tmp_path), lambda args, env: list(args))
        return
    reason = debian_root.unavailable()
    if reason:
        pytest.skip(reason)
    work = debian_root.ROOT / "tmp" / f"style-plugin-{os.getpid()}-{tmp_path.name}"
    work.mkdir(parents=True)
    shutil.copytree(DRIVERS, work / DRIVERS.name)
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


def batch_code(place: GimpPlace, driver: str) -> str:
    """The Python line GIMP's batch interpreter runs: the driver `driver` (a file of
    drivers/) as a script, given the settings file, with its folder on sys.path."""
    folder = place.path(DRIVERS.name)
    argv = [f"{folder}/{driver}", place.path("settings.json")]
    return (
        f"import runpy, sys; sys.path.insert(0, {folder!r}); sys.argv = {argv!r}; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )


def run_console(place: GimpPlace, driver: str, settings: dict[str, Any]) -> str:
    """Run the driver `driver` (a file of drivers/ that reads `settings`) in
    gimp-console-3.0's batch interpreter; its log (GIMP exits 0 even when a batch command
    fails)."""
    (place.work / "settings.json").write_text(json.dumps(settings))
    return place.run(
        [
            GIMP_CONSOLE,
            "--no-interface",
            "--no-data",
            "--no-fonts",
            "--batch-interpreter",
            "python-fu-eval",
            "--batch",
            batch_code(place, driver),
            "--quit",
        ]
    )


def run_dialog(
    place: GimpPlace, driver: str, settings: dict[str, Any], title: str, after: str = ""
) -> str:
    """Run the whole GIMP under Xvfb with the dialog driver `driver` (a file of drivers/ that
    reads `settings`): drivers/press_ok.sh waits for the dialog titled `title`, photographs
    the screen (screen.png), presses OK, sources the shell script `after` of drivers/ if
    given, and waits for GIMP to quit. The shell driver's and GIMP's log."""
    (place.work / "settings.json").write_text(json.dumps(settings))
    # Xvfb picks the display itself: the root cannot see this machine's X lock files, but
    # X servers share abstract sockets, and a server binds only a display that is free.
    shutil.copy(DISPLAY_SCRIPT, place.work / DISPLAY_SCRIPT.name)
    press_ok = place.path(f"{DRIVERS.name}/press_ok.sh")
    command = ["bash", press_ok, place.seen_as, title, batch_code(place, driver)]
    log = place.run(on_a_display([*command, after], place.path(DISPLAY_SCRIPT.name)))
    gimp_log = place.work / "gimp.log"
    return log + "\n" + (gimp_log.read_text() if gimp_log.exists() else "")
