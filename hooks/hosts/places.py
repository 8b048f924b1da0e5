"""Per-user folders as each operating system names them: where hosts keep their files.

A host's installer picks the kind of folder its files live in and appends its own names
(Krita: `DATA / "krita" / "pykrita"` and `PREFERENCES / "kritarc"`; GIMP:
`CONFIG / "GIMP" / "3.0"`). `platform` takes `sys.platform` values, so each OS's rule can be
checked on any machine.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONFIG", "DATA", "PREFERENCES", "Place"]


@dataclass(frozen=True)
class Place:
    """One kind of per-user folder: on Linux (and other Unix) an XDG variable with its default
    below home, on macOS a folder below home, on Windows a variable with its default below home."""

    xdg: str
    xdg_default: str
    macos: str
    windows: str
    windows_default: str

    def path(self, platform: str = sys.platform) -> Path:
        """This folder for the current user on `platform`; an empty variable counts as unset."""
        if platform == "win32":
            return Path(os.environ.get(self.windows) or Path.home() / self.windows_default)
        if platform == "darwin":
            return Path.home() / self.macos
        return Path(os.environ.get(self.xdg) or Path.home() / self.xdg_default)


#: Applications' data (Qt's AppDataLocation): Krita's resource folder, which holds pykrita.
DATA = Place(
    "XDG_DATA_HOME", ".local/share", "Library/Application Support", "APPDATA", "AppData/Roaming"
)
#: Applications' own settings folders: GIMP's profile, which holds its plug-ins.
CONFIG = Place(
    "XDG_CONFIG_HOME", ".config", "Library/Application Support", "APPDATA", "AppData/Roaming"
)
#: Settings files of Qt and KDE programs (Qt's GenericConfigLocation): kritarc.
PREFERENCES = Place(
    "XDG_CONFIG_HOME", ".config", "Library/Preferences", "LOCALAPPDATA", "AppData/Local"
)
