"""Open New Style from an Image...'s dialog on an image in a window, as the menu does, set to
learn from the open image under settings["label"]; once its OK has run the procedure, write
the run's status and message to settings["outcome"] and quit GIMP."""

from __future__ import annotations

import sys

from gimp_session import open_in_window, quit_gimp, read_settings, status_and_message, write_outcome


def main(settings_path: str) -> None:
    settings = read_settings(settings_path)
    _, procedure, config = open_in_window(settings)
    config.set_property("use-open-image", True)
    config.set_property("label", settings["label"])
    write_outcome(settings["outcome"], status_and_message(procedure.run(config)))
    quit_gimp()


if __name__ == "__main__":
    main(sys.argv[1])
