"""`style-plugin install gimp`: put the Stylize plug-in into GIMP 3's plug-ins folder.

What an install writes, and what `--uninstall` removes again:

    PLUG_INS/style-plugin-stylize/style-plugin-stylize.py     the plug-in script (executable)
    PLUG_INS/style-plugin-stylize/*_procedure.py              one module per procedure
    PLUG_INS/style-plugin-stylize/procedure_common.py         what the procedures share
    PLUG_INS/style-plugin-stylize/style_plugin_bootstrap.py   puts the environment on sys.path
    PLUG_INS/style-plugin-stylize/environment.json            the environment record
    PLUG_INS/style-plugin-stylize-env/                        only when GIMP's Python differs

GIMP 3 runs `plug-ins/<name>/<name>.py`, and skips folders without such a script. PLUG_INS
defaults to the plug-ins folder of GIMP's profile (Linux $XDG_CONFIG_HOME/GIMP/3.0, macOS
~/Library/Application Support/GIMP/3.0, Windows %APPDATA%\\GIMP\\3.0; GIMP3_DIRECTORY
replaces the profile, as it does for GIMP), once GIMP 3 is found (hooks/hosts/detection.py).
The uninstall removes the plug-in folder too when nothing else is left in it, and nothing
when that folder is a symlink out of PLUG_INS.

GIMP runs Python plug-ins with the interpreter its `pygimp.interp` file names, else `python3`
(or the one given with --python); which environment the plug-in then imports from, and the
record it reads, follow the rule every host shares (hooks/hosts/environment.py). Installing
again rewrites the script, so GIMP queries the plug-in again at its next start and its style
list includes styles installed since.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from pathlib import Path

from style_plugin.atomic import atomic_path
from style_plugin.hooks.hosts import InstallOptions, detection, environment, removal
from style_plugin.hooks.hosts.environment import RECORD_FILE, Host, HostPython
from style_plugin.user_dirs import EDITOR_CONFIG

__all__ = [
    "INSTALLED_FILES",
    "PLUGIN_FILES",
    "PLUGIN_NAME",
    "default_plugin_dir",
    "gimp_python",
    "install",
]

#: The plug-in folder's name, and its script's name without `.py`.
PLUGIN_NAME = "style-plugin-stylize"
#: The plug-in folder shipped inside this package.
SOURCE_DIR = Path(__file__).resolve().with_name(PLUGIN_NAME)
SCRIPT = f"{PLUGIN_NAME}.py"
#: The plug-in folder's files, copied as they are: the modules, then the script importing them.
PLUGIN_FILES = tuple(
    sorted((path.name for path in SOURCE_DIR.glob("*.py")), key=lambda name: (name == SCRIPT, name))
)
#: Every file an install writes into the plug-in folder.
INSTALLED_FILES = (*PLUGIN_FILES, RECORD_FILE)
#: The dedicated environment, beside the plug-in folder, when GIMP's Python is another version.
VENV = f"{PLUGIN_NAME}-env"
#: Where GIMP 3 packages keep `pygimp.interp`, which names the Python plug-ins run with.
INTERPRETER_DIRS = (
    "/usr/lib/gimp/3.0/interpreters",
    "/usr/lib/*/gimp/3.0/interpreters",
    "/usr/local/lib/gimp/3.0/interpreters",
)
MENU_ENTRY = "Filters > Artistic > Stylize..."
#: Where GIMP 3's packages put it (hooks/hosts/detection.py).
APP = detection.Application(
    label="GIMP 3",
    commands=("gimp-3.0", "gimp", "gimp-console-3.0"),
    flatpak="org.gimp.GIMP",
    macos=("GIMP.app",),
    windows=("GIMP 3/bin/gimp-3.0.exe",),
)


def default_plugin_dir(platform: str = sys.platform) -> Path:
    """GIMP 3's plug-ins folder for this user on `platform` (a sys.platform value);
    `GIMP3_DIRECTORY` moves it, as it moves GIMP's."""
    override = os.environ.get("GIMP3_DIRECTORY")
    profile = Path(override) if override else EDITOR_CONFIG.path(platform) / "GIMP" / "3.0"
    return profile / "plug-ins"


