"""A stand-in for GIMP 3's Python API (gi.repository's Gimp, GimpUi, Gegl, GLib, GObject, Gtk)
to run the GIMP plug-in script outside GIMP. Only what the script calls, with the argument
lists of GIMP 3.0's API; it proves the script's own logic (arguments, dialogs, regions, undo,
progress, errors), not GIMP's, which the tests in the Debian 13 root run for real."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType, SimpleNamespace

import numpy as np

from style_plugin.hooks.hosts.gimp import bridge


class FakeProcedure:
    """Records what the script registers; argument calls keep GIMP 3.0's parameter lists."""

    def __init__(self, plug_in, name, proc_type, run, run_data) -> None:
        self.name, self.run, self.arguments, self.info = name, run, [], {}

    def set_image_types(self, image_types):
        self.info["image_types"] = image_types

    def set_sensitivity_mask(self, mask):
        self.info["sensitivity"] = mask

    def set_menu_label(self, label):
        self.info["menu_label"] = label

    def add_menu_path(self, path):
        self.info["menu_path"] = path

    def set_documentation(self, blurb, help_text, help_id):
        self.info["blurb"] = blurb

    def set_attribution(self, authors, copyright_, date):
        self.info["authors"] = authors

    def add_double_argument(self, name, nick, blurb, minimum, maximum, default, flags):
        self.arguments.append(("double", name, nick, minimum, maximum, default))

    def add_int_argument(self, name, nick, blurb, minimum, maximum, default, flags):
        self.arguments.append(("int", name, nick, minimum, maximum, default))

    def add_boolean_argument(self, name, nick, blurb, default, flags):
        self.arguments.append(("boolean", name, nick, default))

    def add_string_argument(self, name, nick, blurb, default, flags):
        self.arguments.append(("string", name, nick, default))

    def add_file_argument(self, name, nick, blurb, action, none_ok, default_file, flags):
        self.arguments.append(("file", name, nick, action, none_ok, default_file))

    def new_return_values(self, status, error):
        return status, error.message


class FakeBuffer:
    """A GEGL buffer over a float RGBA array (get/set in `PIXEL_FORMAT` only; `get` at another
    scale samples the nearest pixels, its rectangle in scaled coordinates as GEGL's is)."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.pixels = pixels

    def get(self, rect, scale, format_name, abyss):
        assert format_name == bridge.PIXEL_FORMAT
        rows = ((np.arange(rect.height) + rect.y) / scale).astype(int)
        columns = ((np.arange(rect.width) + rect.x) / scale).astype(int)
        return self.pixels[np.ix_(rows, columns)].tobytes()

    def set(self, rect, format_name, data):
        assert format_name == bridge.PIXEL_FORMAT
        region = bridge.pixels_from_bytes(data, rect.width, rect.height)
        self.pixels[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width] = region

    def flush(self):
        pass


class FakeDrawable:
    """A layer whose selection is a rectangle (or none); merging copies the shadow's box."""

    def __init__(self, pixels: np.ndarray, box: tuple[int, int, int, int] | None) -> None:
        height, width = pixels.shape[:2]
        self.pixels, self.box = pixels, box or (0, 0, width, height)
        self.shadow = FakeBuffer(pixels.copy())
        self.merged = []

    def is_group(self):
        return False

    def mask_intersect(self):
        return (True, *self.box)

    def get_buffer(self):
        return FakeBuffer(self.pixels)

    def get_shadow_buffer(self):
        return self.shadow

    def merge_shadow(self, undo):
        x, y, w, h = self.box
        self.pixels[y : y + h, x : x + w] = self.shadow.pixels[y : y + h, x : x + w]
        self.merged.append(undo)

    def update(self, x, y, width, height):
        pass


