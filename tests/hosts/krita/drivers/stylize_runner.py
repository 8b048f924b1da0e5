"""Run by kritarunner (`kritarunner -s stylize_runner CONFIG`): for each case open the image,
run the plug-in's code on its layer (style_plugin_krita sets up the environment, as in
Krita) and export the result layer; then press Cancel in the progress dialog and read how
the filter dialog shows texts. What it sees goes to the JSON report CONFIG names."""

import json
import time
import traceback


def __main__(args):
    """kritarunner's entry point: args[0] is the test's configuration (JSON)."""
    import style_plugin_krita  # the installed plug-in: puts the package on sys.path

    config = json.loads(args[0])
    report = {}
    for case in config["cases"]:
        try:
            report[case["name"]] = stylize_case(config["input"], case, style_plugin_krita)
        except Exception:
            report[case["name"]] = {"error": traceback.format_exc()}
    report["cancel"] = cancel_from_progress_dialog()
    report["text_formats"] = dialog_text_formats()
    with open(config["report"], "w") as handle:
        json.dump(report, handle)


def stylize_case(image, case, plugin):
    """Open `image`, convert its layer to the case's colour space and select its rectangle,
    if it names them, stylize the layer (through the Scripter entry point of `plugin`, the
    installed plug-in module, when the case says so) and export the result layer alone."""
    from krita import InfoObject, Krita, Selection

    from style_plugin import plugins
    from style_plugin.hooks.hosts.krita.extension import preview_image, read_layer, stylize_layer

    document = Krita.instance().openDocument(image)
    document.setBatchmode(True)
    node = document.rootNode().childNodes()[0]
    if case.get("space"):
        model, depth, profile = case["space"]
        if not profile:  # the sRGB-curve one where there is one, as Krita defaults
            profiles = Krita.instance().profiles(model, depth)
            profile = ([p for p in profiles if "srgbtrc" in p] + profiles)[0]
        if not node.setColorSpace(model, depth, profile):
            raise RuntimeError(f"Krita could not convert the layer to {case['space']}")
    w, h = document.width(), document.height()
    space = [node.colorModel(), node.colorDepth(), node.colorProfile()]
    converted = bytes(node.pixelData(0, 0, w, h)).hex()
    if case.get("selection"):
        selection = Selection()
        selection.select(*case["selection"])
        document.setSelection(selection)
    stylize = plugins.get_filter("stylize")
    preview = preview_image(stylize, read_layer(document, node), case["params"])
    if case.get("scripter"):  # the documented entry point for Krita's Scripter
        layer = plugin.stylize(document, node, **case["params"])
    else:
        layer = stylize_layer(document, node, stylize, case["params"])
    seen = {
        "layers": [child.name() for child in document.rootNode().childNodes()],
        "space": space,
        "result_space": [layer.colorModel(), layer.colorDepth(), layer.colorProfile()],
        "preview": [preview.width(), preview.height()],
        "input": converted,
        "pixels": bytes(layer.pixelData(0, 0, w, h)).hex(),
    }
    node.setVisible(False)
    document.refreshProjection()
    document.exportImage(case["output"], InfoObject())
    document.close()
    return seen


def dialog_text_formats():
    """The filter dialog's labels and choices for texts that look like rich text or escapes."""
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QComboBox, QLabel

    from style_plugin.hooks.filters import Choice, Filter, Param
    from style_plugin.hooks.hosts.krita.ui import FilterDialog

    class MarkupFilter(Filter):
        name = "markup"
        label = "<b>Markup</b>"
        description = "<i>rich?</i>"

        def params(self):
            choices = (Choice("a", "<b>A</b>\x1b[2J"), Choice("b", "B"))
            return [Param("style", "<u>Style</u>", "choice", "a", "", choices=choices)]

        def run(self, image, params, progress, cancel):
            return image

    dialog = FilterDialog(MarkupFilter(), lambda values: None)
    plain = {
        label.text(): label.textFormat() == Qt.PlainText
        for label in dialog.findChildren(QLabel)
        if label.text()
    }
    plain["preview"] = dialog.preview_label.textFormat() == Qt.PlainText
    combo = dialog.findChild(QComboBox, "style")
    seen = {"plain": plain, "choice": [combo.itemText(0), combo.itemData(0)]}
    dialog.deleteLater()
    return seen


def cancel_from_progress_dialog():
    """Press Cancel in run_with_progress's dialog while slow work runs; what came of it."""
    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QApplication

    from style_plugin.hooks.hosts.krita.ui import run_with_progress

    seen = {}

    def press_cancel():
        for widget in QApplication.topLevelWidgets():
            if widget.objectName() == "style_plugin_progress" and widget.isVisible():
                seen["maximum"], seen["value"] = widget.maximum(), widget.value()
                widget.cancel()
                return
        QTimer.singleShot(50, press_cancel)

    def work(progress, cancel):
        for step in range(200):
            progress(step, 200)
            if cancel():
                return f"stopped at {step}"
            time.sleep(0.05)
        return "not cancelled"

    QTimer.singleShot(500, press_cancel)
    try:
        seen["result"] = run_with_progress(None, "Testing", work)
    except Exception as exc:
        seen["raised"] = type(exc).__name__
    return seen
