"""A Krita plug-in the tests install (test_started_from_a_venv.py): once Krita's window is
up, it notes which Python Krita runs, the extensions Krita loaded and the Filter menu's
entries, then quits. That it runs at all shows that Krita's Python plug-ins load. What it
sees goes to the JSON report named in $MENU_DRIVER."""

import json
import os
import sys
import traceback

from krita import Extension, Krita
from PyQt5.QtCore import QTimer

CONFIG = json.loads(os.environ["MENU_DRIVER"])


def report(attempt=0):
    app = Krita.instance()
    window = app.activeWindow()
    if window is None and attempt < 100:
        QTimer.singleShot(200, lambda: report(attempt + 1))
        return
    seen = {"error": None, "python": sys.executable, "prefix": sys.prefix}
    try:
        seen["extensions"] = sorted(type(extension).__name__ for extension in app.extensions())
        seen["filter_menu"] = [
            item.text()
            for menu in window.qwindow().menuBar().actions()
            if menu.menu() and menu.text().replace("&", "") == "Filter"
            for item in menu.menu().actions()
        ]
    except Exception:
        seen["error"] = traceback.format_exc()
    with open(CONFIG["report"], "w") as handle:
        json.dump(seen, handle, indent=1)
    QTimer.singleShot(0, app.action("file_quit").trigger)


class MenuTestDriver(Extension):
    def setup(self):
        pass

    def createActions(self, window):
        QTimer.singleShot(500, report)


Krita.instance().addExtension(MenuTestDriver(Krita.instance()))
