"""`style-plugin install gimp`: put the Stylize plug-in into GIMP 3's plug-ins folder.

Writes three files into `<plug-ins>/style-plugin-stylize/` (GIMP 3 runs
`plug-ins/<name>/<name>.py`): the plug-in script (executable), its bootstrap module, and the
environment record the bootstrap reads to find this package. `uninstall` removes exactly
those files, and the folder if nothing else is left in it.

GIMP 3 runs Python plug-ins with the system's Python 3 (the interpreter its `pygimp.interp`
file names), so numpy, onnxruntime and Pillow must be built for that Python's version. When
this environment's Python differs, nothing is written and the error says exactly what to
run: make an environment with GIMP's Python, install style-plugin there, install from it.
Installing again rewrites the script, so GIMP queries the plug-in again at its next start and
its style list includes styles installed since.
"""

from __future__ import annotations

import glob
import importlib.metadata
import json
import os
import shlex
import shutil
import site
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

from hooks.hosts import InstallOptions
from style_plugin.atomic import atomic_path
from style_plugin.errors import StylePluginError
from style_plugin.runtime.paths import user_models_dir

__all__ = [
    "ENV_FILE",
    "INSTALLED_FILES",
    "PLUGIN_NAME",
    "default_plugin_dir",
    "environment_record",
    "gimp_python",
    "install",
    "python_version",
]

#: The plug-in folder's name, and its script's name without `.py`.
PLUGIN_NAME = "style-plugin-stylize"
#: The plug-in folder shipped inside this package.
SOURCE_DIR = Path(__file__).resolve().with_name(PLUGIN_NAME)
SCRIPT = f"{PLUGIN_NAME}.py"
BOOTSTRAP = "style_plugin_bootstrap.py"
#: The environment record (the name style_plugin_bootstrap.ENV_FILE reads).
ENV_FILE = "style-plugin-env.json"
#: Every file an install writes into the plug-in folder.
INSTALLED_FILES = (SCRIPT, BOOTSTRAP, ENV_FILE)
#: Where GIMP 3 packages keep `pygimp.interp`, which names the Python plug-ins run with.
INTERPRETER_DIRS = (
    "/usr/lib/gimp/3.0/interpreters",
    "/usr/lib/*/gimp/3.0/interpreters",
    "/usr/local/lib/gimp/3.0/interpreters",
)
MENU_ENTRY = "Filters > Artistic > Stylize..."
DISTRIBUTION = "style-plugin"


def default_plugin_dir() -> Path:
    """GIMP 3's plug-ins folder for this user; `GIMP3_DIRECTORY` moves it, as it moves GIMP's."""
    override = os.environ.get("GIMP3_DIRECTORY")
    if override:
        return Path(override) / "plug-ins"
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "GIMP"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "GIMP"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "GIMP"
    return base / "3.0" / "plug-ins"


def _interp_python(interpreter_dirs: tuple[str, ...]) -> str | None:
    """The interpreter GIMP's `pygimp.interp` maps Python plug-ins to, if GIMP 3 has one."""
    for pattern in interpreter_dirs:
        for interp in sorted(glob.glob(os.path.join(pattern, "pygimp.interp"))):
            for line in Path(interp).read_text(encoding="utf-8", errors="replace").splitlines():
                key, sep, value = line.partition("=")
                if sep and key.strip() in ("python3", "python") and value.strip():
                    return value.strip()
    return None


def gimp_python(explicit: str | None, interpreter_dirs: tuple[str, ...] = INTERPRETER_DIRS) -> str:
    """The Python GIMP runs plug-ins with: `explicit`, else GIMP's own setting, else `python3`."""
    found = explicit or _interp_python(interpreter_dirs) or shutil.which("python3")
    if not found:
        raise StylePluginError(
            "cannot find the Python 3 GIMP runs plug-ins with: pass it with --python"
        )
    return found


def python_version(python: str) -> str:
    """`python`'s major.minor version ("3.13"), asked from the interpreter itself."""
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise StylePluginError(f"cannot run GIMP's Python {python}: {exc}") from None
    return done.stdout.strip()


