"""Putting the Stylize filter into image editors: `install HOST [--uninstall]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from style_plugin.cli.app import app


@app.command()
def install(
    host: Annotated[str, typer.Argument(help="The image editor: krita or gimp.")],
    uninstall: Annotated[
        bool, typer.Option("--uninstall", help="Remove exactly what an earlier install wrote.")
    ] = False,
    plugin_dir: Annotated[
        Path | None,
        typer.Option(
            "--plugin-dir",
            help="The editor's plug-in folder. Default: its usual one for this user "
            "(Krita: ~/.local/share/krita/pykrita).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="The editor's settings file where plug-ins are enabled (Krita: ~/.config/kritarc).",
        ),
    ] = None,
    python: Annotated[
        str | None,
        typer.Option(
            "--python",
            help="The Python the editor embeds: a version (3.13) or an interpreter. "
            "Default: detected from the editor's installation.",
        ),
    ] = None,
) -> None:
    """Install the Stylize plug-in into an image editor (Krita, GIMP 3), or remove it."""
    from hooks.hosts import InstallOptions, installer

    options = InstallOptions(
        plugin_dir=plugin_dir, config_file=config, python=python, uninstall=uninstall
    )
    for line in installer(host).install(options):
        typer.echo(line)
