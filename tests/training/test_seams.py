"""The trainer's seams: a set-up that writes nothing, one training step with no files, and a
loop that reports through its callbacks, never to the terminal."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import style_plugin.training
from style_plugin.training.run_setup import RunOptions, RunSetup
from style_plugin.training.trainer import Trainer
from tests.support import tiny_config

TRAINING = Path(style_plugin.training.__file__).parent

#: What only a display needs: the trainer's modules import none of it.
DISPLAY_MODULES = ("rich", "typer", "click", "style_plugin.cli")


def _displays(name: str) -> bool:
    return any(name == module or name.startswith(module + ".") for module in DISPLAY_MODULES)


def terminal_output(tree: ast.AST) -> Iterator[str]:
    """What in `tree` shows things on a terminal: display modules, print(), sys.stdout/err."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if _displays(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and _displays(node.module):
            yield node.module
        elif isinstance(node, ast.Name) and node.id == "print":
            yield "print"
        elif isinstance(node, ast.Attribute) and ast.unparse(node) in ("sys.stdout", "sys.stderr"):
            yield ast.unparse(node)


def test_the_training_modules_show_nothing_themselves():
    found = [
        f"{path.name}: {name}"
        for path in sorted(TRAINING.glob("*.py"))
        for name in terminal_output(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found


@pytest.mark.train
def test_a_run_reports_where_it_stands_through_its_callbacks(photos, paintings, tmp_path, capsys):
    reports, records = [], []
    options = RunOptions(
        device="cpu",
        log_every=2,
        on_log=records.append,
        on_progress=lambda step, total, record: reports.append((step, total, record)),
    )
    Trainer(tiny_config(photos, paintings, steps=3), tmp_path / "run", options).run()
    assert [(step, total) for step, total, _ in reports] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert [record for *_, record in reports] == [None, None, records[0], records[1]]
    assert [record["step"] for record in records] == [2, 3]
    assert capsys.readouterr() == ("", "")

    quiet = RunOptions(device="cpu", resume=True, steps=4, on_log=records.append)
    Trainer(None, tmp_path / "run", quiet).run()
    assert len(reports) == 4 and records[-1]["step"] == 4


@pytest.mark.train
def test_one_step_trains_without_files_and_repeats_exactly(photos, paintings, tmp_path):
    config = tiny_config(photos, paintings, steps=2)
    losses = []
    for name in ("a", "b"):
        run = RunSetup(config, tmp_path / name, RunOptions(device="cpu"))
        (content,) = [batch for batch, _ in zip(run.loader, range(1), strict=False)]
        losses.append(run.train_step(1, content))
        assert not (tmp_path / name).exists()
    assert set(losses[0]) == {
        "content",
        "style",
        "adversarial",
        "tv",
        "stability",
        "total",
        "discriminator",
    }
    assert losses[0] == losses[1]
