"""Run New Style from an Image... non-interactively on an open image, in gimp-console-3.0.

Settings: "procedure", "source" (the image learnt from), "label" (the style's name) and
"outcome": whether the procedure is registered, its menu label, the run's status and message.
"""

from __future__ import annotations

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
    status_and_message,
    write_outcome,
)

#: The training steps asked for.
STEPS = 2


def main(settings_path: str) -> None:
    settings = read_settings(settings_path)
    image = load_image(settings["source"])
    procedure = lookup(settings["procedure"])
    outcome: dict[str, Any] = {"registered": procedure is not None}
    if procedure is not None:
        outcome["menu"] = procedure.get_menu_label()
        config = new_config(procedure, image, Gimp.RunMode.NONINTERACTIVE)
        config.set_property("use-open-image", True)
        config.set_property("label", settings["label"])
        config.set_property("steps", STEPS)
        outcome.update(status_and_message(procedure.run(config)))
    write_outcome(settings["outcome"], outcome)


if __name__ == "__main__":
    main(sys.argv[1])
