"""A Krita plug-in the tests install (test_real_krita.py): triggers Filter > Stylize… on the
opened image, fills in the dialog, previews, takes a screenshot, exports the result layer,
undoes, stylizes again, quits. What it sees goes to the JSON report named in
$STYLIZE_DRIVER."""

import json
import os
import traceback

from krita import Extension, InfoObject, Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QComboBox, QDoubleSpinBox, QLabel

CONFIG = json.loads(os.environ["STYLIZE_DRIVER"])
REPORT = {"steps": []}


def note(step, **data):
    REPORT["steps"].append(step)
    REPORT.update(data)
    with open(CONFIG["report"], "w") as handle:
        json.dump(REPORT, handle, indent=1)


def layer_names(document):
    return [node.name() for node in document.rootNode().childNodes()]


def fill_dialog(attempt=0):
    dialog = QApplication.activeModalWidget()
    if dialog is None or dialog.objectName() != "style_plugin_filter_dialog":
        if attempt < 100:
            QTimer.singleShot(100, lambda: fill_dialog(attempt + 1))
        return
    try:
        combo = dialog.findChild(QComboBox, "style")
        combo.setCurrentIndex(combo.findData(CONFIG["params"]["style"]))
        dialog.findChild(QDoubleSpinBox, "strength").setValue(CONFIG["params"]["strength"])
        first = dialog.previewed  # the preview made when the dialog opened, if it came yet
        note(
            "dialog",
            first_preview=first,
            style_labels=[combo.itemText(i) for i in range(combo.count())],
        )
        QTimer.singleShot(100, lambda: wait_for_preview(dialog))  # no Preview button pressed
    except Exception:
        note("dialog failed", error=traceback.format_exc())
        dialog.reject()


def wait_for_preview(dialog, attempt=0):
    """Accept once the preview shows the values set (it follows them by itself)."""
    try:
        if dialog.previewed != dialog.values() and attempt < 100:
            QTimer.singleShot(100, lambda: wait_for_preview(dialog, attempt + 1))
            return
        preview = dialog.findChild(QLabel, "preview").pixmap()
        note(
            "previewed",
            previewed=dialog.previewed,
            preview_size=None if preview is None else [preview.width(), preview.height()],
            values=dialog.values(),
        )
        QApplication.processEvents()
        QApplication.primaryScreen().grabWindow(0).save(CONFIG["screenshot"])
        dialog.accept()
    except Exception:
        note("dialog failed", error=traceback.format_exc())
        dialog.reject()


def run(attempt=0):
    app = Krita.instance()
    document, window = app.activeDocument(), app.activeWindow()
    if document is None or window is None:
        if attempt < 100:
            QTimer.singleShot(200, lambda: run(attempt + 1))
        else:
            finish("no document or window")
        return
    try:
        window.qwindow().setGeometry(QApplication.primaryScreen().availableGeometry())
        filter_menu = [
            item.text()
            for menu in window.qwindow().menuBar().actions()
            if menu.menu() and menu.text().replace("&", "") == "Filter"
            for item in menu.menu().actions()
        ]
        original = document.activeNode()
        note("start", layers_before=layer_names(document), filter_menu=filter_menu)
        QTimer.singleShot(300, fill_dialog)
        app.action("style_plugin_stylize").trigger()
        document.waitForDone()
        result = document.rootNode().childNodes()[-1]
        note("applied", layers_after=layer_names(document))
        original.setVisible(False)
        document.refreshProjection()
        document.setBatchmode(True)
        exported = document.exportImage(CONFIG["output"], InfoObject())
        original.setVisible(True)
        w, h = document.width(), document.height()
        note(
            "exported",
            exported=exported,
            result=result.name(),
            result_pixels=bytes(result.pixelData(0, 0, w, h)).hex(),
        )
        QTimer.singleShot(500, lambda: undo(document))
    except Exception:
        finish(traceback.format_exc())


def undo(document):
    action = Krita.instance().action("edit_undo")
    note("undo", undo=action.text())
    action.trigger()
    QTimer.singleShot(1000, lambda: again(document))


def again(document):
    """Tools > Scripts > Stylize Again: the last settings, no dialog."""
    try:
        note("again", layers_after_undo=layer_names(document))
        app = Krita.instance()
        app.action("style_plugin_stylize_again").trigger()
        document.waitForDone()
        result = document.rootNode().childNodes()[-1]
        w, h = document.width(), document.height()
        scripts = [
            item.text()
            for menu in app.activeWindow().qwindow().menuBar().actions()
            if menu.menu() and menu.text().replace("&", "") == "Tools"
            for sub in menu.menu().actions()
            if sub.menu() and sub.text().replace("&", "") == "Scripts"
            for item in sub.menu().actions()
        ]
        QTimer.singleShot(
            1000,
            lambda: finish(
                None,
                layers_after_again=layer_names(document),
                again_pixels=bytes(result.pixelData(0, 0, w, h)).hex(),
                scripts_menu=scripts,
            ),
        )
    except Exception:
        finish(traceback.format_exc())


def finish(error, **data):
    note("done", error=error, **data)
    for document in Krita.instance().documents():
        document.setModified(False)
    QTimer.singleShot(0, Krita.instance().action("file_quit").trigger)


class StylizeTestDriver(Extension):
    def setup(self):
        pass

    def createActions(self, window):
        QTimer.singleShot(500, run)


Krita.instance().addExtension(StylizeTestDriver(Krita.instance()))
