"""The GPU benchmark (benchmarks/gpu.py): one line where CUDA does not run, and with
`--cpu-smoke` every case it can run, tiny."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import REPO, cuda_problem

BENCHMARK = [sys.executable, str(REPO / "benchmarks" / "gpu.py"), "--results", "none"]


def test_without_cuda_it_says_why_in_one_line_and_succeeds():
    if cuda_problem() is None:
        pytest.skip("CUDA runs style models here")
    run = subprocess.run(BENCHMARK, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("no GPU run here: CUDA does not run style models")
    assert run.stdout.count("\n") == 1 and "Traceback" not in run.stderr


def test_the_cpu_smoke_measures_every_case_it_can_run_tiny():
    run = subprocess.run([*BENCHMARK, "--cpu-smoke"], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    tables = {line.split(" | ")[0].strip("| "): line for line in lines if line.startswith("| the ")}
    assert "| CPU fp32 | CPU fp16 |" in tables["the whole filter"]
    assert "| PyTorch eager fp32 |" in tables["the model alone"]
    rows = [line for line in lines if line.startswith(("| 1024 px", "| 4K", "| 24 MP", "| 1080p"))]
    assert len(rows) == 3 * 4  # each picture in the filter, model and first-run tables
    assert all(" - |" not in row for row in rows), "a case was left out"
    assert "| 1080p stream, 64x36 x 3 frames |" in rows[3] and "frames/s" in rows[3]
    assert "against the CPU provider's fp32, in levels of 255" in run.stdout
    if cuda_problem():
        assert "CUDA, TensorRT and PyTorch on the GPU: not measured: " in run.stdout
    assert "wrote section" not in run.stdout
