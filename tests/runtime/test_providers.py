"""Execution providers (style_plugin/runtime/providers.py): CUDA failures explained in one
sentence, and a fall back to the CPU that says why."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

from style_plugin.runtime.providers import ProviderReport, explain_cuda_failure


def test_cuda_failures_are_explained_in_one_sentence():
    raw = (
        "\x1b[1;31m2026-11-25 [E:onnxruntime:Default, provider_bridge_ort.cc:2458 operator()] "
        "Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: "
        "cannot open shared object file: No such file or directory\x1b[m"
    )
    assert explain_cuda_failure(raw) == (
        "the CUDA and cuDNN libraries onnxruntime-gpu needs are not installed"
    )
    assert explain_cuda_failure("CUDA failure 100: no CUDA-capable device is detected") == (
        "no NVIDIA GPU found"
    )
    odd = explain_cuda_failure("[E:onnxruntime:x] Failed to frobnicate")
    assert odd == "CUDA could not start: Failed to frobnicate"
    report = ProviderReport("auto", "cpu", "no NVIDIA GPU found")
    assert report.describe() == "provider: cpu (cuda not used: no NVIDIA GPU found)"
    assert ProviderReport("cpu", "cpu").describe() == "provider: cpu"


def test_asking_for_cuda_without_a_gpu_falls_back_with_a_reason_and_no_raw_errors(
    style_model, tmp_path
):
    code = (
        "from style_plugin.runtime.model import load_model\n"
        f"m = load_model({str(style_model)!r}, device='cuda')\n"
        "print(m.session.provider.describe())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    if "provider: cuda" in line:
        pytest.skip("this machine has a working CUDA provider")
    assert line.startswith("provider: cpu (cuda not used: ") and line.count("\n") == 0
    assert "[E:onnxruntime" not in result.stderr and "libcublas" not in result.stderr


#: Stylizes a small image in a fresh process and prints the GPU libraries it mapped.
_STYLIZE_AND_LIST_GPU_LIBRARIES = """
import re, sys
from PIL import Image
import style_plugin
image = Image.new("RGB", (64, 48), (120, 80, 40))
style_plugin.stylize(image, model=sys.argv[1], device=sys.argv[2])
maps = open("/proc/self/maps").read()
print(sorted(set(re.findall(r"lib(?:cublas|cublasLt|cudnn|cudart)[\\w.]*\\.so[\\w.]*", maps))))
"""


def _nvidia_driver_present() -> bool:
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
@pytest.mark.parametrize("device", ["auto", "cuda", "tensorrt"])
def test_without_an_nvidia_driver_no_gpu_library_is_loaded(style_model, device):
    if _nvidia_driver_present():
        pytest.skip("this machine has an NVIDIA driver: GPU libraries may load")
    result = subprocess.run(
        [sys.executable, "-c", _STYLIZE_AND_LIST_GPU_LIBRARIES, str(style_model), device],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n", (
        f"GPU libraries mapped on a machine without a driver: {result.stdout}"
    )
    assert result.stderr == ""
