"""A Krita plug-in the tests install (test_animation.py): on the opened image it opens Filter >
Stylize… on the plain layer (and notes whether Frames is offered), makes an animated layer
with the keyframes the test gives (Krita's own Create Blank / Duplicate Frame actions), then
stylizes all its frames through the dialog, undoes, starts again and presses Cancel during
the second keyframe, runs Stylize Again and quits. What it sees goes to the JSON report named
in $ANIMATION_DRIVER."""

import json
import os
import traceback

from krita import Extension, Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QComboBox, QDoubleSpinBox

CONFIG = json.loads(os.environ["ANIMATION_DRIVER"])
REPORT = {"steps": [], "error": None}
STEPS = []
#: Frames searched for keyframes in what the driver reports.
SEARCHED = 20


def note(step, **data):
    REPORT["steps"].append(step)
    REPORT.update(data)
    with open(CONFIG["report"], "w") as handle:
        json.dump(REPORT, handle, indent=1)


def layer_names(document):
    return [node.name() for node in document.rootNode().childNodes()]


def keyframes(node):
    """{time: the keyframe's pixels (hex)} over the first SEARCHED frames."""
    w, h = CONFIG["width"], CONFIG["height"]
    return {
        str(time): bytes(node.pixelDataAtTime(0, 0, w, h, time)).hex()
        for time in range(SEARCHED)
        if node.hasKeyframeAtTime(time)
    }


def undo_text():
    return Krita.instance().action("edit_undo").text()


def when_dialog(act, attempt=0):
    """Call act(dialog) once the Stylize dialog is up."""
    dialog = QApplication.activeModalWidget()
    if dialog is None or dialog.objectName() != "style_plugin_filter_dialog":
        if attempt < 200:
            QTimer.singleShot(100, lambda: when_dialog(act, attempt + 1))
        return
    try:
        act(dialog)
    except Exception:
        note("dialog failed", error=traceback.format_exc())
        dialog.reject()


def look_and_close(dialog):
    """The plain layer's dialog: is Frames offered? Then Cancel."""
    note("plain dialog", plain_frames=dialog.findChild(QComboBox, "frames") is not None)
    dialog.reject()


def choose_all_frames(dialog):
    """Set the style, the strength, all frames and the hold, then OK."""
    combo = dialog.findChild(QComboBox, "style")
    combo.setCurrentIndex(combo.findData(CONFIG["params"]["style"]))
    dialog.findChild(QDoubleSpinBox, "strength").setValue(CONFIG["params"]["strength"])
    frames = dialog.findChild(QComboBox, "frames")
    hold = dialog.findChild(QDoubleSpinBox, "hold")
    seen = {
        "frame_choices": [frames.itemText(i) for i in range(frames.count())],
        "default_frames": frames.currentData(),
        "hold_default": hold.value(),
        "hold_enabled_at_first": hold.isEnabled(),
    }
    frames.setCurrentIndex(frames.findData("all"))
    hold.setValue(CONFIG["hold"])
    seen["hold_enabled_for_all"] = hold.isEnabled()
    REPORT.setdefault("dialogs", []).append(seen)
    dialog.accept()


def cancel_during_second_frame(attempt=0):
    """Press Cancel in the progress window once it says it works on the second keyframe."""
    for widget in QApplication.topLevelWidgets():
        progress = widget.objectName() == "style_plugin_progress" and widget.isVisible()
        if progress and "Frame 2 of" in widget.labelText():
            REPORT["cancelled_at"] = widget.labelText()
            widget.cancel()
            return
    if attempt < 6000:
        QTimer.singleShot(10, lambda: cancel_during_second_frame(attempt + 1))


