"""Putting the Stylize filter into image editors: `install HOST [--uninstall]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from style_plugin.cli.app import app


@app.command()
def install(
    host: Annotated[str, typer.Argument(metavar="HOST", help="The image editor: krita or gimp.")],
    uninstall: Annotated[
        bool, typer.Option("--uninstall", help="Remove exactly what install wrote.")
    ] = False,
    plugin_dir: Annotated[
        Path | None,
        typer.Option(
            "--plugin-dir",
            metavar="FOLDER",
            help="The editor's plug-in folder; naming it skips the check that the editor is "
            "installed. Default: this user's usual one, such as ~/.local/share/krita/pykrita.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="Krita's settings file that enables plug-ins, usually ~/.config/kritarc; "
            "GIMP needs none.",
        ),
    ] = None,
    python: Annotated[
        str | None,
        typer.Option(
            "--python",
            metavar="VERSION|FILE",
            help="The Python the editor embeds: a version such as 3.13, or an interpreter; "
            "detected by default.",
        ),
    ] = None,
) -> None:
    """Install the Stylize plug-in into Krita or GIMP 3, or remove it."""
    from style_plugin.hooks.hosts import InstallOptions, installer

    options = InstallOptions(
        plugin_dir=plugin_dir, config_file=config, python=python, uninstall=uninstall
    )
    for line in installer(host).install(options):
        typer.echo(line)
