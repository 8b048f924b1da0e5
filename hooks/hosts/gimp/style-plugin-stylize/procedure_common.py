"""What both procedures of the GIMP plug-in use: style-plugin imported from the environment
the installer recorded, the procedure's dialog, and the return values that end a run."""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
import style_plugin_bootstrap  # noqa: E402
from gi.repository import Gimp, GimpUi, GLib  # noqa: E402

if TYPE_CHECKING:
    from style_plugin.hooks.filters import Filter

#: The name GimpUi.init takes: the plug-in's executable.
PLUG_IN_BINARY = "style-plugin-stylize"
#: The environment record the installer writes beside the plug-in's files.
RECORD = Path(__file__).resolve().with_name(style_plugin_bootstrap.ENV_FILE)


@functools.cache
def load_filter() -> tuple[Filter, ModuleType]:
    """The Stylize filter and the bridge module, imported from the recorded environment.

    Raises the bootstrap's error (missing record, other Python version) or an ImportError.
    """
    style_plugin_bootstrap.activate(RECORD)
    from style_plugin.hooks.hosts.gimp import bridge
    from style_plugin.plugins import get_filter

    return get_filter(bridge.FILTER_NAME), bridge


def load_new_style() -> ModuleType:
    """hooks/hosts/gimp/new_style.py, imported from the recorded environment."""
    load_filter()
    from style_plugin.hooks.hosts.gimp import new_style

    return new_style


def read_record() -> dict:
    """The environment record (the bootstrap's error when it is missing or unreadable)."""
    return style_plugin_bootstrap.read_environment(RECORD)


def procedure_dialog(
    procedure: Gimp.Procedure, config: Gimp.ProcedureConfig
) -> GimpUi.ProcedureDialog:
    """GIMP's dialog for the procedure's arguments, GimpUi set up for the plug-in first."""
    GimpUi.init(PLUG_IN_BINARY)
    return GimpUi.ProcedureDialog(procedure=procedure, config=config)


def finished(procedure: Gimp.Procedure, status: Gimp.PDBStatusType) -> Gimp.ValueArray:
    """Return values that end the run with `status` and nothing to tell the user."""
    return procedure.new_return_values(status, GLib.Error())


def failure(procedure: Gimp.Procedure, status: Gimp.PDBStatusType, message: str) -> Gimp.ValueArray:
    """Return values that end the run with `status` and show `message` to the user."""
    return procedure.new_return_values(status, GLib.Error(message))
