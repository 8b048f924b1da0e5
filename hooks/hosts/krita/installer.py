"""`style-plugin install krita`: put the Stylize plug-in into Krita's pykrita folder.

What an install writes, and what `--uninstall` removes again (listed in a manifest):

    PLUGIN_DIR/style_plugin_krita.desktop              Krita's description of the plug-in
    PLUGIN_DIR/style_plugin_krita/__init__.py          the module Krita loads
    PLUGIN_DIR/style_plugin_krita/environment.json     the environment record
    PLUGIN_DIR/style_plugin_krita/install-manifest.json
    PLUGIN_DIR/style_plugin_krita_env/                 only when Krita's Python differs
    KRITARC  [python] enable_style_plugin_krita=true   (the rest of the file is kept)
    VENV/bin/krita                                     run from a venv: Krita without it

PLUGIN_DIR defaults, once Krita is found (hooks/hosts/detection.py), to the pykrita folder
in Krita's resource folder (Linux $XDG_DATA_HOME/krita, macOS ~/Library/Application
Support/krita, Windows %APPDATA%\\krita), KRITARC to Krita's settings file (Linux
$XDG_CONFIG_HOME/kritarc, macOS ~/Library/Preferences/kritarc, Windows
%LOCALAPPDATA%\\kritarc). The manifest is checked before anything it lists is removed
(hooks/hosts/removal.py): only the .desktop file, the module folder, the folders an install
can create and a file named kritarc are taken, and each other entry is refused with a line.

Krita's Python version is read from the libpython its Python plug-in links (or given with
--python); which environment the plug-in then imports from, and the record it reads, follow
the rule every host shares (hooks/hosts/environment.py). Run from a venv, the install also
writes a `krita` command into the venv that starts Krita without the venv
(hooks/hosts/krita/launcher.py): with the venv active, Krita could load no Python plug-in.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from style_plugin.atomic import atomic_path
from style_plugin.hooks.hosts import InstallOptions, detection, environment, removal
from style_plugin.hooks.hosts.environment import Host, HostPython
from style_plugin.hooks.hosts.krita import launcher
from style_plugin.user_dirs import EDITOR_DATA, EDITOR_PREFERENCES

__all__ = [
    "PLUGIN",
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
MANIFEST = "install-manifest.json"
#: The dedicated environment, beside the plug-in, when Krita's Python is another version.
VENV = f"{PLUGIN}_env"
#: What an install owns in the plug-in folder: the only places its manifest may name.
OWNED = (f"{PLUGIN}.desktop", PLUGIN)
#: Krita's settings file's name: the only file a manifest may name as the one to edit.
CONFIG_NAME = "kritarc"
#: Where Krita's packages put it (hooks/hosts/detection.py).
APP = detection.Application(
    label="Krita",
    commands=("krita",),
    flatpak="org.kde.krita",
    macos=("krita.app",),
    windows=("Krita (x64)/bin/krita.exe",),
)

# Where Krita's Python plug-in and module sit below Krita's prefix (/usr, /opt/krita, ...).
_KRITA_PYTHON_LIBRARIES = (
    "lib*/kritaplugins/kritapykrita*.so",
    "lib*/*/kritaplugins/kritapykrita*.so",
    "lib*/krita-python-libs/PyKrita/krita*.so",
    "lib*/*/krita-python-libs/PyKrita/krita*.so",
)


def default_plugin_dir(platform: str = sys.platform) -> Path:
    """Krita's pykrita folder for this user on `platform` (a sys.platform value)."""
    return EDITOR_DATA.path(platform) / "krita" / "pykrita"


def default_config_file(platform: str = sys.platform) -> Path:
    """Krita's settings file for this user on `platform`."""
    return EDITOR_PREFERENCES.path(platform) / CONFIG_NAME


# ---------------------------------------------------------------------------------------
# Which Python Krita runs


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


def _detect() -> HostPython | None:
    """Krita's Python as its installation shows it, with an interpreter of that version."""
    found = krita_python_version()
    if found is None:
        return None
    version, library = found
    return HostPython(version, environment.interpreter_for(version), f"linked by {library}")


HOST = Host(
    name="krita",
    label="Krita",
    detect=_detect,
    not_found="Krita's Python plug-in was not found (is Krita installed from your system's packages?)",
)


