"""Open Stylize's dialog on an image in a window, as the menu does; once the dialog's OK has
filtered the layer, save the result, wait for the shell driver's Ctrl+Z in the image
window, save again and quit GIMP.

Settings: "procedure", "source", "target" (the result), "outcome" (the run's status and
message), "filtered" (made once the result is saved), "undone" (made by the shell driver
after Ctrl+Z) and "after_undo" (the image saved then).
"""

from __future__ import annotations

import os
import sys
import time

from gimp_session import (
    open_in_window,
    quit_gimp,
    read_settings,
    save_image,
    status_and_message,
    write_outcome,
)

#: How long to wait for the shell driver's Ctrl+Z, in tenths of a second.
UNDO_WAIT = 600


def main(settings_path: str) -> None:
    settings = read_settings(settings_path)
    image, procedure, config = open_in_window(settings)
    config.set_core_object_array("drawables", [image.get_layers()[0]])
    outcome = status_and_message(procedure.run(config))
    save_image(image, settings["target"])
    write_outcome(settings["outcome"], outcome)
    open(settings["filtered"], "w").close()
    for _ in range(UNDO_WAIT):
        if os.path.exists(settings["undone"]):
            break
        time.sleep(0.1)
    save_image(image, settings["after_undo"])
    quit_gimp()


if __name__ == "__main__":
    main(sys.argv[1])
