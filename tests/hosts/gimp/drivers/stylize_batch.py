"""Run Stylize non-interactively on each case of the settings, in gimp-console-3.0.

Settings: "procedure", "arguments" (GIMP names), "cases" (each "source", "target",
"selection" (x, y, width, height, or null) and its own "arguments"), "installed_later"
((source, target) files copied once GIMP has recorded the procedure, before the cases run)
and "outcome", where each case's target is mapped to "ok" or what went wrong.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402
from gimp_session import (  # noqa: E402
    load_image,
    lookup,
    new_config,
    read_settings,
    save_image,
    write_outcome,
)


def run_case(settings: dict[str, Any], case: dict[str, Any]) -> str:
    """Filter the case's source and save it as its target: "ok", or why not."""
    image = load_image(case["source"])
    if case["selection"]:
        image.select_rectangle(Gimp.ChannelOps.REPLACE, *case["selection"])
    procedure = lookup(settings["procedure"])
    if procedure is None:
        return "the procedure is not registered"
    config = new_config(procedure, image, Gimp.RunMode.NONINTERACTIVE)
    config.set_core_object_array("drawables", [image.get_layers()[0]])
    for name, value in {**settings["arguments"], **case.get("arguments", {})}.items():
        config.set_property(name, value)
    result = procedure.run(config)
    if result.index(0) != Gimp.PDBStatusType.SUCCESS:
        return f"status {result.index(0)}: {result.index(1) if result.length() > 1 else ''}"
    save_image(image, case["target"])
    image.delete()
    return "ok"


def main(settings_path: str) -> None:
    settings = read_settings(settings_path)
    for source, target in settings["installed_later"]:
        shutil.copy(source, target)
    outcome = {}
    for case in settings["cases"]:
        try:
            outcome[case["target"]] = run_case(settings, case)
        except Exception as exc:
            outcome[case["target"]] = f"{type(exc).__name__}: {exc}"
    write_outcome(settings["outcome"], outcome)


if __name__ == "__main__":
    main(sys.argv[1])