def _interp_python(interpreter_dirs: tuple[str, ...]) -> str | None:
    """The interpreter GIMP's `pygimp.interp` maps Python plug-ins to, if GIMP 3 has one."""
    for pattern in interpreter_dirs:
        for interp in sorted(glob.glob(os.path.join(pattern, "pygimp.interp"))):
            for line in Path(interp).read_text(encoding="utf-8", errors="replace").splitlines():
                key, sep, value = line.partition("=")
                if sep and key.strip() in ("python3", "python") and value.strip():
                    return value.strip()
    return None


def gimp_python(interpreter_dirs: tuple[str, ...] = INTERPRETER_DIRS) -> str | None:
    """The Python GIMP runs plug-ins with: GIMP's own setting, else `python3` on PATH; None
    when there is neither."""
    return _interp_python(interpreter_dirs) or shutil.which("python3")


def _detect() -> HostPython | None:
    """GIMP's plug-in Python as its installation names it, and that interpreter's version."""
    executable = gimp_python()
    if executable is None:
        return None
    return HostPython(
        environment.interpreter_version(executable, HOST.label), executable, executable
    )


HOST = Host(
    name="gimp",
    label="GIMP",
    detect=_detect,
    not_found="neither GIMP's pygimp.interp nor python3 on PATH was found",
)


def _copy(source: Path, target: Path, mode: int) -> None:
    """Copy `source` to `target` atomically (a fresh mtime, so GIMP queries it again)."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    target.chmod(mode)


def _write_files(folder: Path, record: bytes) -> list[str]:
    """Write the plug-in folder (only the script executable); one line per file written."""
    for name in PLUGIN_FILES:
        _copy(SOURCE_DIR / name, folder / name, 0o755 if name == SCRIPT else 0o644)
    with atomic_path(folder / RECORD_FILE) as tmp:
        tmp.write_bytes(record)
    return [f"wrote {folder / name}" for name in INSTALLED_FILES]


def _uninstall(plugin_dir: Path) -> list[str]:
    """Remove the files an install wrote and the dedicated environment, then the plug-in
    folder if that left it empty; nothing when that folder leads out of `plugin_dir`."""
    folder = plugin_dir / PLUGIN_NAME
    try:
        removal.confine(plugin_dir, PLUGIN_NAME, (PLUGIN_NAME,))
    except removal.Refused as why:
        return [f"refused to remove the files in {folder}: {why}"]
    removed = [folder / name for name in INSTALLED_FILES if (folder / name).is_file()]
    if not removed:
        return [f"the GIMP plug-in is not installed in {folder}: nothing to remove"]
    for path in removed:
        path.unlink()
    lines = [f"removed {path}" for path in removed]
    lines += environment.remove_dedicated(plugin_dir / VENV)
    if any(folder.iterdir()):
        return [*lines, f"left {folder}: it holds files style-plugin did not write"]
    folder.rmdir()
    return [*lines, f"removed {folder}", "Restart GIMP 3 to drop the Stylize filter."]


def install(options: InstallOptions) -> list[str]:
    """Install (or with `options.uninstall`, remove) the GIMP 3 plug-in; lines to show.

    `options.plugin_dir` replaces GIMP's plug-ins folder (and the check that GIMP 3 is
    installed), `options.python` the Python GIMP runs plug-ins with; `options.config_file` is
    not used (GIMP needs no settings change).
    """
    plugin_dir = detection.plugin_dir(options, APP, default_plugin_dir)
    if options.uninstall:
        return _uninstall(plugin_dir)
    env, lines = environment.prepare(HOST, options.python, plugin_dir / VENV)
    lines += _write_files(plugin_dir / PLUGIN_NAME, environment.record_bytes(env, HOST))
    lines += environment.settle(env, HOST)
    return [*lines, f"Restart GIMP 3: the filter is in {MENU_ENTRY}"]
