"""Whether an image editor is installed here: one rule for every host.

An install into the editor's usual folder is only worth doing when the editor is there, so
`plugin_dir` first looks for it (`find`): its executables on PATH, then where its packages
put it on this OS (Linux and other Unix: Flatpak, system-wide and per user; macOS: the app
bundle in /Applications or ~/Applications; Windows: Program Files, and the per-user Programs
folder). An explicit plug-in folder skips the search, and so does an uninstall.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from style_plugin.errors import StylePluginError
from style_plugin.hooks.hosts import InstallOptions
from style_plugin.user_dirs import user_folder

__all__ = ["Application", "find", "locations", "plugin_dir"]


@dataclass(frozen=True)
class Application:
    """Where an editor's packages put it: `label` for messages, `commands` its executables'
    names, `flatpak` its Flatpak id, `macos` its app bundles' names and `windows` its
    executable below Program Files (a relative path)."""

    label: str
    commands: tuple[str, ...]
    flatpak: str
    macos: tuple[str, ...]
    windows: tuple[str, ...]


def _flatpak_installations() -> list[Path]:
    """Flatpak's system-wide and per-user installations, moved as Flatpak itself moves them."""
    system = os.environ.get("FLATPAK_SYSTEM_DIR") or "/var/lib/flatpak"
    user = os.environ.get("FLATPAK_USER_DIR") or user_folder("data", "linux") / "flatpak"
    return [Path(system), Path(user)]


def _program_folders() -> list[Path]:
    """Windows' folders for installed programs: for every user, and for this one."""
    every_user = os.environ.get("PROGRAMFILES") or "C:/Program Files"
    return [Path(every_user), user_folder("data", "win32") / "Programs"]


def locations(app: Application, platform: str = sys.platform) -> list[Path]:
    """The places `app`'s packages install it on `platform` (a sys.platform value), besides
    its executables on PATH."""
    if platform == "win32":
        return [folder / exe for folder in _program_folders() for exe in app.windows]
    if platform == "darwin":
        folders = [Path("/Applications"), Path.home() / "Applications"]
        return [folder / bundle for folder in folders for bundle in app.macos]
    return [root / "app" / app.flatpak / "current" for root in _flatpak_installations()]


def find(app: Application, platform: str = sys.platform) -> str | None:
    """Where `app` is installed on `platform`: an executable on PATH or a known place; None
    when it is in neither."""
    for command in app.commands:
        found = shutil.which(command)
        if found:
            return found
    return next((str(place) for place in locations(app, platform) if place.exists()), None)


def _missing(app: Application, platform: str) -> StylePluginError:
    """The one-line error for an editor that `find` did not find, naming where it looked."""
    looked = [f"{', '.join(app.commands)} on PATH", *map(str, locations(app, platform))]
    return StylePluginError(
        f"{app.label} was not found (looked for {'; '.join(looked)}); install it first, "
        "or pass --plugin-dir DIR to install into a folder anyway"
    )


def plugin_dir(options: InstallOptions, app: Application, default: Callable[[], Path]) -> Path:
    """The plug-in folder to work on: `options.plugin_dir` as given, else `default()` once
    `app` is found (an uninstall does not ask: it must work after the editor is gone)."""
    if options.plugin_dir is not None:
        return Path(options.plugin_dir).expanduser().absolute()
    if not options.uninstall and find(app) is None:
        raise _missing(app, sys.platform)
    return default().expanduser().absolute()