class Steps:
    """The driver's steps, each on the event loop after the one before."""

    def __init__(self, document):
        self.document = document
        self.app = Krita.instance()
        self.plain = document.rootNode().childNodes()[0]
        self.layer = None
        self.undo_before = None
        self.queue = [
            self.plain_layer,
            self.make_layer,
            *[step for index in range(len(CONFIG["times"])) for step in self.keyframe_steps(index)],
            self.made,
            self.stylize_all,
            self.undo,
            self.cancel,
            self.again,
        ]

    def next(self):
        if not self.queue:
            finish(None)
            return
        step = self.queue.pop(0)
        try:
            step()
            self.document.waitForDone()
        except Exception:
            finish(traceback.format_exc())
            return
        QTimer.singleShot(300, self.next)

    def plain_layer(self):
        self.document.setActiveNode(self.plain)
        QTimer.singleShot(300, lambda: when_dialog(look_and_close))
        self.app.action("style_plugin_stylize").trigger()

    def make_layer(self):
        self.layer = self.document.createNode("Animated", "paintlayer")
        self.document.rootNode().addChildNode(self.layer, self.plain)
        self.document.setActiveNode(self.layer)
        self.layer.enableAnimation()

    def keyframe_steps(self, index):
        """Go to the keyframe's time, make a keyframe there, paint it."""
        time = CONFIG["times"][index]
        action = "add_blank_frame" if index == 0 else "add_duplicate_frame"
        pixels = bytes.fromhex(CONFIG["frames"][index])
        w, h = CONFIG["width"], CONFIG["height"]
        return [
            lambda: self.document.setCurrentTime(time),
            lambda: self.app.action(action).trigger(),
            lambda: self.layer.setPixelData(pixels, 0, 0, w, h),
        ]

    def made(self):
        self.document.setCurrentTime(CONFIG["current_time"])
        self.document.waitForDone()
        note(
            "made",
            layers_before=layer_names(self.document),
            keyframes_before=keyframes(self.layer),
            plain_before=bytes(self.plain.pixelData(0, 0, 4, 4)).hex(),
        )

    def stylize_all(self):
        QTimer.singleShot(300, lambda: when_dialog(choose_all_frames))
        self.app.action("style_plugin_stylize").trigger()
        self.document.waitForDone()
        result = self.document.rootNode().childNodes()[-1]
        note(
            "stylized",
            layers_after=layer_names(self.document),
            result_keyframes=keyframes(result),
            result_animated=result.animated(),
            result_properties=[result.opacity(), result.blendingMode(), result.visible()],
            keyframes_after=keyframes(self.layer),
            time_after=self.document.currentTime(),
            documents_after=len(self.app.documents()),
        )

    def undo(self):
        REPORT["undo"] = undo_text()
        self.app.action("edit_undo").trigger()
        self.document.waitForDone()

    def cancel(self):
        note("undone", layers_after_undo=layer_names(self.document))
        self.undo_before = undo_text()
        QTimer.singleShot(300, lambda: when_dialog(choose_all_frames))
        QTimer.singleShot(300, cancel_during_second_frame)
        self.app.action("style_plugin_stylize").trigger()
        self.document.waitForDone()
        note(
            "cancelled",
            layers_after_cancel=layer_names(self.document),
            keyframes_after_cancel=keyframes(self.layer),
            time_after_cancel=self.document.currentTime(),
            documents_after_cancel=len(self.app.documents()),
        )

    def again(self):
        REPORT["undo_unchanged"] = undo_text() == self.undo_before
        self.app.action("style_plugin_stylize_again").trigger()
        self.document.waitForDone()
        result = self.document.rootNode().childNodes()[-1]
        note(
            "again",
            layers_after_again=layer_names(self.document),
            again_keyframes=keyframes(result),
            plain_after=bytes(self.plain.pixelData(0, 0, 4, 4)).hex(),
        )


def run(attempt=0):
    app = Krita.instance()
    document, window = app.activeDocument(), app.activeWindow()
    if document is None or window is None:
        if attempt < 100:
            QTimer.singleShot(200, lambda: run(attempt + 1))
        else:
            finish("no document or window")
        return
    note("start")
    STEPS.append(Steps(document))  # kept: a timer holds a bound method only weakly
    STEPS[0].next()


def finish(error):
    note("done", error=error)
    for document in Krita.instance().documents():
        document.setModified(False)
    QTimer.singleShot(0, Krita.instance().action("file_quit").trigger)


class AnimationTestDriver(Extension):
    def setup(self):
        pass

    def createActions(self, window):
        QTimer.singleShot(500, run)


Krita.instance().addExtension(AnimationTestDriver(Krita.instance()))