def find_host_python(choice: str | None = None) -> tuple[HostPython, list[str]]:
    """Krita's Python, and notes to show: `choice` (a version such as '3.13', or an
    interpreter), else detected from Krita's installation, else assumed to be this one."""
    return environment.find_host_python(HOST, choice)


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


@dataclass(frozen=True)
class Manifest:
    """An earlier install's manifest with every entry checked (hooks/hosts/removal.py): the
    `files` it wrote, the folders it `created`, its kritarc (`config_file`, None if refused)
    and whether it created that, the `launcher` it wrote into a venv (None if none or
    refused); `refused` holds one line per entry not taken."""

    files: list[Path]
    created: list[Path]
    config_file: Path | None
    config_created: bool
    launcher: Path | None
    refused: list[str]


def _entries(raw: dict[str, Any], key: str) -> list[object]:
    """The manifest's list under `key` (a lone value counts as a list of one, so that it is
    checked and refused rather than iterated)."""
    value = raw.get(key, [])
    return value if isinstance(value, list) else [value]


def _file(plugin_dir: Path, entry: object) -> Path:
    """A file the manifest says an install wrote: in what the installer owns, and no folder."""
    path = removal.confine(plugin_dir, entry, OWNED)
    if path.is_dir():
        raise removal.Refused("a folder, not a file the installer wrote")
    return path


def _created_folder(plugin_dir: Path, entry: object) -> Path:
    """A folder the manifest says an install created: the module folder, the plug-in folder or
    one above it (the only ones `_make_dirs` can create); they go only when left empty."""
    allowed = {plugin_dir / PLUGIN, plugin_dir, *plugin_dir.parents}
    if not isinstance(entry, str) or Path(entry) not in allowed:
        raise removal.Refused("not the plug-in folder or a folder above it")
    return Path(entry)


def _config_file(entry: object) -> Path:
    """The kritarc the manifest names: an absolute path to a file of that name."""
    path = Path(entry) if isinstance(entry, str) else None
    if path is None or not path.is_absolute() or ".." in path.parts or path.name != CONFIG_NAME:
        raise removal.Refused(f"not a file named {CONFIG_NAME}; pass --config FILE")
    return path


def _read_manifest(plugin_dir: Path) -> Manifest | None:
    """What an earlier install wrote here, checked; None (never installed, or unreadable)."""
    source = plugin_dir / PLUGIN / MANIFEST
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    files, refused = removal.split(
        _entries(raw, "files"), lambda entry: _file(plugin_dir, entry), source
    )
    created, more = removal.split(
        _entries(raw, "created"), lambda entry: _created_folder(plugin_dir, entry), source
    )
    configs, config_refused = removal.split([raw.get("config_file")], _config_file, source)
    written = [] if raw.get("launcher") is None else [raw["launcher"]]
    launchers, launcher_refused = removal.split(written, launcher.checked, source)
    return Manifest(
        files=files,
        created=created,
        config_file=configs[0] if configs else None,
        config_created=raw.get("config_created") is True,
        launcher=launchers[0] if launchers else None,
        refused=[*refused, *more, *config_refused, *launcher_refused],
    )


def _remove_files(plugin_dir: Path, manifest: Manifest) -> None:
    """Remove the files an install wrote, and the module's bytecode Krita's Python left."""
    for path in manifest.files:
        path.unlink(missing_ok=True)
    cache = PurePosixPath(PLUGIN, "__pycache__")
    if removal.within(plugin_dir, cache):
        shutil.rmtree(plugin_dir / cache, ignore_errors=True)


def _plugin_files() -> dict[str, bytes]:
    """The plug-in's files as shipped in this package, by path relative to PLUGIN_DIR."""
    source = resources.files("style_plugin.hooks.hosts.krita") / "pykrita"
    return {
        f"{PLUGIN}.desktop": (source / f"{PLUGIN}.desktop").read_bytes(),
        f"{PLUGIN}/__init__.py": (source / PLUGIN / "__init__.py").read_bytes(),
    }


