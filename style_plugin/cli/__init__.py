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
from typer.main import get_command_name

from style_plugin.cli import (  # noqa: F401  (each module registers its commands)
    add_style,
    demo,
    export,
    filter_commands,
    hosts,
    inventory,
    stylize,
    train,
)
from style_plugin.cli.app import EXIT_INTERRUPTED, app, command_group
from style_plugin.contract import printable
from style_plugin.errors import StylePluginError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors become one line on stderr and exit status 1."""
    try:
        _add_plugin_commands()
        app(args=argv, prog_name="style-plugin", standalone_mode=True)
    except StylePluginError as exc:
        typer.echo(f"error: {printable(str(exc))}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


@functools.cache
def _add_plugin_commands() -> None:
    """Let plugins add their commands (once per process); one that fails, or that would take
    the name of a command already there, is a warning line and adds nothing."""
    from style_plugin.plugins import register_commands

    for broken in register_commands(command_group, _adopt):
        typer.echo(f"warning: {broken.describe()}", err=True)


def _adopt(group: typer.Typer) -> None:
    """Add a plugin's commands and sub-groups to the app, or none of them when one of their
    names is taken (a plugin never replaces a built-in command or another plugin's)."""
    taken = _command_names(app)
    for name in _command_names(group):
        if name in taken:
            raise ValueError(f"command {name!r} already exists; a plugin cannot replace it")
    app.registered_commands += group.registered_commands
    app.registered_groups += group.registered_groups


def _command_names(cli: typer.Typer) -> list[str]:
    """The names the command line will show for `cli`'s commands and sub-groups."""
    commands = [
        info.name or get_command_name(info.callback.__name__)
        for info in cli.registered_commands
        if info.callback is not None
    ]
    groups = [info.name or info.typer_instance.info.name for info in cli.registered_groups]
    return commands + [name for name in groups if name]
