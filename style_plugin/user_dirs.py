"""Per-user folders as each operating system names them: this package's own, and those the
image editors keep their files in. platformdirs knows each system's rule.

The package's own: the user's style models (`user_models_dir`), the training runs of the
styles they added (`user_runs_dir`) and a cache of what can be rebuilt (`user_cache_dir`);
`STYLE_PLUGIN_MODELS_DIR` and `STYLE_PLUGIN_CACHE_DIR` move them (tests, hosts).

The editors': a host's installer appends its own names to one of `EDITOR_DATA`,
`EDITOR_CONFIG` and `EDITOR_PREFERENCES` (Krita: `EDITOR_DATA.path() / "krita" / "pykrita"`
and `EDITOR_PREFERENCES.path() / "kritarc"`; GIMP: `EDITOR_CONFIG.path() / "GIMP" / "3.0"`).

Everything takes `platform`, a `sys.platform` value, so each system's rule can be checked on
any machine: platformdirs' Unix and macOS classes answer anywhere, its Windows class only on
Windows (it asks the system); elsewhere the Windows rule reads APPDATA and LOCALAPPDATA, as
Windows sets them, else takes their usual folders below home. A variable set to an empty
string counts as unset.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from platformdirs.macos import MacOS
from platformdirs.unix import Unix
from platformdirs.windows import Windows

__all__ = [
    "EDITOR_CONFIG",
    "EDITOR_DATA",
    "EDITOR_PREFERENCES",
    "EditorFolder",
    "user_cache_dir",
    "user_folder",
    "user_models_dir",
    "user_runs_dir",
]

APP = "style-plugin"

#: platformdirs' kinds of per-user folder that this package and the editors use.
Kind = Literal["data", "config", "cache"]

#: Windows' application data folders, roaming and local: the variable naming each, and where
#: it is unless moved.
_WINDOWS_APP_DATA = {True: ("APPDATA", "AppData/Roaming"), False: ("LOCALAPPDATA", "AppData/Local")}


def user_folder(
    kind: Kind, platform: str = sys.platform, *, app: str | None = None, roaming: bool = False
) -> Path:
    """The current user's folder of `kind` on `platform`, with `app`'s own folder in it when
    given. `roaming` picks Windows' roaming folder (%APPDATA%) over its local one
    (%LOCALAPPDATA%, where caches always go); the other systems have one of each kind."""
    if platform == "win32" and sys.platform != "win32":
        return _windows_app_data(roaming and kind != "cache") / (app or "")
    system = {"win32": Windows, "darwin": MacOS}.get(platform, Unix)
    folders = system(appname=app, appauthor=False, roaming=roaming, opinion=False)
    return Path(getattr(folders, f"user_{kind}_dir"))


def _windows_app_data(roaming: bool) -> Path:
    """Windows' application data folder as its variable names it: how the Windows rule is
    answered elsewhere (on Windows, platformdirs asks the system)."""
    variable, default = _WINDOWS_APP_DATA[roaming]
    return Path(os.environ.get(variable) or Path.home() / default)


def _override(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value else None


def user_models_dir(platform: str = sys.platform) -> Path:
    """The folder whose .onnx files `style-plugin models` lists as the user's own styles:
    `STYLE_PLUGIN_MODELS_DIR`, else `models` in this package's data folder."""
    return _override("STYLE_PLUGIN_MODELS_DIR") or user_folder("data", platform, app=APP) / "models"


def user_runs_dir(platform: str = sys.platform) -> Path:
    """Training runs of the styles a user added (`add-style`), beside the model folder: their
    checkpoints let a cancelled one go on."""
    return user_models_dir(platform).parent / "runs"


def user_cache_dir(platform: str = sys.platform) -> Path:
    """A folder for things that can be rebuilt (TensorRT engines, shipped models):
    `STYLE_PLUGIN_CACHE_DIR`, else this package's cache folder."""
    return _override("STYLE_PLUGIN_CACHE_DIR") or user_folder("cache", platform, app=APP)


@dataclass(frozen=True)
class EditorFolder:
    """A kind of per-user folder the editors keep files in: platformdirs' `kind` on Linux
    (and other Unix) and Windows, there `roaming` or local; on macOS the folder `macos` below
    home, where Qt and GIMP look whatever XDG variables say."""

    kind: Kind
    roaming: bool
    macos: str

    def path(self, platform: str = sys.platform) -> Path:
        """This folder for the current user on `platform`."""
        if platform == "darwin":
            return Path.home() / self.macos
        return user_folder(self.kind, platform, roaming=self.roaming)


#: Applications' data (Qt's AppDataLocation): Krita's resource folder, which holds pykrita.
EDITOR_DATA = EditorFolder("data", roaming=True, macos="Library/Application Support")
#: Applications' own settings folders: GIMP's profile, which holds its plug-ins.
EDITOR_CONFIG = EditorFolder("config", roaming=True, macos="Library/Application Support")
#: Settings files of Qt and KDE programs (Qt's GenericConfigLocation): kritarc.
EDITOR_PREFERENCES = EditorFolder("config", roaming=False, macos="Library/Preferences")
