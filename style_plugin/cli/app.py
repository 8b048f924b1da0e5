"""The Typer app every command module adds itself to, and what they share."""

from __future__ import annotations

import typer

__all__ = ["EXIT_INTERRUPTED", "app", "fail"]

app = typer.Typer(
    name="style-plugin",
    help="Neural style transfer: train a style model, export it, stylize images.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INTERRUPTED = 130


def fail(message: str) -> None:
    """Print one error line and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)
