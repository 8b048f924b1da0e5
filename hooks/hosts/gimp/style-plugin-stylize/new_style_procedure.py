"""Filters > Artistic > New Style from an Image...: learn a new style for Stylize.

It asks for a painting file (or uses the open image), a name and the training steps, then
waits for `style-plugin add-style` run as a separate process, with its steps and the time
left on GIMP's progress bar; Cancel there stops it and keeps what was learnt. Run from its
dialog on an open image, a window shows that image drawn in the style so far, so a person
can stop once it looks right. The new style is in Stylize's list the next time its dialog
opens.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType
from typing import Any

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Gtk", "3.0")
from gi.repository import Gegl, Gimp, GObject, Gtk  # noqa: E402
from procedure_common import (  # noqa: E402
    failure,
    finished,
    load_filter,
    load_new_style,
    procedure_dialog,
    read_record,
)


def save_open_image(
    bridge: ModuleType, new_style: ModuleType, image: Gimp.Image, name: str
) -> Path:
    """Save what `image` shows (its layers flattened on a copy, at most PAINTING_SIDE a
    side) as the painting of style `name`; the image itself is left as it is."""
    from style_plugin.hooks.hosts.new_style import snapshot_painting_path  # importable once loaded

    copy = image.duplicate()
    try:
        layer = copy.flatten()
        width, height = layer.get_width(), layer.get_height()
        scale = new_style.painting_read_scale(width, height)
        size = max(1, round(width * scale)), max(1, round(height * scale))
        rect = Gegl.Rectangle.new(0, 0, *size)
        data = layer.get_buffer().get(rect, scale, bridge.PIXEL_FORMAT, Gegl.AbyssPolicy.CLAMP)
    finally:
        copy.delete()
    painting = bridge.region_image(bytes(data), *size).convert("RGB")
    return new_style.write_painting(painting, snapshot_painting_path(name))


def style_request(
    new_style: ModuleType,
    config: Gimp.ProcedureConfig,
    image: Gimp.Image | None,
    taken: list[str],
    preview: bool = False,
) -> Any:
    """The NewStyleRequest the config's values make; StylePluginError says what to change.
    `preview`: the open image is to be shown in the style as it is learnt."""
    names = new_style.StyleArguments
    painting = config.get_property(names.PAINTING)
    save = None
    if image is not None:
        _, bridge = load_filter()
        save = functools.partial(save_open_image, bridge, new_style, image)
    return new_style.request_from(
        config.get_property(names.LABEL),
        painting.get_path() if painting is not None else None,
        config.get_property(names.STEPS),
        taken,
        save,
        use_open_image=bool(config.get_property(names.USE_OPEN_IMAGE)),
        preview=preview,
    )


class PreviewWindow:
    """A window of the plug-in's own showing the latest preview of the open image in the
    style being learnt, with what GIMP's progress bar says above it. GIMP's windows go on
    while the plug-in waits, so this one is drawn at each report; closing it only hides the
    preview."""

    def __init__(self, title: str, text: str) -> None:
        self.window = Gtk.Window(title=title)
        self.text = Gtk.Label(label=text, wrap=True, xalign=0.0, max_width_chars=60)
        self.image = Gtk.Image()
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
        box.pack_start(self.text, False, False, 0)
        box.pack_start(self.image, True, True, 0)
        self.window.add(box)
        self.window.connect("delete-event", self._closed)
        self.open = True
        self.shown_step = 0
        self.window.show_all()
        self.draw()

    def _closed(self, *args: Any) -> bool:
        self.open = False
        self.window.hide()
        return True  # kept, hidden: the reports go on arriving

    def update(self, text: str, progress: Any) -> None:
        """Say `text` and show the preview of `progress` when it is a new one."""
        if not self.open:
            return
        self.text.set_text(text)
        if progress.preview is not None and progress.preview_step != self.shown_step:
            self.image.set_from_file(str(progress.preview))
            self.shown_step = progress.preview_step
        self.draw()

    @staticmethod
    def draw() -> None:
        """Let GTK draw what changed (the plug-in has no main loop while it waits)."""
        while Gtk.events_pending():
            Gtk.main_iteration()

    def close(self) -> None:
        self.window.destroy()


def ask_new_style(
    procedure: Gimp.Procedure,
    config: Gimp.ProcedureConfig,
    new_style: ModuleType,
    image: Gimp.Image | None,
    taken: list[str],
) -> Any:
    """Show the procedure's dialog until its values make a request (returned) or the user
    cancels (None); what is wrong shows under the values."""
    from style_plugin.errors import StylePluginError

    dialog = procedure_dialog(procedure, config)
    intro = Gtk.Label(label=new_style.intro(), wrap=True, xalign=0.0, max_width_chars=60)
    error = Gtk.Label(wrap=True, xalign=0.0, max_width_chars=60)
    content = dialog.get_content_area()
    content.pack_start(intro, False, False, 0)
    dialog.fill(list(new_style.StyleArguments.ALL))
    content.pack_start(error, False, False, 0)
    intro.show()
    error.show()
    request = None
    try:
        while request is None and dialog.run():
            try:
                request = style_request(new_style, config, image, taken, preview=True)
            except StylePluginError as exc:
                error.set_text(str(exc))
    finally:
        dialog.destroy()
    return request


def run(
    procedure: Gimp.Procedure,
    run_mode: Gimp.RunMode,
    image: Gimp.Image | None,
    drawables: list[Gimp.Drawable],
    config: Gimp.ProcedureConfig,
    data: Any,
) -> Gimp.ValueArray:
    """The procedure's run function: ask (interactive runs), then learn the style in a
    separate process with GIMP's progress bar following its steps."""
    new_style = load_new_style()
    filter_, _ = load_filter()
    from style_plugin.errors import StylePluginError

    command = new_style.recorded_command(read_record())
    if command is None:
        return failure(
            procedure,
            Gimp.PDBStatusType.EXECUTION_ERROR,
            "Adding a style needs a newer install: run `style-plugin install gimp` again.",
        )
    taken = new_style.installed_styles(filter_)
    try:
        if run_mode == Gimp.RunMode.INTERACTIVE:
            request = ask_new_style(procedure, config, new_style, image, taken)
            if request is None:
                return finished(procedure, Gimp.PDBStatusType.CANCEL)
        else:
            request = style_request(new_style, config, image, taken)
    except StylePluginError as exc:
        return failure(procedure, Gimp.PDBStatusType.CALLING_ERROR, str(exc))

    window = None
    if request.preview_photo is not None:
        preparing = new_style.progress_text(request, new_style.Progress())
        window = PreviewWindow(f"New Style: {request.label}", preparing)

    def show(progress: Any) -> None:
        text = new_style.progress_text(request, progress)
        Gimp.progress_set_text(text)
        if progress.total:
            Gimp.progress_update(progress.step / progress.total)
        if window is not None:
            window.update(text, progress)

    Gimp.progress_init(new_style.progress_text(request, new_style.Progress()))
    try:
        new_style.train(command, request, show)
    except new_style.TrainingCancelled as exc:
        Gimp.message(str(exc))
        return finished(procedure, Gimp.PDBStatusType.CANCEL)
    except StylePluginError as exc:
        return failure(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, str(exc))
    finally:
        Gimp.progress_end()
        if window is not None:
            window.close()
    Gimp.message(new_style.added_message(request))
    return finished(procedure, Gimp.PDBStatusType.SUCCESS)


