"""Host adapters: thin plug-ins that put the Stylize filter inside image editors.

Each host has an installer module with `install(options) -> list[str]` (the lines to show
the user: what was written, or removed with `options.uninstall`). `style-plugin install HOST`
dispatches here. What every installer shares lives beside this file: `environment` (the host's
Python, the environment its plug-in imports style-plugin from, and the record saying so),
`detection` (whether the editor is installed, before installing into its usual folder) and
`removal` (which paths read from a manifest an uninstall may remove); the editors' per-user
folders on Linux, macOS and Windows come from style_plugin/user_dirs.py. The adapters build
their dialogs from the filter's parameter schema (hooks/filters.py), so a new filter parameter
needs no host change.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from style_plugin.errors import StylePluginError

__all__ = ["HOSTS", "InstallOptions", "installer"]

#: Host name -> the module that installs its plug-in.
HOSTS = {
    "krita": "style_plugin.hooks.hosts.krita.installer",
    "gimp": "style_plugin.hooks.hosts.gimp.installer",
}


@dataclass(frozen=True)
class InstallOptions:
    """Where and how to install. None means the host's usual place for this user.

    `plugin_dir`: the host's plug-in folder (Krita: .../krita/pykrita; GIMP: .../plug-ins);
    naming it skips the check that the host is installed;
    `config_file`: the host's settings file where plug-ins are enabled (Krita: kritarc);
    `python`: the interpreter the host embeds (default: detected); `uninstall`: remove
    exactly what an earlier install wrote.
    """

    plugin_dir: Path | None = None
    config_file: Path | None = None
    python: str | None = None
    uninstall: bool = False


def installer(host: str) -> ModuleType:
    """The installer module for `host`; StylePluginError names the known hosts."""
    if host not in HOSTS:
        raise StylePluginError(f"unknown host {host!r}; choose one of {', '.join(HOSTS)}")
    return importlib.import_module(HOSTS[host])