def _running_version() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def environment_record() -> dict:
    """What the plug-in needs to import this package: this Python's version and executable,
    the folder holding the packages (an editable checkout too), and the site folders."""
    import hooks

    folders = [Path(hooks.__file__).resolve().parent.parent, *map(Path, site.getsitepackages())]
    if site.ENABLE_USER_SITE:
        folders.append(Path(site.getusersitepackages()))
    existing = [str(folder) for folder in folders if folder.is_dir()]
    return {
        "format": 1,
        "python": sys.executable,
        "python_version": _running_version(),
        "package_version": importlib.metadata.version(DISTRIBUTION),
        "sys_path": list(dict.fromkeys(existing)),
    }


def _pip_requirement() -> str:
    """What `pip install` takes to install this same style-plugin: its local source when it
    was installed from one (a checkout, a wheel), else the released version."""
    distribution = importlib.metadata.distribution(DISTRIBUTION)
    direct_url = json.loads(distribution.read_text("direct_url.json") or "{}")
    url = urlparse(direct_url.get("url", ""))
    if url.scheme == "file":
        return unquote(url.path)
    return f"{DISTRIBUTION}=={distribution.version}"


def _version_mismatch(host: str, host_version: str, options: InstallOptions) -> str:
    """The error for a GIMP Python of another version, with the commands that fix it."""
    env_dir = user_models_dir().parent / f"gimp-python{host_version}"
    env_bin = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    install_args = ["install", "gimp"]
    if options.plugin_dir is not None:
        install_args += ["--plugin-dir", str(options.plugin_dir)]
    if options.python is not None:
        install_args += ["--python", options.python]
    commands = [
        [host, "-m", "venv", str(env_dir)],
        [str(env_bin / "python"), "-m", "pip", "install", _pip_requirement()],
        [str(env_bin / "style-plugin"), *install_args],
    ]
    return "\n".join(
        [
            f"GIMP 3 runs plug-ins with Python {host_version} ({host}), but this style-plugin "
            f"is installed for Python {_running_version()} ({sys.executable}); its compiled "
            "packages (numpy, onnxruntime, Pillow) cannot load in GIMP. Nothing was written. "
            "Install style-plugin for GIMP's Python and the plug-in from there:",
            *(f"  {shlex.join(command)}" for command in commands),
        ]
    )


def _copy(source: Path, target: Path, mode: int) -> None:
    """Copy `source` to `target` atomically (a fresh mtime, so GIMP queries it again)."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    target.chmod(mode)


def _write_files(folder: Path, record: dict) -> list[str]:
    """Write the plug-in folder; returns one line per file written."""
    _copy(SOURCE_DIR / SCRIPT, folder / SCRIPT, 0o755)
    _copy(SOURCE_DIR / BOOTSTRAP, folder / BOOTSTRAP, 0o644)
    with atomic_path(folder / ENV_FILE) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return [f"wrote {folder / name}" for name in INSTALLED_FILES]


def _uninstall(folder: Path) -> list[str]:
    """Remove the files an install wrote, then the folder if that left it empty."""
    removed = [folder / name for name in INSTALLED_FILES if (folder / name).is_file()]
    if not removed:
        return [f"the GIMP plug-in is not installed in {folder}: nothing to remove"]
    for path in removed:
        path.unlink()
    lines = [f"removed {path}" for path in removed]
    if any(folder.iterdir()):
        return [*lines, f"left {folder}: it holds files style-plugin did not write"]
    folder.rmdir()
    return [*lines, f"removed {folder}", "Restart GIMP 3 to drop the Stylize filter."]


def install(options: InstallOptions) -> list[str]:
    """Install (or with `options.uninstall`, remove) the GIMP 3 plug-in; lines to show.

    `options.plugin_dir` replaces GIMP's plug-ins folder, `options.python` the Python GIMP
    runs plug-ins with; `options.config_file` is not used (GIMP needs no settings change).
    """
    folder = (options.plugin_dir or default_plugin_dir()) / PLUGIN_NAME
    if options.uninstall:
        return _uninstall(folder)
    host = gimp_python(options.python)
    host_version = python_version(host)
    if host_version != _running_version():
        raise StylePluginError(_version_mismatch(host, host_version, options))
    record = environment_record()
    lines = _write_files(folder, record)
    return [
        *lines,
        f"GIMP's Python {host_version} ({host}) will import style-plugin from "
        f"{record['sys_path'][0]}",
        f"Restart GIMP 3: the filter is in {MENU_ENTRY}",
    ]
