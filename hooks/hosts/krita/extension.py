"""The Stylize action inside Krita: read the active layer, ask for the parameters, run the
filter with progress and cancel, and add the result as ONE undoable step. On an animated
layer the dialog also offers every keyframe of it, stylized as one sequence into a new
animated layer (`style_plugin.hooks.hosts.krita.animation`).

Why a new layer: in Krita's scripting API, `Node.setPixelData` (and `Filter.apply`) write
pixels without an undo record: after them Edit > Undo brings nothing back (checked in Krita
5.1.5; 5.2's source writes the same way). Adding a layer is recorded ("Add Layer"). So the
result goes into a new paint layer right above the active one, holding the filter's colours
and the layer's own alpha, times the selection if there is one: one Undo removes it and leaves
the image as it was. Over opaque pixels this looks exactly like filtering the layer in place
(Layer > Merge with Layer Below makes it so); over semi-transparent ones the original shows
through as it would under any layer.

Only the Krita calls live here; the layer is read by `style_plugin.hooks.hosts.krita.layers`,
pixels are handled by `style_plugin.hooks.hosts.krita.pixels` and the dialog by
`style_plugin.hooks.hosts.krita.ui`. This module is imported inside Krita's Python only.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from krita import Document, Extension, Krita, Node
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QImage
from PyQt5.QtWidgets import QApplication, QMessageBox, QWidget

from style_plugin import plugins
from style_plugin.errors import Cancelled, StylePluginError
from style_plugin.hooks.filters import Filter
from style_plugin.hooks.hosts.krita.animation import keyframe_times, stylize_all_frames
from style_plugin.hooks.hosts.krita.layers import LayerError, LayerJob, read_layer, result_name
from style_plugin.hooks.hosts.krita.new_style import NewStyleDialog, StyleTraining
from style_plugin.hooks.hosts.krita.pixels import filter_layer_bytes
from style_plugin.hooks.hosts.krita.ui import (
    PREVIEW_SIDE,
    FilterDialog,
    ProgressWindow,
    add_frame_controls,
    rgba_to_qimage,
    run_with_progress,
)
from style_plugin.hooks.hosts.new_style import (
    installed_styles,
    recorded_command,
    snapshot_painting_path,
)
from style_plugin.runtime.options import OptionError
from style_plugin.video.defaults import DEFAULT_HOLD, check_hold

__all__ = [
    "ACTION_ID",
    "AGAIN_ACTION_ID",
    "NEW_STYLE_BUTTON",
    "LayerError",
    "LayerJob",
    "StylizeExtension",
    "add_result_layer",
    "apply_job",
    "last_frames",
    "last_settings",
    "preview_image",
    "read_layer",
    "register",
    "result_name",
    "run_inline",
    "save_open_image",
    "stylize_in_script",
    "stylize_layer",
]

T = TypeVar("T")
Work = Callable[[Callable[[int, int], None], Callable[[], bool]], T]

#: The action's id: Settings > Configure Krita > Keyboard Shortcuts lists it under this name.
ACTION_ID = "style_plugin_stylize"
#: Where the action appears: Krita's Filter menu.
MENU_LOCATION = "filter"
#: "Stylize Again": the last settings on the active layer, in Tools > Scripts.
AGAIN_ACTION_ID = "style_plugin_stylize_again"
AGAIN_MENU_LOCATION = "tools/scripts"
#: Where Krita's settings (kritarc) keep the last settings: group and key.
SETTINGS_GROUP = "style_plugin"
LAST_SETTINGS = "last_stylize_settings"
#: ... and the frames it last stylized: {"all_frames": bool, "hold": 0..1}.
LAST_FRAMES = "last_stylize_frames"
#: The object name of the Stylize dialog's "New style from an image…" button.
NEW_STYLE_BUTTON = "new_style_button"


def add_result_layer(
    document: Document, node: Node, job: LayerJob, pixels: bytes, name: str
) -> Node:
    """Put `pixels` (the job's block) into a new paint layer right above `node`.

    The layer is filled while it is outside the image, then added: Krita records that as a
    single "Add Layer" step, which Edit > Undo removes whole.
    """
    layer = document.createNode(name, "paintlayer")
    wanted = (node.colorModel(), node.colorDepth(), node.colorProfile())
    if (layer.colorModel(), layer.colorDepth(), layer.colorProfile()) != wanted:
        layer.setColorSpace(*wanted)
    layer.setPixelData(pixels, job.x, job.y, job.width, job.height)
    node.parentNode().addChildNode(layer, node)
    document.waitForDone()
    document.refreshProjection()
    return layer


def run_inline(work: Work[T]) -> T:
    """Run `work` here and now, without progress or cancel (scripts, tests)."""
    return work(lambda done, total: None, lambda: False)


def apply_job(
    document: Document,
    node: Node,
    job: LayerJob,
    filter: Filter,
    params: dict[str, Any],
    run: Callable[[Work[bytes]], bytes] = run_inline,
) -> Node:
    """Filter the job's pixels with `params` (through `run`) and add the result layer."""
    params = filter.resolve(params)  # bad values fail here, before the long part

    def work(progress: Callable[[int, int], None], cancel: Callable[[], bool]) -> bytes:
        return filter_layer_bytes(
            filter,
            job.pixels,
            job.width,
            job.height,
            job.fmt,
            params,
            job.selection,
            progress=progress,
            cancel=cancel,
        )

    pixels = run(work)
    return add_result_layer(document, node, job, pixels, result_name(filter, params, node.name()))


def stylize_layer(
    document: Document,
    node: Node,
    filter: Filter,
    params: dict[str, Any] | None = None,
    run: Callable[[Work[bytes]], bytes] = run_inline,
) -> Node:
    """The whole action without the dialog: filter `node` (within the document's selection,
    if any) with `params` and return the new layer holding the result."""
    return apply_job(document, node, read_layer(document, node), filter, dict(params or {}), run)


def stylize_in_script(
    document: Document | None = None, node: Node | None = None, **params: Any
) -> Node:
    """Krita's Scripter and other scripts: stylize `node` of `document` (default: the active
    ones), within the document's selection if any, with the Stylize filter's `params`
    (style, strength, preserve_colors, scale, max_side; the rest default), and return the new
    layer. Errors raise LayerError or StylePluginError with the reason."""
    app = Krita.instance()
    document = document or app.activeDocument()
    if document is None:
        raise LayerError("Open an image first.")
    node = node or document.activeNode()
    return stylize_layer(document, node, plugins.get_filter(StylizeExtension.filter_name), params)


def preview_image(filter: Filter, job: LayerJob, values: dict[str, Any]) -> QImage:
    """The filter's preview of the job's block (scaled down), transparent where not selected."""
    rgba, _ = job.fmt.decode(job.pixels, job.width, job.height)
    if rgba.dtype != np.uint8:  # deeper layers: the preview is 8-bit
        rgba = ((rgba.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if job.selection is not None:
        mask = np.frombuffer(job.selection, dtype=np.uint8).reshape(job.height, job.width)
        rgba[..., 3] = (rgba[..., 3].astype(np.uint16) * mask + 127) // 255
    result = filter.preview(rgba, values, max_side=PREVIEW_SIDE).convert("RGBA")
    return rgba_to_qimage(np.asarray(result))


def save_open_image(document: Document, name: str) -> Path:
    """Save the document's whole image (all visible layers) as the painting of style `name`."""
    path = snapshot_painting_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.waitForDone()
    image = document.projection(0, 0, document.width(), document.height())
    if image.isNull() or not image.save(str(path), "PNG"):
        raise StylePluginError(f"Cannot save the open image to {path}.")
    return path


class StylizeExtension(Extension):
    """Adds Filter > Stylize… to every Krita window; its dialog can add a style (a training
    process per new style, which goes on after the dialog closes)."""

    filter_name = "stylize"

    def __init__(self, app: Krita, command: list[str] | None = None) -> None:
        super().__init__(app)
        #: How to run `style-plugin` outside Krita (the environment record's `command`).
        self.command = command
        self.trainings: list[StyleTraining] = []
        self.dialog: FilterDialog | None = None

    def setup(self) -> None:
        """Nothing to prepare at start-up (the filter loads on first use); trainings still
        running when Krita closes stop as Cancel stops them, keeping their checkpoints."""
        QApplication.instance().aboutToQuit.connect(self._stop_trainings)

    def _stop_trainings(self) -> None:
        for training in list(self.trainings):
            training.stop()

    def createActions(self, window: Any) -> None:
        """Krita calls this once per window: Filter > Stylize…, and Tools > Scripts > Stylize
        Again (Settings > Configure Krita > Keyboard Shortcuts can bind a key to either)."""
        action = window.createAction(ACTION_ID, "Stylize…", MENU_LOCATION)
        action.triggered.connect(self.run)
        again = window.createAction(AGAIN_ACTION_ID, "Stylize Again", AGAIN_MENU_LOCATION)
        again.triggered.connect(self.run_again)

    def run(self) -> None:
        """The action: checks, the dialog, the filter with progress, the result layer."""
        self._guarded(self._run)

    def run_again(self) -> None:
        """Stylize the active layer with the last settings OK accepted (the dialog when none)."""
        self._guarded(self._run_again)

    def _guarded(self, action: Callable[[QWidget | None], None]) -> None:
        """Run `action` with the window as parent; errors become a message, Cancel nothing."""
        window = Krita.instance().activeWindow()
        parent = window.qwindow() if window is not None else None
        try:
            action(parent)
        except Cancelled:
            return
        except StylePluginError as exc:
            _message(parent, QMessageBox.Warning, str(exc))
        except Exception:  # a bug: show it rather than let Krita swallow it
            _message(parent, QMessageBox.Critical, traceback.format_exc())

    def _run(self, parent: QWidget | None) -> None:
        document, node = _active()
        job = read_layer(document, node)
        filter = plugins.get_filter(self.filter_name)
        dialog = FilterDialog(filter, partial(preview_image, filter, job), parent)
        dialog.add_button(
            NEW_STYLE_BUTTON,
            "New style from an image…",
            partial(self.new_style, dialog, partial(save_open_image, document)),
        )
        times = keyframe_times(node)
        frames = add_frame_controls(dialog, len(times), DEFAULT_HOLD) if times else None
        self.dialog = dialog
        try:
            accepted = dialog.exec_()
        finally:
            self.dialog = None
            for training in self.trainings:  # their windows stay when the dialog goes
                training.attach(parent)
        if not accepted:
            return
        values = dialog.values()
        chosen = {
            "all_frames": frames is not None and frames.all_frames(),
            "hold": DEFAULT_HOLD if frames is None else frames.hold.value(),
        }
        self._apply(parent, document, node, job, filter, values, chosen, times)
        Krita.instance().writeSetting(SETTINGS_GROUP, LAST_SETTINGS, json.dumps(values))
        Krita.instance().writeSetting(SETTINGS_GROUP, LAST_FRAMES, json.dumps(chosen))

    def _run_again(self, parent: QWidget | None) -> None:
        values = last_settings()
        if values is None:
            self._run(parent)
            return
        document, node = _active()
        job = read_layer(document, node)
        filter = plugins.get_filter(self.filter_name)
        frames = last_frames()
        times = keyframe_times(node) if frames["all_frames"] else []
        self._apply(parent, document, node, job, filter, values, frames, times)

    def _apply(
        self,
        parent: QWidget | None,
        document: Document,
        node: Node,
        job: LayerJob,
        filter: Filter,
        values: dict[str, Any],
        frames: dict[str, Any],
        times: list[int],
    ) -> None:
        """Stylize the job (the current frame) or, when `frames` asks for all and the layer has
        keyframes (at `times`), every keyframe, behind a progress window."""
        title = f"{filter.label}: {node.name()}"
        if not (frames["all_frames"] and times):
            apply_job(
                document, node, job, filter, values, partial(run_with_progress, parent, title)
            )
            return
        window = ProgressWindow(parent, title, unit="Frame")
        try:
            stylize_all_frames(document, node, filter, values, frames["hold"], window.run, times)
        finally:
            window.close()

    def new_style(self, dialog: FilterDialog, save_image: Callable[[str], Path]) -> None:
        """Ask for a painting and a name, then learn the style in a separate process."""
        if not self.command:
            reinstall = "Run `style-plugin install krita` again, then restart Krita."
            _message(
                dialog, QMessageBox.Warning, f"Adding a style needs a newer install. {reinstall}"
            )
            return
        ask = NewStyleDialog(installed_styles(dialog.filter), save_image, dialog)
        if not ask.exec_() or ask.request is None:
            return
        training = StyleTraining(self.command, ask.request, self, self._training_finished)
        self.trainings.append(training)
        training.start(dialog)

    def _training_finished(self, training: StyleTraining) -> None:
        """Show what came of a training: the new style selected in the open Stylize dialog
        (else a note), or why it failed; a cancelled one says nothing."""
        self.trainings.remove(training)
        label = training.request.label
        if training.failure:
            _notice(QMessageBox.Warning, training.failure)
        elif training.added and self.dialog is not None:
            self.dialog.refresh_choices({"style": training.request.name})
            self.dialog.show_message(f"The style “{label}” was added and is selected.")
        elif training.added:
            _notice(QMessageBox.Information, f"The style “{label}” was added: Filter > Stylize….")


def _active() -> tuple[Document, Node]:
    """The active document and its active layer."""
    document = Krita.instance().activeDocument()
    if document is None:
        raise LayerError("Open an image first.")
    return document, document.activeNode()


def last_settings() -> dict[str, Any] | None:
    """The Stylize settings OK last accepted (kept in Krita's settings), or None."""
    text = Krita.instance().readSetting(SETTINGS_GROUP, LAST_SETTINGS, "")
    try:
        values = json.loads(text) if text else None
    except ValueError:
        return None
    return values if isinstance(values, dict) else None


def last_frames() -> dict[str, Any]:
    """The frames OK last stylized: {"all_frames": bool, "hold": 0..1} (the current frame
    when nothing valid was kept)."""
    text = Krita.instance().readSetting(SETTINGS_GROUP, LAST_FRAMES, "")
    try:
        kept = json.loads(text) if text else {}
        hold = check_hold(kept.get("hold", DEFAULT_HOLD))
    except (ValueError, AttributeError, OptionError):
        return {"all_frames": False, "hold": DEFAULT_HOLD}
    return {"all_frames": kept.get("all_frames") is True, "hold": hold}


def _notice(icon: QMessageBox.Icon, text: str) -> None:
    """A message that does not wait for OK (a training ends while the user works)."""
    window = Krita.instance().activeWindow()
    box = QMessageBox(icon, "Stylize", text, QMessageBox.Ok, window.qwindow() if window else None)
    box.setTextFormat(Qt.PlainText)
    box.setObjectName("style_plugin_notice")
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setModal(False)
    box.show()


def _message(parent: QWidget | None, icon: QMessageBox.Icon, text: str) -> None:
    """A message box titled like the action; its text is plain (a model's or file's name in it
    must not be read as rich text)."""
    box = QMessageBox(icon, "Stylize", text, QMessageBox.Ok, parent)
    box.setTextFormat(Qt.PlainText)
    box.setObjectName("style_plugin_message")
    box.exec_()


def register(app: Krita, environment: dict[str, Any] | None = None) -> None:
    """Add the Stylize extension to Krita (the pykrita module calls this at start-up with
    the environment record, whose `command` runs style-plugin outside Krita)."""
    app.addExtension(StylizeExtension(app, recorded_command(environment)))
