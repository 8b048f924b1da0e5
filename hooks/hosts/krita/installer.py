"""`style-plugin install krita`: put the Stylize plug-in into Krita's pykrita folder.

What an install writes, and what `--uninstall` removes again (listed in a manifest):

    PLUGIN_DIR/style_plugin_krita.desktop              Krita's description of the plug-in
    PLUGIN_DIR/style_plugin_krita/__init__.py          the module Krita loads
    PLUGIN_DIR/style_plugin_krita/environment.json     Python version + folders for sys.path
    PLUGIN_DIR/style_plugin_krita/install-manifest.json
    PLUGIN_DIR/style_plugin_krita_env/                 only when Krita's Python differs
    KRITARC  [python] enable_style_plugin_krita=true   (the rest of the file is kept)

PLUGIN_DIR defaults to $XDG_DATA_HOME/krita/pykrita (~/.local/share/krita/pykrita) and
KRITARC to $XDG_CONFIG_HOME/kritarc (~/.config/kritarc).

Krita embeds the system's Python, and numpy, onnxruntime and Pillow are compiled for one
Python version. When Krita's version (read from the libpython its Python plug-in links, or
given with --python) is the running interpreter's, the plug-in uses this environment. When
it differs, the installer makes a dedicated environment with an interpreter of Krita's
version and pip-installs style-plugin with its dependencies into it; where that cannot be
done (no such interpreter, offline, pip fails) it says exactly which commands to run.
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
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from hooks.hosts import InstallOptions
from style_plugin.atomic import atomic_path
from style_plugin.errors import StylePluginError

__all__ = [
    "PLUGIN",
    "HostPython",
    "default_config_file",
    "default_plugin_dir",
    "find_host_python",
    "install",
    "krita_python_version",
    "set_config_value",
]

#: The plug-in's name: its .desktop file, module folder and kritarc key derive from it.
PLUGIN = "style_plugin_krita"
CONFIG_GROUP = "python"
CONFIG_KEY = f"enable_{PLUGIN}"
ENVIRONMENT = "environment.json"
MANIFEST = "install-manifest.json"
VENV = f"{PLUGIN}_env"
DISTRIBUTION = "style-plugin"

# Where Krita's Python plug-in and module sit below Krita's prefix (/usr, /opt/krita, ...).
_KRITA_PYTHON_LIBRARIES = (
    "lib*/kritaplugins/kritapykrita*.so",
    "lib*/*/kritaplugins/kritapykrita*.so",
    "lib*/krita-python-libs/PyKrita/krita*.so",
    "lib*/*/krita-python-libs/PyKrita/krita*.so",
)
_VERSION = re.compile(r"\d+\.\d+")


def default_plugin_dir() -> Path:
    """Krita's pykrita folder for this user."""
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "krita" / "pykrita"


def default_config_file() -> Path:
    """Krita's settings file for this user."""
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "kritarc"


# ---------------------------------------------------------------------------------------
# Which Python Krita runs


@dataclass(frozen=True)
class HostPython:
    """The Python that Krita embeds: its major.minor `version`, an `executable` of that
    version if one was found here, and how the version was learnt (`source`)."""

    version: str
    executable: str | None
    source: str


def krita_python_version(krita: str = "krita") -> tuple[str, Path] | None:
    """(major.minor, library) of the Python that Krita embeds, read from the `libpythonX.Y`
    name its Python plug-in links; None when Krita or its Python plug-in is not found."""
    executable = shutil.which(krita)
    if executable is None:
        return None
    prefix = Path(executable).resolve().parent.parent
    for pattern in _KRITA_PYTHON_LIBRARIES:
        for library in sorted(prefix.glob(pattern)):
            match = re.search(rb"libpython(\d+\.\d+)", library.read_bytes())
            if match:
                return match.group(1).decode(), library
    return None


