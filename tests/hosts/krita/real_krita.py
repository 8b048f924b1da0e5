"""Running the real Krita in the tests (Debian's krita 5.1 with python3-pyqt5 and xvfb;
.ci/run installs them): the rule that skips its tests, a home of its own with the plug-in
installed, and the drivers (drivers/*.py, which import `krita` and PyQt5 and so run only
inside Krita) run by kritarunner or installed as Krita plug-ins. Every run has a time limit,
and its whole process group (Xvfb, Krita) ends with it. Krita exits 0 even when a script
fails, so the tests read the reports the drivers write."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from style_plugin.hooks.hosts import InstallOptions
from style_plugin.hooks.hosts.krita import installer
from tests.support import PYTHON_VERSION

#: The programs the tests run inside Krita.
DRIVERS = Path(__file__).resolve().parent / "drivers"
#: Seconds a run may take; a first start in a fresh home builds Krita's resource cache.
KRITA_TIMEOUT = 150
#: Krita's plug-in folder and settings file, below the home `krita_home` makes.
PYKRITA = Path(".local/share/krita/pykrita")
KRITARC = Path(".config/kritarc")

DRIVER_DESKTOP = """\
[Desktop Entry]
Type=Service
ServiceTypes=Krita/PythonPlugin
X-KDE-Library={module}
X-Python-2-Compatible=false
Name=Stylize test driver
Comment=Drives Filter > Stylize… in style-plugin's tests
"""


def require(request: pytest.FixtureRequest, *tools: str) -> None:
    """Skip, printing the reason, unless the tools exist and Krita's Python is this one."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        reason = f"{', '.join(missing)} not installed (apt-get install krita python3-pyqt5 xvfb)"
    else:
        found = installer.krita_python_version()
        krita_python = found[0] if found else None
        if krita_python == PYTHON_VERSION:
            return
        reason = (
            f"Krita embeds Python {krita_python}; these tests need this venv's ({PYTHON_VERSION})"
        )
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown even without -rs
            reporter.write_line(f"SKIPPED {request.node.name}: {reason}")
    pytest.skip(reason)


def krita_home(tmp_path: Path, user_models_dir: Path) -> dict[str, str]:
    """An isolated home for Krita with the plug-in installed; the environment to run it in."""
    home = tmp_path / "home"
    lines = installer.install(InstallOptions(plugin_dir=home / PYKRITA, config_file=home / KRITARC))
    assert any("imports style-plugin from this environment" in line for line in lines), lines
    return isolated_environment(tmp_path, user_models_dir)


def isolated_environment(tmp_path: Path, user_models_dir: Path) -> dict[str, str]:
    """The environment to run Krita in, with a home of its own, tmp_path/home."""
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "STYLE_PLUGIN_MODELS_DIR": str(user_models_dir)}
    env.update(XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"))
    env.update(XDG_CACHE_HOME=str(home / ".cache"), XDG_RUNTIME_DIR=str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DISPLAY"):
        env.pop(name, None)
    return env


def install_driver(home: Path, driver: str) -> None:
    """Install drivers/DRIVER.py as a Krita plug-in of that name in Krita's `home`, enabled."""
    module = home / PYKRITA / driver
    module.mkdir()
    shutil.copy(DRIVERS / f"{driver}.py", module / "__init__.py")
    (home / PYKRITA / f"{driver}.desktop").write_text(DRIVER_DESKTOP.format(module=driver))
    installer.set_config_value(home / KRITARC, "python", f"enable_{driver}", "true")


def run_kritarunner(driver: str, config: dict[str, Any], env: dict[str, str], cwd: Path) -> str:
    """Run drivers/DRIVER.py headless with kritarunner, `config` (JSON) its argument and the
    installed plug-in importable beside it, in `cwd`; the log."""
    scripts = cwd / "scripts"
    scripts.mkdir()
    shutil.copy(DRIVERS / f"{driver}.py", scripts)
    plugins = Path(env["HOME"]) / PYKRITA
    env = {**env, "PYTHONPATH": f"{scripts}{os.pathsep}{plugins}", "QT_QPA_PLATFORM": "offscreen"}
    return run_bounded(["kritarunner", "-s", driver, json.dumps(config)], env, cwd)


def run_bounded(
    command: list[str], env: dict[str, str], cwd: Path, timeout: float = KRITA_TIMEOUT
) -> str:
    """Run `command` in its own process group with a time limit; its output (both streams).
    On timeout the whole group (Xvfb, Krita) is killed and the test fails."""
    process = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{command[0]} ran past {timeout} s:\n{output[-3000:]}")
    finally:
        wait_for_group_to_end(process.pid)
    return output


def wait_for_group_to_end(group: int, timeout: float = 15.0) -> None:
    """Wait until every process of `group` has exited (SIGKILL after `timeout` s), so that no
    server or editor of one test lives on into the next."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.killpg(group, signal.SIGKILL if time.monotonic() > deadline else 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
