"""`--help` of every command reads well: what to type (`NAME=PAINTING`, `FILE`), never a
Python type (`<bool>`, `<list[str]>`), and paragraphs and command summaries that wrap cleanly.

Commands are taken from the Typer app, so a new one is checked without touching this file.
"""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from style_plugin.cli import app

#: Typer's type column: `<bool>`, `<str>`, `<int>`, `<float>`, `<path>`, `<list[str]>`, ...
TYPE_MARKER = re.compile(r"<(bool|str|int|float|path|file|directory|list\[[^>]*\])>", re.I)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]


def help_text(*command: str, columns: int = 100) -> str:
    """`style-plugin COMMAND --help` as a terminal `columns` wide shows it, without colours."""
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return ANSI_ESCAPE.sub("", result.output)


@pytest.mark.parametrize("columns", [80, 100])
@pytest.mark.parametrize("command", ["", *sorted(COMMANDS)])  # "": the app's own help
def test_help_shows_no_python_types(command: str, columns: int) -> None:
    text = help_text(*command.split(), columns=columns)
    assert not TYPE_MARKER.findall(text), text


@pytest.mark.parametrize(
    ("command", "pattern"),
    [
        ("train", r"--style\s+-s\s+NAME=PAINTING\s"),
        ("train", r"--real\s+NAME=FOLDER\s"),
        ("stylize", r"--model\s+-m\s+FILE\s"),
        ("stylize", r"--strength\s+0\.\.1\s"),
        ("stylize", r"--recursive\s+-r\s+Also\s"),  # a flag: its help follows at once
        ("stylize", r"Usage: .* \{INPUT\}\.\.\."),
        ("export", r"--output\s+-o\s+FILE\s"),
    ],
)
def test_help_shows_what_to_type(command: str, pattern: str) -> None:
    text = help_text(command)
    assert re.search(pattern, text), text


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_paragraphs_are_one_line_each(command: str) -> None:
    """Rich help keeps a docstring's line breaks: a paragraph broken in the source is broken
    on screen, whatever the width."""
    text = COMMANDS[command].help or ""
    assert all("\n" not in paragraph for paragraph in text.split("\n\n")), text


@pytest.mark.parametrize("columns", [80, 100])
def test_command_summaries_fit_on_one_line(columns: int) -> None:
    """Each command's line in `style-plugin --help` (its docstring's first line) is one row."""
    panel = help_text(columns=columns).split("Commands")[1]
    rows = [line for line in panel.splitlines() if line.startswith("│")]
    assert len(rows) == len(COMMANDS), panel
