#!/usr/bin/env python3
"""GIMP 3 plug-in: Filters > Artistic > Stylize... runs style-plugin's Stylize filter.

Installed by `style-plugin install gimp`, which copies this folder into GIMP's plug-ins
folder (GIMP 3 wants plug-ins/<name>/<name>.py) and records where style-plugin lives in the
file beside it. The procedure's arguments, and so its dialog (GimpUi.ProcedureDialog builds
one widget per argument), come from the filter's parameter schema; the filter runs on the
selection's bounding box of the one selected layer, GIMP blends the result through the
selection when it merges the shadow buffer, alpha is kept, and the whole run is one undo step.
All that does not need GIMP lives in hooks/hosts/gimp/bridge.py.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, GimpUi, GLib, GObject  # noqa: E402  (after require_version)

if TYPE_CHECKING:
    from hooks.filters import Filter
    from hooks.hosts.gimp.bridge import Argument

PLUG_IN_BINARY = "style-plugin-stylize"
HERE = Path(__file__).resolve().parent


@functools.cache
def load_filter() -> tuple[Filter, ModuleType]:
    """The Stylize filter and the bridge module, imported from the recorded environment.

    Raises the bootstrap's error (missing record, other Python version) or an ImportError.
    """
    sys.dont_write_bytecode = True  # leave nothing in GIMP's plug-ins folder but our files
    sys.path.insert(0, str(HERE))
    import style_plugin_bootstrap

    style_plugin_bootstrap.activate(HERE / style_plugin_bootstrap.ENV_FILE)
    from hooks import get_filter
    from hooks.hosts.gimp import bridge

    return get_filter(bridge.FILTER_NAME), bridge


def add_argument(procedure: Gimp.Procedure, argument: Argument) -> None:
    """Add one bridge.Argument to the procedure with GIMP's matching call."""
    flags = GObject.ParamFlags.READWRITE
    common = (argument.name, argument.label, argument.description)
    if argument.kind == "double":
        procedure.add_double_argument(
            *common, argument.minimum, argument.maximum, argument.default, flags
        )
    elif argument.kind == "int":
        procedure.add_int_argument(
            *common, argument.minimum, argument.maximum, argument.default, flags
        )
    elif argument.kind == "boolean":
        procedure.add_boolean_argument(*common, argument.default, flags)
    elif argument.kind == "choice":
        choice = Gimp.Choice.new()
        for index, (value, label) in enumerate(argument.choices):
            choice.add(value, index, label, "")
        procedure.add_choice_argument(*common, choice, argument.default, flags)
    else:
        procedure.add_string_argument(*common, argument.default, flags)


def failure(procedure: Gimp.Procedure, status: Gimp.PDBStatusType, message: str) -> Gimp.ValueArray:
    """Return values that end the run with `status` and show `message` to the user."""
    return procedure.new_return_values(status, GLib.Error(message))


def ask_user(procedure: Gimp.Procedure, config: Gimp.ProcedureConfig) -> bool:
    """Show the dialog built from the procedure's arguments; False if the user cancelled."""
    GimpUi.init(PLUG_IN_BINARY)
    dialog = GimpUi.ProcedureDialog(procedure=procedure, config=config)
    dialog.fill(None)
    accepted = dialog.run()
    dialog.destroy()
    return accepted


def stylize_drawable(
    filter_: Filter, bridge: ModuleType, drawable: Gimp.Drawable, values: dict[str, Any]
) -> None:
    """Filter the selection's bounding box of `drawable` through its shadow buffer; a
    selection that does not touch the drawable leaves it as it is, as GIMP's filters do."""
    touched, x, y, width, height = drawable.mask_intersect()
    if not touched:
        return
    Gegl.init(None)
    rect = Gegl.Rectangle.new(x, y, width, height)
    data = drawable.get_buffer().get(rect, 1.0, bridge.PIXEL_FORMAT, Gegl.AbyssPolicy.CLAMP)
    Gimp.progress_init(f"{filter_.label}...")
    try:
        result = bridge.stylize_region(
            filter_,
            bytes(data),
            width,
            height,
            values,
            progress=lambda done, total: Gimp.progress_update(
                bridge.progress_fraction(done, total)
            ),
        )
    finally:
        Gimp.progress_end()
    shadow = drawable.get_shadow_buffer()
    shadow.set(rect, bridge.PIXEL_FORMAT, result)
    shadow.flush()
    drawable.merge_shadow(True)  # blends through the selection mask, with an undo step
    drawable.update(x, y, width, height)


def run(
    procedure: Gimp.Procedure,
    run_mode: Gimp.RunMode,
    image: Gimp.Image,
    drawables: list[Gimp.Drawable],
    config: Gimp.ProcedureConfig,
    data: Any,
) -> Gimp.ValueArray:
    """The procedure's run function: check the target, ask (interactive runs), filter."""
    filter_, bridge = load_filter()
    from style_plugin.errors import StylePluginError  # importable once load_filter() ran

    if len(drawables) != 1 or drawables[0].is_group():
        return failure(
            procedure, Gimp.PDBStatusType.CALLING_ERROR, "Select exactly one layer (not a group)."
        )
    if run_mode == Gimp.RunMode.INTERACTIVE and not ask_user(procedure, config):
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
    values = bridge.filter_values(bridge.arguments_for(filter_), config.get_property)
    image.undo_group_start()
    try:
        stylize_drawable(filter_, bridge, drawables[0], values)
    except StylePluginError as exc:
        return failure(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, str(exc))
    finally:
        image.undo_group_end()
    Gimp.displays_flush()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


class StylizePlugIn(Gimp.PlugIn):
    """Registers the Stylize procedure when style-plugin can be found."""

    def do_set_i18n(self, name: str) -> bool:
        """The labels come from the filter, untranslated by GIMP's catalogues."""
        return False

    def do_query_procedures(self) -> list[str]:
        """The procedure, or none (with the reason on stderr) if style-plugin is not found."""
        try:
            _, bridge = load_filter()
        except Exception as exc:  # GIMP must keep starting whatever broke here
            print(f"style-plugin: Stylize is unavailable: {exc}", file=sys.stderr)
            return []
        return [bridge.PROCEDURE_NAME]

    def do_create_procedure(self, name: str) -> Gimp.Procedure:
        """The image procedure with one argument per filter parameter."""
        filter_, bridge = load_filter()
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label(bridge.menu_label(filter_))
        procedure.add_menu_path(bridge.MENU_PATH)
        procedure.set_documentation(filter_.label, filter_.description, name)
        procedure.set_attribution("style-plugin developers", "style-plugin developers", "2025")
        for argument in bridge.arguments_for(filter_):
            add_argument(procedure, argument)
        return procedure


if __name__ == "__main__":
    Gimp.main(StylizePlugIn.__gtype__, sys.argv)
