"""Krita started from a shell where the Python environment holding style-plugin is active.

A venv's `activate` puts the venv's bin folder first on PATH. Krita's embedded Python takes
the first `python3` on PATH for its own executable, finds the venv's pyvenv.cfg beside it and
reads only the venv's site-packages, without the system's PyQt5: no Python plug-in loads.
The install made from that venv must leave a way to start Krita there that works
(hooks/hosts/krita/launcher.py). The real Krita runs here (tests/hosts/krita/real_krita.py).
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hosts.krita.real_krita import (
    KRITARC,
    PYKRITA,
    install_driver,
    isolated_environment,
    require,
    run_bounded,
)
from tests.support import on_a_display

pytestmark = pytest.mark.host


def make_venv(folder: Path) -> Path:
    """A venv that imports this style-plugin and its dependencies (from the venv running the
    tests), made as a user makes one; its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    packages = folder / "lib" / version / "site-packages"
    ours = site.getsitepackages()[0]
    (packages / "tests_style_plugin.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return folder / "bin"


def activated(env: dict[str, str], bin_folder: Path) -> dict[str, str]:
    """`env` as `source bin/activate` leaves it."""
    venv = bin_folder.parent
    return {
        **env,
        "VIRTUAL_ENV": str(venv),
        "VIRTUAL_ENV_PROMPT": f"({venv.name}) ",
        "PATH": f"{bin_folder}{os.pathsep}{env['PATH']}",
    }


def test_krita_started_from_a_shell_with_the_venv_active_loads_the_plugin(
    request, tmp_path: Path, user_models_dir: Path
):
    require(request, "krita", "Xvfb")
    home = tmp_path / "home"
    env = activated(isolated_environment(tmp_path, user_models_dir), make_venv(tmp_path / "venv"))
    where = ["--plugin-dir", str(home / PYKRITA), "--config", str(home / KRITARC)]
    done = subprocess.run(
        ["python", "-m", "style_plugin", "install", "krita", *where],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert f"imports style-plugin from this environment ({tmp_path / 'venv'}" in done.stdout
    install_driver(home, "menu_driver")
    report_path = tmp_path / "report.json"
    env["MENU_DRIVER"] = json.dumps({"report": str(report_path)})

    log = run_bounded(on_a_display(["krita", "--nosplash"]), env, tmp_path)

    assert report_path.exists(), f"Krita loaded no Python plug-in:\n{log[-3000:]}"
    report = json.loads(report_path.read_text())
    assert report["error"] is None, report["error"]
    assert "StylizeExtension" in report["extensions"], (report, log[-3000:])
    assert "Stylize…" in report["filter_menu"]
    assert not report["prefix"].startswith(str(tmp_path)), report
    assert "Traceback" not in log, log[-3000:]
