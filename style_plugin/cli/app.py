"""The Typer app every command module adds itself to, and what they share."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from style_plugin.contract import printable

__all__ = [
    "EXIT_INTERRUPTED",
    "Command",
    "DeviceOption",
    "app",
    "command_group",
    "fail",
    "require_torch",
]


class _MetavarArgument(TyperArgument):
    """An argument whose metavar replaces its Python type in help, as an option's does."""

    def display_type_rich(self, ctx: typer.Context) -> str | None:
        return "" if self.metavar is not None else super().display_type_rich(ctx)


def _say_what_to_type(params: Iterable[Any]) -> None:
    """Make help show what to type, never a Python type (`<bool>`, `<list[str]>`): nothing for
    a flag, which takes no value, and an argument's metavar in place of its type.

    Options declare their metavars; Typer builds arguments itself, with no class to choose, so
    a plain one's class is set here.
    """
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
        elif type(param) is TyperArgument:
            param.__class__ = _MetavarArgument


class Command(TyperCommand):
    """A command whose help says what to type (see `_say_what_to_type`)."""

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        _say_what_to_type(self.get_params(ctx))
        super().format_help(ctx, formatter)


class _Group(TyperGroup):
    """The app's group, whose own help says what to type too (its `--help` is a flag)."""

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        _say_what_to_type(self.get_params(ctx))
        super().format_help(ctx, formatter)

    def invoke(self, ctx: typer.Context) -> Any:
        """Run the command asked for. Ctrl-C anywhere in it (a plugin's hook, a model loading)
        is an 'interrupted' line and exit status 130, where Typer would stop silently."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None


class _App(typer.Typer):
    """A Typer app whose commands default to `Command`."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)


app = _App(
    name="style-plugin",
    help="Neural style transfer: train a style model, export it, stylize images.",
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INTERRUPTED = 130


def _print_version(asked: bool) -> None:
    if asked:
        from style_plugin import __version__

        typer.echo(f"style-plugin {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """The options taken before any command."""


#: Where a stylizing command runs the model: every such command offers the same choice.
DeviceOption = Annotated[
    str,
    typer.Option(
        metavar="DEVICE",
        help="Where to run: auto (CUDA when it really works here), cuda, tensorrt or cpu.",
    ),
]


def command_group() -> typer.Typer:
    """A fresh, empty group whose commands' help reads like the built-in ones (each plugin
    adds its commands to one, which the command line then adopts)."""
    return _App()


def require_torch() -> None:
    """Fail in one line where PyTorch is missing: training and exporting need the train extra
    (a runtime-only install, as the editors' plug-ins use, has none)."""
    if importlib.util.find_spec("torch") is None:
        fail("this command needs PyTorch: pip install 'style-plugin[train]'")


def fail(message: str) -> None:
    """Print one error line (file names in it escaped) and exit non-zero."""
    typer.echo(f"error: {printable(message)}", err=True)
    raise typer.Exit(1)