def _interpreter_version(executable: str) -> str:
    """The major.minor of an interpreter, by running it."""
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        result = subprocess.run(
            [executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise StylePluginError(f"cannot run the Python interpreter {executable!r}: {exc}") from None
    version = result.stdout.strip()
    if not _VERSION.fullmatch(version):
        raise StylePluginError(f"{executable!r} did not report a Python version: {version!r}")
    return version


def _interpreter_for(version: str) -> str | None:
    """An interpreter of `version`: the system's first (Krita embeds it), else one on PATH."""
    system = Path(f"/usr/bin/python{version}")
    if system.is_file():
        return str(system)
    return shutil.which(f"python{version}")


def find_host_python(choice: str | None = None) -> tuple[HostPython, list[str]]:
    """Krita's Python: from `choice` (a version such as '3.13', or an interpreter), else
    detected from Krita's installation, else assumed to be this one (with a note why)."""
    if choice and _VERSION.fullmatch(choice):
        return HostPython(choice, _interpreter_for(choice), "--python"), []
    if choice:
        executable = shutil.which(choice) or choice
        return HostPython(_interpreter_version(executable), executable, "--python"), []
    found = krita_python_version()
    if found:
        version, library = found
        return HostPython(version, _interpreter_for(version), f"linked by {library}"), []
    here = _here()
    note = (
        f"note: Krita's Python plug-in was not found (is Krita installed from your system's "
        f"packages?); assuming Krita runs Python {here}. Pass --python X.Y if it does not."
    )
    return HostPython(here, sys.executable, "assumed"), [note]


# ---------------------------------------------------------------------------------------
# The environment the plug-in imports style-plugin from


def _package_root() -> Path:
    """The folder that holds the `hooks` package (a source checkout or site-packages)."""
    import hooks

    return Path(hooks.__file__).resolve().parent.parent


def _current_sys_path() -> list[str]:
    """This interpreter's folders that hold style-plugin and its dependencies."""
    entries = [str(_package_root()), *site.getsitepackages()]
    user_site = site.getusersitepackages()
    if site.ENABLE_USER_SITE and Path(user_site).is_dir():
        entries.append(user_site)
    return list(dict.fromkeys(entries))


def _package_spec() -> str:
    """What to pip-install: this source checkout, or the installed release from the index."""
    root = _package_root()
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and f'name = "{DISTRIBUTION}"' in pyproject.read_text("utf-8"):
        return str(root)
    return f"{DISTRIBUTION}=={metadata.version(DISTRIBUTION)}"


def _offline() -> bool:
    """Whether STYLE_PLUGIN_OFFLINE asks not to touch the network."""
    return os.environ.get("STYLE_PLUGIN_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def _venv_site_packages(venv: Path, version: str) -> Path:
    """Where a POSIX venv of `version` keeps its packages."""
    return venv / "lib" / f"python{version}" / "site-packages"


def _venv_commands(host: HostPython, venv: Path) -> list[list[str]]:
    """The commands that make `venv` with Krita's Python and install style-plugin into it."""
    python = host.executable or f"python{host.version}"
    return [
        [python, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", _package_spec()],
    ]


def _make_venv(host: HostPython, venv: Path) -> list[str]:
    """Run the venv commands; StylePluginError with the commands to run where they cannot."""
    commands = _venv_commands(host, venv)
    shown = "\n".join("  " + shlex.join(command) for command in commands)
    why = None
    if host.executable is None:
        why = f"no Python {host.version} interpreter was found here (install python{host.version} and python{host.version}-venv)"
    elif _offline():
        why = "STYLE_PLUGIN_OFFLINE is set, and installing the dependencies needs the package index"
    else:
        for command in commands:
            try:
                subprocess.run(command, check=True)
            except (OSError, subprocess.CalledProcessError) as exc:
                why = f"`{shlex.join(command)}` failed ({exc})"
                break
    if why:
        raise StylePluginError(
            f"Krita runs Python {host.version}, this is Python {_here()}, so the plug-in needs "
            f"its own environment, but {why}. The plug-in is installed; to finish, run:\n"
            f"{shown}\nthen restart Krita."
        )
    return [f"created a Python {host.version} environment for Krita: {venv}"]


def _here() -> str:
    """This interpreter's major.minor."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


# ---------------------------------------------------------------------------------------
# kritarc


def set_config_value(path: Path, group: str, key: str, value: str | None) -> bool:
    """Set `key=value` in `[group]` of an INI-style file such as kritarc, or remove the key
    (`value` None; a group left empty goes too). Every other line is kept as it was; the file
    is replaced atomically. Returns whether anything changed."""
    text = path.read_bytes().decode("utf-8", "surrogateescape") if path.exists() else ""
    lines = text.splitlines()
    header = f"[{group}]"
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    if start is None:
        if value is None:
            return False
        if lines and lines[-1].strip():
            lines.append("")
        lines += [header, f"{key}={value}"]
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
            len(lines),
        )
        hits = [i for i in range(start + 1, end) if lines[i].split("=", 1)[0].strip() == key]
        if value is not None and hits:
            lines[hits[0]] = f"{key}={value}"
            hits = hits[1:]
        elif value is not None:
            last = max([start, *(i for i in range(start + 1, end) if lines[i].strip())])
            lines.insert(last + 1, f"{key}={value}")
        for index in reversed(hits):
            del lines[index]
            end -= 1
        if value is None and not any(line.strip() for line in lines[start + 1 : end]):
            del lines[start:end]
            while lines and not lines[-1].strip():
                lines.pop()
    new = "\n".join(lines) + "\n" if lines else ""
    if new == text:
        return False
    with atomic_path(path) as tmp:
        tmp.write_bytes(new.encode("utf-8", "surrogateescape"))
    return True


# ---------------------------------------------------------------------------------------
# Install and uninstall


def _write(target: Path, data: bytes) -> None:
    """Replace `target` with `data` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def _make_dirs(folder: Path) -> list[str]:
    """mkdir -p; returns the folders it created, deepest first."""
    created = []
    for path in [folder, *folder.parents]:
        if path.exists():
            break
        created.append(str(path))
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _read_manifest(plugin_dir: Path) -> dict[str, Any] | None:
    """What an earlier install wrote here, or None (never installed, or unreadable)."""
    path = plugin_dir / PLUGIN / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _remove_files(plugin_dir: Path, manifest: dict[str, Any]) -> None:
    """Remove the files an install wrote, and the module's bytecode Krita's Python left."""
    for name in manifest["files"]:
        (plugin_dir / name).unlink(missing_ok=True)
    shutil.rmtree(plugin_dir / PLUGIN / "__pycache__", ignore_errors=True)


def _plugin_files() -> dict[str, bytes]:
    """The plug-in's files as shipped in this package, by path relative to PLUGIN_DIR."""
    source = resources.files("hooks.hosts.krita") / "pykrita"
    return {
        f"{PLUGIN}.desktop": (source / f"{PLUGIN}.desktop").read_bytes(),
        f"{PLUGIN}/__init__.py": (source / PLUGIN / "__init__.py").read_bytes(),
    }


def _environment(host: HostPython, plugin_dir: Path) -> tuple[list[str], Path | None]:
    """(sys.path entries for the plug-in, the dedicated venv or None when this one serves)."""
    if host.version == _here():
        return _current_sys_path(), None
    venv = plugin_dir / VENV
    return [str(_venv_site_packages(venv, host.version))], venv


def install(options: InstallOptions) -> list[str]:
    """Install (or with `options.uninstall` remove) the Krita plug-in; returns what to show."""
    plugin_dir = Path(options.plugin_dir or default_plugin_dir()).expanduser().absolute()
    if options.uninstall:
        return _uninstall(plugin_dir, options.config_file)
    config = Path(options.config_file or default_config_file()).expanduser().absolute()
    host, lines = find_host_python(options.python)
    lines.append(f"Krita's Python: {host.version} ({host.source})")
    previous = _read_manifest(plugin_dir)
    if previous:
        _remove_files(plugin_dir, previous)
    created = list(previous["created"]) if previous else []
    created += _make_dirs(plugin_dir / PLUGIN)
    sys_path, venv = _environment(host, plugin_dir)
    if previous and previous.get("environment") and venv is None:
        shutil.rmtree(plugin_dir / previous["environment"], ignore_errors=True)
    files = _plugin_files()
    environment = {
        "python": host.version,
        "sys_path": sys_path,
        "reinstall": f"Run `{sys.executable} -m style_plugin install krita` again, then restart Krita.",
    }
    files[f"{PLUGIN}/{ENVIRONMENT}"] = json.dumps(environment, indent=2).encode() + b"\n"
    config_created = (previous or {}).get("config_created", False) or not config.exists()
    manifest = {
        "plugin": PLUGIN,
        "files": [*files, f"{PLUGIN}/{MANIFEST}"],
        "created": created,
        "environment": VENV if venv else None,
        "config_file": str(config),
        "config_key": CONFIG_KEY,
        "config_created": config_created,
    }
    files[f"{PLUGIN}/{MANIFEST}"] = json.dumps(manifest, indent=2).encode() + b"\n"
    for name, data in files.items():
        _write(plugin_dir / name, data)
    lines.append(f"wrote the plug-in to {plugin_dir}: {', '.join(files)}")
    set_config_value(config, CONFIG_GROUP, CONFIG_KEY, "true")
    lines.append(f"enabled it in {config}: [{CONFIG_GROUP}] {CONFIG_KEY}=true")
    if venv is None:
        lines.append(f"it imports style-plugin from this environment ({sys.executable})")
    else:
        lines += _make_venv(host, venv)
    lines.append("Restart Krita: the filter is at Filter > Stylize…")
    return lines


def _uninstall(plugin_dir: Path, config_file: Path | None) -> list[str]:
    """Remove what the manifest lists, the environment it made, and the kritarc key."""
    manifest = _read_manifest(plugin_dir)
    lines = []
    if manifest is None:
        lines.append(f"no style-plugin Krita plug-in is installed in {plugin_dir}")
        config = Path(config_file or default_config_file()).expanduser().absolute()
    else:
        config = Path(config_file or manifest["config_file"]).expanduser().absolute()
        _remove_files(plugin_dir, manifest)
        if manifest.get("environment"):
            shutil.rmtree(plugin_dir / manifest["environment"], ignore_errors=True)
        leftovers = []
        for folder in [str(plugin_dir / PLUGIN), *manifest["created"]]:
            path = Path(folder)
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
            elif path.is_dir() and path.name == PLUGIN:
                leftovers.append(str(path))
        lines.append(f"removed the plug-in from {plugin_dir}")
        lines += [f"kept {path}: it holds files the installer did not write" for path in leftovers]
    if set_config_value(config, CONFIG_GROUP, CONFIG_KEY, None):
        lines.append(f"removed [{CONFIG_GROUP}] {CONFIG_KEY} from {config}")
        created = manifest is not None and manifest.get("config_created")
        if created and config.exists() and not config.read_bytes().strip():
            config.unlink()
    return lines