def install(options: InstallOptions) -> list[str]:
    """Install (or with `options.uninstall` remove) the Krita plug-in; returns what to show."""
    plugin_dir = detection.plugin_dir(options, APP, default_plugin_dir)
    if options.uninstall:
        return _uninstall(plugin_dir, options.config_file)
    config = Path(options.config_file or default_config_file()).expanduser().absolute()
    env, lines = environment.prepare(HOST, options.python, plugin_dir / VENV)
    previous = _read_manifest(plugin_dir)
    created = []
    if previous:
        lines += previous.refused
        _remove_files(plugin_dir, previous)
        created = [str(path) for path in previous.created]
    created += _make_dirs(plugin_dir / PLUGIN)
    files = _plugin_files()
    files[f"{PLUGIN}/{environment.RECORD_FILE}"] = environment.record_bytes(env, HOST)
    config_created = bool(previous and previous.config_created) or not config.exists()
    launcher_file, launcher_lines = _write_launcher(previous)
    manifest = {
        "plugin": PLUGIN,
        "files": [*files, f"{PLUGIN}/{MANIFEST}"],
        "created": created,
        "config_file": str(config),
        "config_key": CONFIG_KEY,
        "config_created": config_created,
        "launcher": launcher_file and str(launcher_file),
    }
    files[f"{PLUGIN}/{MANIFEST}"] = json.dumps(manifest, indent=2).encode() + b"\n"
    for name, data in files.items():
        _write(plugin_dir / name, data)
    lines.append(f"wrote the plug-in to {plugin_dir}: {', '.join(files)}")
    set_config_value(config, CONFIG_GROUP, CONFIG_KEY, "true")
    lines.append(f"enabled it in {config}: [{CONFIG_GROUP}] {CONFIG_KEY}=true")
    lines += launcher_lines
    lines += environment.settle(env, HOST)
    lines.append("Restart Krita: the filter is at Filter > Stylize…")
    return lines


def _write_launcher(previous: Manifest | None) -> tuple[Path | None, list[str]]:
    """Write the `krita` launcher into the venv running this install, if it is one, and remove
    one an earlier install wrote elsewhere; the launcher's path (or None) and the lines."""
    folder = launcher.default_folder()
    written, line = launcher.write(folder) if folder else (None, None)
    lines = [line] if line else []
    if previous and previous.launcher and previous.launcher != written:
        lines += launcher.remove(previous.launcher)
    return written, lines


def _remove_folders(plugin_dir: Path, created: list[Path]) -> list[str]:
    """Remove the module folder and the folders an install created, deepest first, where
    they are empty; a line for a module folder still holding files the install did not write."""
    lines = []
    for path in sorted({plugin_dir / PLUGIN, *created}, key=lambda p: len(p.parts), reverse=True):
        if path.is_symlink() or not path.is_dir():
            continue
        if not any(path.iterdir()):
            path.rmdir()
        elif path.name == PLUGIN:
            lines.append(f"kept {path}: it holds files the installer did not write")
    return lines


def _disable(config: Path, created: bool) -> list[str]:
    """Remove the kritarc line enabling the plug-in, and kritarc itself when the install
    `created` it and nothing else is left in it; the lines to show."""
    if not set_config_value(config, CONFIG_GROUP, CONFIG_KEY, None):
        return []
    if created and config.exists() and not config.read_bytes().strip():
        config.unlink()
    return [f"removed [{CONFIG_GROUP}] {CONFIG_KEY} from {config}"]


def _uninstall(plugin_dir: Path, config_file: Path | None) -> list[str]:
    """Remove what the manifest lists (only what the installer owns), the dedicated
    environment, and the kritarc key."""
    given = Path(config_file).expanduser().absolute() if config_file else None
    manifest = _read_manifest(plugin_dir)
    if manifest is None:
        lines = [f"no style-plugin Krita plug-in is installed in {plugin_dir}"]
        return lines + _disable(given or default_config_file(), created=False)
    lines = list(manifest.refused)
    _remove_files(plugin_dir, manifest)
    lines += environment.remove_dedicated(plugin_dir / VENV)
    lines += launcher.remove(manifest.launcher) if manifest.launcher else []
    lines.append(f"removed the plug-in from {plugin_dir}")
    lines += _remove_folders(plugin_dir, manifest.created)
    config = given or manifest.config_file
    return lines + (_disable(config, manifest.config_created) if config else [])
