#!/usr/bin/env python3
"""GIMP 3 plug-in: Filters > Artistic > Stylize... runs style-plugin's Stylize filter, and
Filters > Artistic > New Style from an Image... learns a new style for it from a painting.

Installed by `style-plugin install gimp`, which copies this folder into GIMP's plug-ins
folder (GIMP 3 runs plug-ins/<name>/<name>.py, with that folder first on sys.path) and
records where style-plugin lives in the file beside it. This script registers the
procedures; each lives in a module of its own (stylize_procedure.py,
new_style_procedure.py), what both use in procedure_common.py, and style_plugin_bootstrap.py
puts the recorded environment on sys.path. All that does not need GIMP lives in
hooks/hosts/gimp/bridge.py and new_style.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

sys.dont_write_bytecode = True  # leave nothing in GIMP's plug-ins folder but our files
FOLDER = str(Path(__file__).resolve().parent)
if FOLDER not in sys.path:  # GIMP puts it first; not so when loaded from elsewhere, or with -P
    sys.path.insert(0, FOLDER)

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
import new_style_procedure  # noqa: E402
import stylize_procedure  # noqa: E402
from gi.repository import Gimp  # noqa: E402
from procedure_common import load_filter, load_new_style  # noqa: E402


def procedure_modules() -> dict[str, ModuleType]:
    """Each procedure's module by the procedure's name in GIMP's procedural database, in the
    menu's order; raises what loading style-plugin raised."""
    _, bridge = load_filter()
    new_style = load_new_style()
    return {
        bridge.PROCEDURE_NAME: stylize_procedure,
        new_style.PROCEDURE_NAME: new_style_procedure,
    }


class StylizePlugIn(Gimp.PlugIn):
    """Registers Stylize and New Style from an Image... when style-plugin can be found."""

    def do_set_i18n(self, name: str) -> bool:
        """The labels come from the filter, untranslated by GIMP's catalogues."""
        return False

    def do_query_procedures(self) -> list[str]:
        """The procedures, or none (with the reason on stderr) if style-plugin is not found."""
        try:
            return list(procedure_modules())
        except Exception as exc:  # GIMP must keep starting whatever broke here
            print(f"style-plugin: Stylize is unavailable: {exc}", file=sys.stderr)
            return []

    def do_create_procedure(self, name: str) -> Gimp.Procedure:
        """The procedure called `name`."""
        return procedure_modules()[name].create_procedure(self, name)


if __name__ == "__main__":
    Gimp.main(StylizePlugIn.__gtype__, sys.argv)
