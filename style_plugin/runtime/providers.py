"""Which onnxruntime execution provider runs a style model, and in plain words why.

onnxruntime-gpu lists the CUDA provider whether or not this machine can run it, and when it
cannot, it prints raw loader errors ("libcublasLt.so.13: cannot open shared object file") and
quietly runs on the CPU. Some go to stderr (its C++ logger), some to stdout (Python prints in
`preload_dlls`), where they would spoil a command's JSON. Here onnxruntime is imported, asked
for its providers and given a session with both streams captured, native and Python; the
providers a session really got are read back, and what went wrong becomes one short sentence.

GPU providers are tried only where the NVIDIA driver answers (its library loads and finds a
GPU): asking onnxruntime for CUDA maps cuBLAS, cuDNN and the CUDA runtime into the process
(hundreds of MB) even when it then falls back to the CPU.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PROVIDER_CHOICES",
    "ProviderReport",
    "available_providers",
    "create_session",
    "explain_cuda_failure",
    "nvidia_driver_problem",
]

#: What users may ask for (`--device`). `auto` = CUDA when it really works here, else CPU.
PROVIDER_CHOICES = ("auto", "cuda", "tensorrt", "cpu")

_ORT_NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
_SHORT_NAMES = {v: k for k, v in _ORT_NAMES.items()}
_CAPTURE_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProviderReport:
    """The provider a session really runs on, what was asked for, and why they differ."""

    requested: str
    used: str
    reason: str | None = None

    def describe(self) -> str:
        """One line for people, e.g. 'provider: cpu (cuda not used: no NVIDIA GPU found)'."""
        line = f"provider: {self.used}"
        if self.reason:
            wanted = "cuda" if self.requested == "auto" else self.requested
            line += f" ({wanted} not used: {self.reason})"
        return line


def _wanted(requested: str) -> list[str]:
    """Provider names to try, best first; CPU always last as the fallback."""
    if requested not in PROVIDER_CHOICES:
        raise ValueError(
            f"unknown device {requested!r}; choose one of {', '.join(PROVIDER_CHOICES)}"
        )
    order = {"auto": ["cuda"], "cuda": ["cuda"], "tensorrt": ["tensorrt", "cuda"], "cpu": []}
    return [*order[requested], "cpu"]


def create_session(
    model: str | bytes,
    requested: str,
    options: Any,
    provider_options: dict[str, dict] | None = None,
) -> tuple[Any, ProviderReport]:
    """An onnxruntime InferenceSession on the best provider that really works.

    GPU providers are tried only when this onnxruntime build has them and the NVIDIA driver
    finds a GPU; their native error output is captured and turned into
    `ProviderReport.reason`, never shown raw.
    """
    available = set(available_providers())
    import onnxruntime as ort  # imported quietly by available_providers

    wanted = _wanted(requested)
    gpu = [name for name in wanted if name != "cpu" and _ORT_NAMES[name] in available]
    missing_reason = None
    if requested in ("cuda", "tensorrt") and not gpu:
        missing_reason = "this onnxruntime build has no GPU support (install onnxruntime-gpu)"
    elif gpu and (no_driver := nvidia_driver_problem()):
        gpu, missing_reason = [], no_driver
    provider_options = provider_options or {}
    providers = [(_ORT_NAMES[n], provider_options.get(n, {})) for n in [*gpu, "cpu"]]
    if not gpu:
        session = ort.InferenceSession(model, options, providers=providers)
        return session, ProviderReport(requested, "cpu", missing_reason)
    with _captured_output() as captured:
        _preload_gpu_libraries(ort)
        session = ort.InferenceSession(model, options, providers=providers)
    got = [_SHORT_NAMES.get(p, p) for p in session.get_providers()]
    used = got[0] if got else "cpu"
    reason = None
    if used == "cpu" and requested != "cpu":
        reason = explain_cuda_failure(captured.text())
    elif requested == "tensorrt" and used != "tensorrt":
        reason = explain_cuda_failure(captured.text(), gpu="TensorRT")
    return session, ProviderReport(requested, used, reason)


def available_providers() -> list[str]:
    """The execution providers this onnxruntime build lists, best first. onnxruntime is
    imported and asked with its output captured: onnxruntime-gpu may print while loading."""
    with _captured_output():
        import onnxruntime as ort

        return ort.get_available_providers()


_DRIVER_LIBRARY = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
_CUDA_ERROR_NO_DEVICE = 100


@functools.cache
def nvidia_driver_problem() -> str | None:
    """None when the NVIDIA driver loads and reports a GPU, else why not, in a few words.

    Asks the driver itself (cuInit, cuDeviceGetCount) without loading any CUDA toolkit
    library, so it costs a few milliseconds and maps nothing where there is no driver.
    """
    try:
        driver = ctypes.CDLL(_DRIVER_LIBRARY)
    except OSError:
        return f"no NVIDIA driver found ({_DRIVER_LIBRARY.removesuffix('.1')} is missing)"
    count = ctypes.c_int(0)
    status = driver.cuInit(0) or driver.cuDeviceGetCount(ctypes.byref(count))
    if status == _CUDA_ERROR_NO_DEVICE or (status == 0 and count.value < 1):
        return "no NVIDIA GPU found"
    if status:
        return f"the NVIDIA driver did not start (CUDA error {status})"
    return None


def _preload_gpu_libraries(ort: Any) -> None:
    """Let onnxruntime find CUDA/cuDNN installed as pip packages (onnxruntime >= 1.21)."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        with contextlib.suppress(Exception):
            preload()


