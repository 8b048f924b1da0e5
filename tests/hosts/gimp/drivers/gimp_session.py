"""What the drivers share inside the real GIMP 3 (its batch interpreter runs them, with this
folder on sys.path): their settings, an image opened from a file, a procedure's config, and
GIMP quit at the end of a dialog driver."""

from __future__ import annotations

import json
from typing import Any

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio  # noqa: E402


def read_settings(path: str) -> dict[str, Any]:
    """The settings the test wrote for the driver (a JSON object)."""
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def write_outcome(path: str, outcome: dict[str, Any]) -> None:
    """What the driver found, for the test to read (a JSON object)."""
    with open(path, "w", encoding="utf-8") as file:
        json.dump(outcome, file)


def load_image(path: str) -> Gimp.Image:
    """The image file at `path`, opened in GIMP."""
    return Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))


def save_image(image: Gimp.Image, path: str) -> None:
    """Save `image` to `path` (its format from the name)."""
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(path), None)


def lookup(name: str) -> Gimp.Procedure | None:
    """The procedure called `name`, None when GIMP has not registered it."""
    return Gimp.get_pdb().lookup_procedure(name)


def new_config(
    procedure: Gimp.Procedure, image: Gimp.Image, run_mode: Gimp.RunMode
) -> Gimp.ProcedureConfig:
    """A config of the image procedure `procedure` for `image`, run in `run_mode`."""
    config = procedure.create_config()
    config.set_property("run-mode", run_mode)
    config.set_property("image", image)
    return config


def status_and_message(result: Gimp.ValueArray) -> dict[str, Any]:
    """A procedure's result: its status's name and its error message (None without one)."""
    message = result.index(1) if result.length() > 1 else None
    return {"status": result.index(0).value_name, "message": message}


def open_in_window(
    settings: dict[str, Any],
) -> tuple[Gimp.Image, Gimp.Procedure, Gimp.ProcedureConfig]:
    """settings["source"] opened in a window, and a config of settings["procedure"] that
    opens its dialog on it, as the menu does."""
    image = load_image(settings["source"])
    Gimp.Display.new(image)
    Gimp.displays_flush()
    procedure = lookup(settings["procedure"])
    return image, procedure, new_config(procedure, image, Gimp.RunMode.INTERACTIVE)


def quit_gimp() -> None:
    """Quit GIMP, unsaved images and all."""
    procedure = Gimp.get_pdb().lookup_procedure("gimp-quit")
    config = procedure.create_config()
    config.set_property("force", True)
    procedure.run(config)
