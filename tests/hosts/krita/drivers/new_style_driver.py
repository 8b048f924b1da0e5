"""A Krita plug-in the tests install (test_real_krita.py): Filter > Stylize…, then "New
style from an image…" twice: a style learnt from a painting file (after a refused empty name), and one
from the open image that is cancelled; then the new style is applied. What it sees goes to
the JSON report named in $NEW_STYLE_DRIVER."""

import json
import os
import traceback

from krita import Extension, Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
)

CONFIG = json.loads(os.environ["NEW_STYLE_DRIVER"])
REPORT = {"steps": [], "progress": []}
STATE = {}  # the Stylize dialog, once it is up
POLL_MS, POLLS = 100, 3000  # up to five minutes for each wait (a busy CPU trains slowly)


def note(step, **data):
    REPORT["steps"].append(step)
    REPORT.update(data)
    with open(CONFIG["report"], "w") as handle:
        json.dump(REPORT, handle, indent=1)


def modal(name):
    widget = QApplication.activeModalWidget()
    return widget if widget is not None and widget.objectName() == name else None


def training_window():
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "style_plugin_training" and widget.isVisible():
            return widget
    return None


def wait(condition, then, what, polls=POLLS):
    """Call then() once condition() is true, polling; fail the run after `polls` tries."""
    try:
        if condition():
            then()
        elif polls:
            QTimer.singleShot(POLL_MS, lambda: wait(condition, then, what, polls - 1))
        else:
            finish(f"gave up waiting for {what}")
    except Exception:
        finish(traceback.format_exc())


def watch_progress():
    """The training window, its bar, text and preview image (its size) noted as they are."""
    window = training_window()
    if window is not None:
        bar = window.findChild(QProgressBar)
        text = window.findChild(QLabel, "text").text()
        preview = window.findChild(QLabel, "preview")
        pixmap = preview.pixmap() if preview.isVisible() else None
        size = None if pixmap is None or pixmap.isNull() else [pixmap.width(), pixmap.height()]
        REPORT["progress"].append([bar.value(), bar.maximum(), text, size])
    return window


def start():
    app = Krita.instance()
    if app.activeDocument() is None or app.activeWindow() is None:
        QTimer.singleShot(200, start)
        return
    note("start")
    QTimer.singleShot(
        300,
        lambda: wait(lambda: modal("style_plugin_filter_dialog"), in_dialog, "the Stylize dialog"),
    )
    app.action("style_plugin_stylize").trigger()  # returns when the dialog closes
    document = app.activeDocument()
    document.waitForDone()
    note("applied", layers_after=[n.name() for n in document.rootNode().childNodes()])
    QTimer.singleShot(1000, lambda: finish(None))  # once Krita has settled the new layer


def in_dialog():
    dialog = modal("style_plugin_filter_dialog")
    STATE["dialog"] = dialog
    combo = dialog.findChild(QComboBox, "style")
    note("dialog", labels_before=[combo.itemText(i) for i in range(combo.count())])
    ask(fill_empty_name)


def ask(fill):
    """Press "New style from an image…" and fill its dialog with `fill` once it is up."""
    QTimer.singleShot(
        200,
        lambda: wait(lambda: modal("style_plugin_new_style_dialog"), fill, "the New Style dialog"),
    )
    STATE["dialog"].findChild(QPushButton, "new_style_button").click()


def fill_empty_name():
    ask_dialog = modal("style_plugin_new_style_dialog")
    REPORT["intro"] = ask_dialog.findChild(QLabel, "intro").text()
    ask_dialog.findChild(QLineEdit, "painting").setText(CONFIG["painting"])
    ask_dialog.accept()  # no name: stays open and says why
    note(
        "refused",
        refused=ask_dialog.findChild(QLabel, "error").text(),
        still_open=ask_dialog.isVisible(),
    )
    ask_dialog.findChild(QLineEdit, "label").setText(CONFIG["label"])
    ask_dialog.findChild(QSpinBox, "steps").setValue(CONFIG["steps"])
    ask_dialog.accept()
    note("training")
    wait(
        lambda: watch_progress() is None and added(CONFIG["name"]),
        after_added,
        "the new style in the Style list",
    )


def added(name):
    return STATE["dialog"].findChild(QComboBox, "style").findData(name) >= 0


def after_added():
    dialog = STATE["dialog"]
    combo = dialog.findChild(QComboBox, "style")
    note(
        "added",
        selected=combo.currentData(),
        message=dialog.findChild(QLabel, "status").text(),
        labels_after=[combo.itemText(i) for i in range(combo.count())],
    )
    ask(fill_cancelled)


def fill_cancelled():
    ask_dialog = modal("style_plugin_new_style_dialog")
    ask_dialog.findChild(QCheckBox, "use_open_image").setChecked(True)
    ask_dialog.findChild(QLineEdit, "label").setText(CONFIG["cancel_label"])
    ask_dialog.findChild(QSpinBox, "steps").setValue(CONFIG["cancel_steps"])
    ask_dialog.accept()
    wait(stepped, press_cancel, "the first step")


def stepped():
    window = watch_progress()
    return window is not None and window.findChild(QProgressBar).value() >= 1


def press_cancel():
    from style_plugin.hooks.hosts.krita import new_style

    # A step of a training on a busy test machine can outlast Cancel's usual wait.
    new_style.STOP_GRACE_MS = POLL_MS * POLLS
    (button,) = training_window().findChildren(QPushButton)
    button.click()
    note("cancel pressed")
    wait(lambda: training_window() is None, after_cancel, "the training to stop")


def after_cancel():
    dialog = STATE["dialog"]
    note("stopped", cancelled_listed=added(CONFIG["cancel_name"]))
    dialog.findChild(QPushButton, "preview_button").click()
    preview = dialog.findChild(QLabel, "preview").pixmap()
    note("previewed", preview=None if preview is None else [preview.width(), preview.height()])
    QApplication.processEvents()
    QApplication.primaryScreen().grabWindow(0).save(CONFIG["screenshot"])
    dialog.accept()


def finish(error):
    if "done" in REPORT["steps"]:  # the first error stands
        return
    note("done", error=error)
    for _ in range(3):  # a failure may leave dialogs open, which would keep Krita running
        widget = QApplication.activeModalWidget()
        if widget is not None:
            widget.reject()
    for document in Krita.instance().documents():
        document.setModified(False)
    QTimer.singleShot(0, Krita.instance().action("file_quit").trigger)
    QTimer.singleShot(5000, still_open)


def still_open():
    windows = [
        (type(w).__name__, w.objectName(), w.windowTitle(), getattr(w, "text", str)())
        for w in QApplication.topLevelWidgets()
        if w.isVisible()
    ]
    REPORT["still_open_after_quit"] = windows
    with open(CONFIG["report"], "w") as handle:
        json.dump(REPORT, handle, indent=1)


class Driver(Extension):
    def setup(self):
        pass

    def createActions(self, window):
        QTimer.singleShot(500, start)


Krita.instance().addExtension(Driver(Krita.instance()))
