"""The benchmark of the filter around the model (benchmarks/pipeline.py), run tiny: an earlier
revision from a git worktree against this checkout, its three tables on a results page."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.support import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import pipeline  # benchmarks/ is not a package


def test_pictures_are_compared_in_levels_of_255_whatever_their_type():
    eight = np.array([[10, 200]], np.uint8)
    assert pipeline.levels_apart(eight, eight) == (0.0, 0.0)
    assert pipeline.levels_apart(eight, np.array([[11, 200]], np.uint8)) == (1.0, 0.5)
    deep = eight.astype(np.uint16) * 257
    assert pipeline.levels_apart(deep, deep + np.array([[257, 0]], np.uint16)) == (1.0, 0.5)
    floats = np.array([0.5, 0.25], np.float32)
    assert pipeline.levels_apart(floats, floats + np.float32(2 / 255))[0] == pytest.approx(2)


def test_the_benchmark_times_both_sides_of_a_tiny_photo(tmp_path):
    if not (REPO / ".git").exists():
        pytest.skip("the baseline comes from git: this is not a git checkout")
    page = tmp_path / "results.md"
    command = [sys.executable, str(REPO / "benchmarks" / "pipeline.py")]
    command += ["--sizes", "400x300", "--scale", "4", "--rounds", "1", "--threads", "0"]
    command += ["--memory-runs", "1"]
    run = subprocess.run(
        [*command, "--results", str(page)], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr
    section = page.read_text()
    assert section.startswith("<!-- results:pipeline -->")
    assert "| 400x300 | 0 |" in section  # the timing row
    assert section.count("| 400x300 |") == 2  # and the memory row
    for picture in ("default", "colours kept", "16-bit", "float", "scale 0, tiles of 100"):
        assert f"| {picture} |" in section
    worktrees = subprocess.run(
        ["git", "-C", str(REPO), "worktree", "list"], capture_output=True, text=True, check=True
    )
    assert "pipeline-bench-" not in worktrees.stdout  # the baseline's worktree was removed