def create_procedure(plug_in: Gimp.PlugIn, name: str) -> Gimp.Procedure:
    """New Style from an Image...: an image procedure that runs with or without an open
    image, its arguments the painting file, the open image instead, the name and steps."""
    _, bridge = load_filter()
    new_style = load_new_style()
    names = new_style.StyleArguments
    procedure = Gimp.ImageProcedure.new(plug_in, name, Gimp.PDBProcType.PLUGIN, run, None)
    procedure.set_image_types("*")
    procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.ALWAYS)
    procedure.set_menu_label(new_style.MENU_LABEL)
    procedure.add_menu_path(bridge.MENU_PATH)
    procedure.set_documentation(
        "Learn a new style for Stylize from a painting", new_style.ABOUT, name
    )
    procedure.set_attribution("style-plugin developers", "style-plugin developers", "2026")
    flags = GObject.ParamFlags.READWRITE
    procedure.add_file_argument(
        names.PAINTING,
        "_Painting",
        "The image file to learn the style from",
        Gimp.FileChooserAction.OPEN,
        True,
        None,
        flags,
    )
    procedure.add_boolean_argument(
        names.USE_OPEN_IMAGE,
        "_Use the open image",
        "Learn from the open image (all its layers) instead of a file",
        False,
        flags,
    )
    procedure.add_string_argument(
        names.LABEL, "_Name", "The new style's name in the Style list", "", flags
    )
    procedure.add_int_argument(
        names.STEPS,
        "Training _steps",
        "Batches of four photo crops; more steps learn the style better",
        1,
        names.MAX_STEPS,
        names.DEFAULT_STEPS,
        flags,
    )
    return procedure