_NO_GPU_LIBRARIES = "the CUDA and cuDNN libraries onnxruntime-gpu needs are not installed"
_EXPLANATIONS: tuple[tuple[str, str], ...] = (
    (r"no CUDA-capable device|cudaErrorNoDevice|CUDA failure 100", "no NVIDIA GPU found"),
    (
        r"driver version is insufficient|CUDA failure 35",
        "the NVIDIA driver is too old for this CUDA",
    ),
    (r"libcuda\.so", "no NVIDIA driver found (libcuda.so is missing)"),
    (r"libnvinfer", "the TensorRT libraries are not installed"),
    (r"lib(cudart|cublas|cublasLt|cudnn|cufft|curand)[\w.]*: cannot open", _NO_GPU_LIBRARIES),
    (r"out of memory", "the GPU is out of memory"),
)


def explain_cuda_failure(log: str, gpu: str = "CUDA") -> str:
    """One sentence on why a GPU provider could not be created, from onnxruntime's log text."""
    for pattern, sentence in _EXPLANATIONS:
        if re.search(pattern, log, flags=re.IGNORECASE):
            return sentence
    for line in log.splitlines():
        if "Failed" in line or "error" in line.lower():
            text = re.sub(r"^.*?\] ", "", re.sub(r"\x1b\[[0-9;]*m", "", line)).strip()
            return f"{gpu} could not start: {text[:160]}"
    return f"{gpu} could not start on this machine"


class _Captured:
    """What was written while captured: native bytes, then Python text."""

    def __init__(self) -> None:
        self.data = b""
        self.python = ""

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace") + self.python


@contextlib.contextmanager
def _captured_output() -> Iterator[_Captured]:
    """Redirect file descriptors 1 and 2 (native code, onnxruntime's C++ logger) and Python's
    sys.stdout and sys.stderr (onnxruntime's prints and warnings) into a buffer."""
    captured = _Captured()
    python = io.StringIO()
    with _CAPTURE_LOCK, tempfile.TemporaryFile() as sink:
        _flush_streams()
        saved = {fd: os.dup(fd) for fd in (1, 2)}
        for fd in saved:
            os.dup2(sink.fileno(), fd)
        try:
            with contextlib.redirect_stdout(python), contextlib.redirect_stderr(python):
                yield captured
        finally:
            _flush_streams()
            for fd, original in saved.items():
                os.dup2(original, fd)
                os.close(original)
            sink.seek(0)
            captured.data = sink.read()
            captured.python = python.getvalue()


def _flush_streams() -> None:
    """Flush Python's stdout and stderr, so that what they hold lands on the right side of a
    file-descriptor switch."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):  # None or closed in hosts
            stream.flush()
