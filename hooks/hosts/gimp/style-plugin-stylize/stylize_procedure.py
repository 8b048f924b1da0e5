"""Filters > Artistic > Stylize...: style-plugin's Stylize filter on the selected layer.

The procedure's arguments, and so its dialog (GimpUi.ProcedureDialog builds one widget per
argument), come from the filter's parameter schema; the style is a string argument whose
list the dialog reads when it opens, so styles installed since GIMP recorded the arguments
are there. Above them the dialog shows a preview of the filter's result for its current
values. The filter runs on the selection's bounding box of the one selected layer, GIMP
blends the result through the selection when it merges the shadow buffer, alpha is kept,
and the whole run is one undo step.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Gtk", "3.0")
from gi.repository import Gegl, Gimp, GimpUi, GLib, GObject, Gtk  # noqa: E402
from procedure_common import failure, finished, load_filter, procedure_dialog  # noqa: E402

if TYPE_CHECKING:
    from PIL.Image import Image

    from style_plugin.hooks.filters import Filter
    from style_plugin.hooks.hosts.gimp.bridge import Argument

#: How long the dialog's values must rest before the preview follows them (typing, dragging).
PREVIEW_DELAY_MS = 300


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
    else:
        procedure.add_string_argument(*common, argument.default, flags)


def read_preview_region(bridge: ModuleType, drawable: Gimp.Drawable) -> Image | None:
    """The selection's bounding box of `drawable`, read shrunk as the preview needs it (None
    when the selection does not touch the drawable)."""
    touched, x, y, width, height = drawable.mask_intersect()
    if not touched:
        return None
    scale = bridge.preview_read_scale(width, height)
    size = max(1, round(width * scale)), max(1, round(height * scale))
    rect = Gegl.Rectangle.new(round(x * scale), round(y * scale), *size)
    data = drawable.get_buffer().get(rect, scale, bridge.PIXEL_FORMAT, Gegl.AbyssPolicy.CLAMP)
    return bridge.region_image(bytes(data), *size)


class StylizePreview:
    """The dialog's preview: the filter's preview of the region with the config's current
    values, redrawn PREVIEW_DELAY_MS after they last changed; the region as it is while
    Preview is off."""

    def __init__(
        self,
        filter_: Filter,
        bridge: ModuleType,
        arguments: list[Argument],
        region: Image,
        config: Gimp.ProcedureConfig,
    ) -> None:
        self.filter_, self.bridge, self.arguments = filter_, bridge, arguments
        self.region, self.config = region, config
        self.size = bridge.preview_size(*region.size)
        self.pending = 0  # the waiting redraw's GLib source id; 0 when none waits
        self.area = GimpUi.PreviewArea()
        self.area.set_size_request(*self.size)
        self.area.set_halign(Gtk.Align.CENTER)
        self.toggle = Gtk.CheckButton(label="_Preview", use_underline=True, active=True)
        self.note = Gtk.Label()
        self.box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
        for widget in (self.area, self.toggle, self.note):
            self.box.pack_start(widget, False, False, 0)
        self.toggle.connect("toggled", self.schedule)
        config.connect("notify", self.schedule)
        self.schedule()

    def schedule(self, *_signal_args: Any) -> None:
        """Redraw once the values have rested for PREVIEW_DELAY_MS."""
        self.stop()
        self.pending = GLib.timeout_add(PREVIEW_DELAY_MS, self.refresh)

    def stop(self) -> None:
        """Drop a redraw still waiting (a newer one replaces it, or the dialog is closing)."""
        if self.pending:
            GLib.source_remove(self.pending)
            self.pending = 0

    def refresh(self) -> bool:
        """Draw the preview for the current values, or say why it failed; False ends the
        timeout."""
        from style_plugin.errors import StylePluginError  # importable once load_filter() ran

        self.pending = 0
        self.note.set_text("")
        if not self.toggle.get_active():
            self.show(self.region.resize(self.size))
            return False
        values = self.bridge.filter_values(self.arguments, self.config.get_property)
        try:
            self.show(self.bridge.preview_region(self.filter_, self.region, self.size, values))
        except StylePluginError as exc:
            self.note.set_text(f"Preview failed: {exc}")
        return False

    def show(self, image: Image) -> None:
        """Draw `image` (8-bit RGBA of the preview's size) in the preview area."""
        width, height = image.size
        self.area.draw(0, 0, width, height, Gimp.ImageType.RGBA_IMAGE, image.tobytes(), width * 4)


def choice_widget(config: Gimp.ProcedureConfig, argument: Argument) -> Gtk.Widget:
    """A labelled list of the argument's choices bound to its config property, the list
    made now rather than when GIMP recorded the arguments."""
    store = Gtk.ListStore(str, str)
    for value, label in argument.choices:
        store.append([value, label])
    combo = GimpUi.prop_string_combo_box_new(config, argument.name, store, 0, 1)
    combo.set_hexpand(True)
    return GimpUi.LabelStringWidget.new(argument.label, combo)


def offer_installed(
    bridge: ModuleType, config: Gimp.ProcedureConfig, arguments: list[Argument]
) -> None:
    """Set each argument with choices to one installed now (its value if still there), before
    the dialog copies the config for Reset."""
    for argument in arguments:
        if argument.choices:
            value = bridge.offered_value(argument, config.get_property(argument.name))
            config.set_property(argument.name, value)


def fill_dialog(
    dialog: GimpUi.ProcedureDialog, config: Gimp.ProcedureConfig, arguments: list[Argument]
) -> None:
    """One widget per argument in the schema's order: GIMP's own, or a list of the choices
    installed now for an argument that has choices; all labels one width, as GIMP's are."""
    labels = Gtk.SizeGroup(mode=Gtk.SizeGroupMode.HORIZONTAL)
    for argument in arguments:
        if argument.choices:
            widget = choice_widget(config, argument)
            dialog.get_content_area().pack_start(widget, False, False, 0)
            widget.show_all()
        else:
            dialog.fill([argument.name])
            widget = dialog.get_widget(argument.name, GObject.TYPE_NONE)
        if isinstance(widget, GimpUi.Labeled):
            labels.add_widget(widget.get_label())


def ask_user(
    procedure: Gimp.Procedure,
    config: Gimp.ProcedureConfig,
    filter_: Filter,
    bridge: ModuleType,
    arguments: list[Argument],
    drawable: Gimp.Drawable,
) -> bool:
    """Show the dialog for `arguments` (the filter's, read now), with the preview above them
    when the selection touches the drawable; False if the user cancelled."""
    offer_installed(bridge, config, arguments)
    dialog = procedure_dialog(procedure, config)
    fill_dialog(dialog, config, arguments)
    region = read_preview_region(bridge, drawable)
    preview = None
    if region is not None:
        preview = StylizePreview(filter_, bridge, arguments, region, config)
        content = dialog.get_content_area()
        content.pack_start(preview.box, False, False, 0)
        content.reorder_child(preview.box, 0)
        preview.box.show_all()
    accepted = dialog.run()
    if preview is not None:
        preview.stop()
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
    Gegl.init(None)
    arguments = bridge.arguments_for(filter_)  # the styles installed now
    if run_mode == Gimp.RunMode.INTERACTIVE and not ask_user(
        procedure, config, filter_, bridge, arguments, drawables[0]
    ):
        return finished(procedure, Gimp.PDBStatusType.CANCEL)
    values = bridge.filter_values(arguments, config.get_property)
    image.undo_group_start()
    try:
        stylize_drawable(filter_, bridge, drawables[0], values)
    except StylePluginError as exc:
        return failure(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, str(exc))
    finally:
        image.undo_group_end()
    Gimp.displays_flush()
    return finished(procedure, Gimp.PDBStatusType.SUCCESS)


def create_procedure(plug_in: Gimp.PlugIn, name: str) -> Gimp.Procedure:
    """Stylize: an image procedure with one argument per filter parameter."""
    filter_, bridge = load_filter()
    procedure = Gimp.ImageProcedure.new(plug_in, name, Gimp.PDBProcType.PLUGIN, run, None)
    procedure.set_image_types("RGB*, GRAY*")
    procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
    procedure.set_menu_label(bridge.menu_label(filter_))
    procedure.add_menu_path(bridge.MENU_PATH)
    procedure.set_documentation(filter_.label, filter_.description, name)
    procedure.set_attribution("style-plugin developers", "style-plugin developers", "2025")
    for argument in bridge.arguments_for(filter_):
        add_argument(procedure, argument)
    return procedure