class FakeLayer:
    """A flattened image's one layer."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.pixels = pixels

    def get_width(self):
        return self.pixels.shape[1]

    def get_height(self):
        return self.pixels.shape[0]

    def get_buffer(self):
        return FakeBuffer(self.pixels)


class FakeImage:
    """A Gimp.Image that records undo group calls; its copies (`duplicate`) flatten to one
    layer of `pixels` (float RGBA), and record being deleted."""

    def __init__(self, pixels: np.ndarray | None = None) -> None:
        self.undo, self.pixels, self.copies, self.deleted = [], pixels, [], False

    def duplicate(self):
        self.copies.append(FakeImage(self.pixels))
        return self.copies[-1]

    def flatten(self):
        return FakeLayer(self.pixels)

    def delete(self):
        self.deleted = True

    def undo_group_start(self):
        self.undo.append("start")

    def undo_group_end(self):
        self.undo.append("end")


class FakeConfig:
    """A procedure config holding `values` (GIMP argument names); set_property emits notify."""

    def __init__(self, values: dict) -> None:
        self.values, self.handlers = dict(values), []

    def get_property(self, name):
        return self.values[name]

    def set_property(self, name, value):
        self.values[name] = value
        for handler in self.handlers:
            handler(self, name)

    def connect(self, signal, handler):
        assert signal == "notify"
        self.handlers.append(handler)


class FakeWidget:
    """A Gtk or GimpUi widget: a preview area records what it draws, an image the files it
    shows, a check box its state and handlers; layout calls do nothing."""

    def __init__(self, *args, active: bool = True, **properties) -> None:
        self.active, self.drawn, self.handlers = active, [], {}
        self.text = properties.get("label", "")
        self.properties = properties
        self.files: list[str] = []  # what a Gtk.Image was set to show, in order
        self.destroyed = False

    def set_from_file(self, path):
        self.files.append(path)

    def destroy(self):
        self.destroyed = True

    def set_text(self, text):
        self.text = text

    def connect(self, signal, handler):
        self.handlers[signal] = handler

    def draw(self, x, y, width, height, image_type, data, rowstride):
        assert (x, y, image_type, rowstride) == (0, 0, "rgba", width * 4)
        self.drawn.append(np.frombuffer(data, np.uint8).reshape(height, width, 4))

    def get_active(self):
        return self.active

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class FakeGimp:
    """Module-shaped stand-ins for gi and gi.repository's Gimp, GimpUi, Gegl, GLib, GObject,
    Gtk. `while_open(fake)` runs while the dialog is up; `run_timeouts()` fires GLib's."""

    def __init__(
        self, dialog_answer: bool | list[bool] = True, while_open: Callable | None = None
    ) -> None:
        self.progress: list[float] = []
        self.progress_texts: list[str] = []
        self.messages: list[str] = []
        self.labels: list[FakeWidget] = []
        self.dialogs: list[str] = []
        self.timeouts: dict[int, Callable[[], bool]] = {}
        self.areas: list[FakeWidget] = []
        self.toggles: list[FakeWidget] = []
        self.windows: list[FakeWidget] = []
        self.images: list[FakeWidget] = []
        #: The dialog's rows in order: an argument GIMP filled by name, or ("list", name,
        #: [(value, label), ...], the config's value when the list was made).
        self.rows: list = []
        enum = SimpleNamespace
        gimp = ModuleType("Gimp")
        gimp.PlugIn = type("PlugIn", (), {"__gtype__": "PlugIn"})
        gimp.ImageProcedure = SimpleNamespace(new=FakeProcedure)
        gimp.PDBProcType = enum(PLUGIN="plugin")
        gimp.ProcedureSensitivityMask = enum(DRAWABLE="drawable", ALWAYS="always")
        gimp.FileChooserAction = enum(OPEN="open")
        gimp.RunMode = enum(INTERACTIVE="interactive", NONINTERACTIVE="noninteractive")
        gimp.ImageType = enum(RGBA_IMAGE="rgba")
        gimp.PDBStatusType = enum(
            SUCCESS="success",
            CANCEL="cancel",
            CALLING_ERROR="calling-error",
            EXECUTION_ERROR="execution-error",
        )
        gimp.progress_init = lambda message: self.progress.append(0.0)
        gimp.progress_update = self.progress.append
        gimp.progress_end = lambda: None
        gimp.progress_set_text = self.progress_texts.append
        gimp.message = self.messages.append
        gimp.displays_flush = lambda: None
        gimp.main = lambda gtype, argv: None

        def dialog(procedure, config):
            self.dialogs.append(procedure.name)

            answers = dialog_answer if isinstance(dialog_answer, list) else None

            def run():
                if while_open:
                    while_open(self)
                return answers.pop(0) if answers is not None else dialog_answer

            return SimpleNamespace(
                fill=self.rows.extend,
                get_widget=lambda name, widget_type: FakeWidget(),
                get_content_area=FakeWidget,
                run=run,
                destroy=lambda: None,
            )

        def widget(made: list[FakeWidget]) -> Callable[..., FakeWidget]:
            def make(*args, **properties):
                made.append(FakeWidget(*args, **properties))
                return made[-1]

            return make

        gimp_ui = ModuleType("GimpUi")
        gimp_ui.init = lambda binary: None
        gimp_ui.ProcedureDialog = dialog
        gimp_ui.PreviewArea = widget(self.areas)
        gimp_ui.prop_string_combo_box_new = self.string_combo
        gimp_ui.LabelStringWidget = SimpleNamespace(new=lambda label, combo: FakeWidget())
        gimp_ui.Labeled = type("Labeled", (), {})
        gegl = ModuleType("Gegl")
        gegl.init = lambda argv: None
        gegl.Rectangle = SimpleNamespace(
            new=lambda x, y, w, h: SimpleNamespace(x=x, y=y, width=w, height=h)
        )
        gegl.AbyssPolicy = enum(CLAMP="clamp")
        glib = ModuleType("GLib")
        glib.Error = lambda message=None: SimpleNamespace(message=message)
        glib.timeout_add = self.timeout_add
        glib.source_remove = lambda source: self.timeouts.pop(source) is not None
        gobject = ModuleType("GObject")
        gobject.ParamFlags = enum(READWRITE="readwrite")
        gobject.TYPE_NONE = "none"
        gtk = ModuleType("Gtk")
        gtk.Box = gtk.SizeGroup = FakeWidget
        gtk.Label = widget(self.labels)
        gtk.ListStore = lambda *column_types: []
        gtk.SizeGroupMode = enum(HORIZONTAL="horizontal")
        gtk.CheckButton = widget(self.toggles)
        gtk.Align = enum(CENTER="center")
        gtk.Orientation = enum(VERTICAL="vertical")
        gtk.Window = widget(self.windows)
        gtk.Image = widget(self.images)
        gtk.events_pending = lambda: False
        gtk.main_iteration = lambda: True
        self.repository = ModuleType("gi.repository")
        for name, module in [
            ("Gimp", gimp),
            ("GimpUi", gimp_ui),
            ("Gegl", gegl),
            ("GLib", glib),
            ("GObject", gobject),
            ("Gtk", gtk),
        ]:
            setattr(self.repository, name, module)
        self.gi = ModuleType("gi")
        self.gi.require_version = lambda name, version: None
        self.gi.repository = self.repository

    def string_combo(self, config, name, store, id_column, label_column) -> FakeWidget:
        """GimpUi.prop_string_combo_box_new: records the list it shows (a ListStore of
        [value, label] rows) and the config's value it opens on."""
        rows = [(row[id_column], row[label_column]) for row in store]
        self.rows.append(("list", name, rows, config.get_property(name)))
        return FakeWidget()

    def timeout_add(self, interval_ms: int, callback: Callable[[], bool]) -> int:
        """GLib.timeout_add: kept until `run_timeouts` fires it (or it is removed)."""
        source = max(self.timeouts, default=0) + 1
        self.timeouts[source] = callback
        return source

    def run_timeouts(self) -> None:
        """Fire the waiting timeouts once, as GLib's main loop does when their time comes."""
        waiting, self.timeouts = self.timeouts, {}
        for callback in waiting.values():
            callback()


def registered_procedure(script: ModuleType, name: str = bridge.PROCEDURE_NAME) -> FakeProcedure:
    """Query the script's plug-in and create its procedure `name` (Stylize's unless given),
    as GIMP does."""
    plug_in = script.StylizePlugIn()
    assert name in plug_in.do_query_procedures()
    return plug_in.do_create_procedure(name)


def config_of(values: dict) -> FakeConfig:
    """A procedure config holding the filter's `values` (filter parameter names)."""
    return FakeConfig({bridge.argument_name(name): value for name, value in values.items()})
