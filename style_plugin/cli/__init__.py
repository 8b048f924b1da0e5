"""The `style-plugin` command line: a thin face over the same functions the Python API offers.

One module per group of commands (training, export, stylizing, inventory, hosts); each adds
its commands to the shared Typer `app`. Torch is imported only inside the commands that
train or export, so the CLI stays light for hosts. Plugins add commands through the
`register_commands` hook.
"""

from __future__ import annotations

import functools
import sys

import typer

from style_plugin.cli import (  # noqa: F401  (each module registers its commands)
    demo,
    export,
    filter_commands,
    hosts,
    inventory,
    stylize,
    train,
)
from style_plugin.cli.app import EXIT_INTERRUPTED, app
from style_plugin.errors import StylePluginError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors become one line on stderr and exit status 1."""
    try:
        _add_plugin_commands()
        app(args=argv, prog_name="style-plugin", standalone_mode=True)
    except StylePluginError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


@functools.cache
def _add_plugin_commands() -> None:
    """Let plugins add their commands (once per process); one that fails is a warning line."""
    from hooks import register_commands

    for broken in register_commands(app):
        typer.echo(f"warning: {broken.describe()}", err=True)
