"""The Python environment a host's plug-in imports style-plugin from: one rule for every host.

An image editor runs plug-ins with its own Python, and numpy, onnxruntime and Pillow are
compiled for one Python version. So an install

1. finds the host's Python (`prepare`, `find_host_python`): `--python` (a version such as
   3.13, or an interpreter), else the host's own detection, else this one, with a note;
2. picks the environment (`Environment`): when the host's major.minor is this interpreter's,
   this interpreter's folders; otherwise a dedicated venv of the host's version beside the
   plug-in, which `settle` makes and pip-installs this same style-plugin into
   (`package_spec`). Where that cannot be done (no such interpreter, STYLE_PLUGIN_OFFLINE,
   pip fails) the plug-in stays installed and StylePluginError says which commands finish it;
3. writes the record the plug-in reads at start (`record_bytes`, file `RECORD_FILE`).

A host describes itself with a `Host`; everything else here is the same for every host.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import site
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import style_plugin
from style_plugin import __version__
from style_plugin.errors import StylePluginError

__all__ = [
    "DISTRIBUTION",
    "RECORD_FILE",
    "Environment",
    "Host",
    "HostPython",
    "find_host_python",
    "installed_spec",
    "interpreter_for",
    "interpreter_version",
    "package_spec",
    "prepare",
    "record_bytes",
    "remove_dedicated",
    "running_version",
    "settle",
    "venv_python",
    "venv_site_packages",
]

#: The environment record's file name, beside the plug-in (its readers hard-code it too).
RECORD_FILE = "environment.json"
DISTRIBUTION = "style-plugin"
_VERSION = re.compile(r"\d+\.\d+")
#: The folder holding the `style_plugin` package: site-packages, or a source checkout.
_ROOT = Path(style_plugin.__file__).resolve().parents[1]


@dataclass(frozen=True)
class HostPython:
    """The Python a host runs plug-ins with: its major.minor `version`, an `executable` of that
    version if one was found here, and how the version was learnt (`source`)."""

    version: str
    executable: str | None
    source: str


@dataclass(frozen=True)
class Host:
    """What the shared code needs from a host: `name` as in `style-plugin install NAME`, `label`
    for messages, `detect` (its Python as found in its installation, or None) and `not_found`
    (why, for the note saying that this Python is assumed instead)."""

    name: str
    label: str
    detect: Callable[[], HostPython | None]
    not_found: str


# ---------------------------------------------------------------------------------------
# Which Python the host runs


def running_version() -> str:
    """This interpreter's major.minor, the version its compiled packages are built for."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def interpreter_version(executable: str, label: str) -> str:
    """The major.minor of `label`'s interpreter `executable`, asked from the interpreter itself."""
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        done = subprocess.run(
            [executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise StylePluginError(f"cannot run {label}'s Python {executable}: {exc}") from None
    version = done.stdout.strip()
    if not _VERSION.fullmatch(version):
        raise StylePluginError(f"{executable} did not report a Python version: {version!r}")
    return version


def interpreter_for(version: str) -> str | None:
    """An interpreter of `version`: the system's first (hosts embed it), else one on PATH."""
    system = Path(f"/usr/bin/python{version}")
    if system.is_file():
        return str(system)
    return shutil.which(f"python{version}")


def find_host_python(host: Host, choice: str | None) -> tuple[HostPython, list[str]]:
    """`host`'s Python and notes to show: `choice` (a version such as '3.13', or an
    interpreter), else what the host detects, else assumed to be this one (noted)."""
    if choice and _VERSION.fullmatch(choice):
        return HostPython(choice, interpreter_for(choice), "--python"), []
    if choice:
        executable = shutil.which(choice) or choice
        return HostPython(interpreter_version(executable, host.label), executable, "--python"), []
    found = host.detect()
    if found:
        return found, []
    here = running_version()
    note = (
        f"note: {host.not_found}; assuming {host.label} runs Python {here}. "
        "Pass --python X.Y if it does not."
    )
    return HostPython(here, sys.executable, "assumed"), [note]


# ---------------------------------------------------------------------------------------
# The environment the plug-in imports style-plugin from


def venv_python(venv: Path, platform: str = sys.platform) -> Path:
    """A venv's interpreter on `platform` (a sys.platform value)."""
    return venv / "Scripts" / "python.exe" if platform == "win32" else venv / "bin" / "python"


def venv_site_packages(venv: Path, version: str, platform: str = sys.platform) -> Path:
    """Where a venv of Python `version` keeps its packages on `platform`."""
    if platform == "win32":
        return venv / "Lib" / "site-packages"
    return venv / "lib" / f"python{version}" / "site-packages"


def _this_sys_path() -> list[str]:
    """This interpreter's folders holding style-plugin (a checkout too) and its dependencies."""
    folders = [_ROOT, *map(Path, site.getsitepackages())]
    if site.ENABLE_USER_SITE:
        folders.append(Path(site.getusersitepackages()))
    return list(dict.fromkeys(str(folder) for folder in folders if folder.is_dir()))


@dataclass(frozen=True)
class Environment:
    """Where a plug-in for `host_python` imports style-plugin from: this interpreter's folders
    when the versions match, else the dedicated venv at `folder` (its place either way)."""

    host_python: HostPython
    folder: Path

    @property
    def dedicated(self) -> bool:
        """Whether the plug-in needs the venv: the host's Python is another version."""
        return self.host_python.version != running_version()

    @property
    def python(self) -> str:
        """The interpreter whose packages the plug-in imports."""
        return str(venv_python(self.folder)) if self.dedicated else sys.executable

    @property
    def sys_path(self) -> list[str]:
        """The folders the plug-in puts first on its sys.path."""
        if self.dedicated:
            return [str(venv_site_packages(self.folder, self.host_python.version))]
        return _this_sys_path()


def prepare(host: Host, choice: str | None, folder: Path) -> tuple[Environment, list[str]]:
    """The environment for `host` (its Python from `choice` or found; a dedicated venv would be
    `folder`), and the lines saying which Python that is."""
    python, lines = find_host_python(host, choice)
    lines.append(f"{host.label}'s Python: {python.version} ({python.source})")
    return Environment(python, folder), lines


def record_bytes(environment: Environment, host: Host) -> bytes:
    """The environment record (JSON, RECORD_FILE beside the plug-in): the Python version and
    folders the plug-in needs at start, whose interpreter they are, how to reinstall, and the
    `style-plugin` command of the installing environment, which the plug-in runs as a separate
    process for work that needs more than the runtime (adding a style trains with PyTorch)."""
    command = [sys.executable, "-m", "style_plugin"]
    reinstall = shlex.join([*command, "install", host.name])
    record = {
        "format": 1,
        "python_version": environment.host_python.version,
        "python": environment.python,
        "sys_path": environment.sys_path,
        "command": command,
        "package_version": __version__,
        "reinstall": f"Run `{reinstall}` again, then restart {host.label}.",
    }
    return (json.dumps(record, indent=2) + "\n").encode()


# ---------------------------------------------------------------------------------------
# The dedicated environment


def package_spec() -> str:
    """What pip installs to get this same style-plugin: its source checkout, else the local
    file or folder it was installed from, else its release on the package index."""
    pyproject = _ROOT / "pyproject.toml"
    if pyproject.is_file() and f'name = "{DISTRIBUTION}"' in pyproject.read_text("utf-8"):
        return str(_ROOT)
    return installed_spec(metadata.distribution(DISTRIBUTION))


def installed_spec(distribution: metadata.Distribution) -> str:
    """The local file or folder `distribution` was installed from (pip's direct_url.json),
    else its release on the package index."""
    url = urlparse(json.loads(distribution.read_text("direct_url.json") or "{}").get("url", ""))
    if url.scheme == "file":
        return url2pathname(url.path)
    return f"{DISTRIBUTION}=={distribution.version}"


def _offline() -> bool:
    """Whether STYLE_PLUGIN_OFFLINE asks not to touch the network."""
    return os.environ.get("STYLE_PLUGIN_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def _make(python: HostPython, commands: list[list[str]]) -> str | None:
    """Run the commands that make the venv; None when done, else why they could not run."""
    version = python.version
    if python.executable is None:
        return (
            f"no Python {version} interpreter was found here "
            f"(install python{version} and python{version}-venv)"
        )
    if _offline():
        return (
            "STYLE_PLUGIN_OFFLINE is set, and installing the dependencies needs the package index"
        )
    for command in commands:
        try:
            subprocess.run(command, check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            return f"`{shlex.join(command)}` failed ({exc})"
    return None


def remove_dedicated(folder: Path) -> list[str]:
    """Remove the dedicated venv `folder` an earlier install made; the lines to show. Only a
    real folder that is a venv (it holds pyvenv.cfg) or holds no files goes: a symlink, or
    someone else's folder of that name, is kept and said so."""
    if folder.is_symlink():
        return [f"kept {folder}: it is a symbolic link, not the environment an install made"]
    if not folder.is_dir():
        return []
    if not (folder / "pyvenv.cfg").is_file() and any(
        path.is_symlink() or not path.is_dir() for path in folder.rglob("*")
    ):
        return [f"kept {folder}: it is not a Python environment (no pyvenv.cfg)"]
    shutil.rmtree(folder)
    return [f"removed {folder}"]


def settle(environment: Environment, host: Host) -> list[str]:
    """Make the dedicated venv when the plug-in needs one, else remove one an earlier install
    made; the lines to show. Run after the plug-in is written: on failure StylePluginError
    names the commands that finish the install."""
    if not environment.dedicated:
        here = f"the plug-in imports style-plugin from this environment ({sys.executable})"
        return [*remove_dedicated(environment.folder), here]
    python = environment.host_python
    commands = [
        [python.executable or f"python{python.version}", "-m", "venv", str(environment.folder)],
        [environment.python, "-m", "pip", "install", package_spec()],
    ]
    why = _make(python, commands)
    if why:
        shown = "\n".join("  " + shlex.join(command) for command in commands)
        raise StylePluginError(
            f"{host.label} runs Python {python.version}, this is Python {running_version()}, so "
            f"the plug-in needs its own environment, but {why}. The plug-in is installed; to "
            f"finish, run:\n{shown}\nthen restart {host.label}."
        )
    return [f"created a Python {python.version} environment for {host.label}: {environment.folder}"]
