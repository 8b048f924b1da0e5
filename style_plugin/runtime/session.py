"""onnxruntime sessions for style models: created once, cached, shared between threads.

`open_session(path, settings)` returns the same `ModelSession` for the same file (unchanged
on disk) and settings (and, for a graph cut short after one output, that output), so a host
calling the filter many times, or a batch running on several threads, pays the load once.
onnxruntime's `run` is thread-safe. Every run goes through IO binding, on the CPU as on a GPU:
each input reaches the provider's device once, the outputs stay there until one copy back.
A model file is untrusted input: onnxruntime sees it only after
`self_contained.check_self_contained` (docs/security.md).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from style_plugin.runtime.providers import (
    PROVIDER_CHOICES,
    ProviderReport,
    available_providers,
    create_session,
)
from style_plugin.runtime.self_contained import check_self_contained
from style_plugin.runtime.truncate import truncated_model
from style_plugin.user_dirs import user_cache_dir

__all__ = [
    "ModelSession",
    "SessionSettings",
    "clear_session_cache",
    "open_session",
]


@dataclass(frozen=True)
class SessionSettings:
    """How to run: `device` (auto|cuda|tensorrt|cpu) and onnxruntime's CPU thread count.

    `threads` 0 lets onnxruntime use one thread per physical core; hosts that run several
    filters at once, or batches with several workers, may want fewer.
    """

    device: str = "auto"
    threads: int = 0
    #: onnxruntime's CPU memory arena keeps what a run allocated for the next run: faster for
    #: repeated whole images, but on tiled huge images it holds ~0.6 GB more at the peak
    #: (benchmarks/memory.py), so tiled runs use a session without it.
    memory_arena: bool = True

    def __post_init__(self) -> None:
        if self.device not in PROVIDER_CHOICES:
            raise ValueError(
                f"unknown device {self.device!r}; choose one of {', '.join(PROVIDER_CHOICES)}"
            )
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0 = one per core), not {self.threads}")


#: numpy types for the tensor types onnxruntime declares for inputs: a float16 input is fed
#: float16, whatever the caller's arrays hold.
_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
#: GPU providers run on the first GPU (their default device).
_DEVICE_ID = 0


class ModelSession:
    """One loaded style model: `run(outputs, feeds)` on the provider in `provider`."""

    def __init__(
        self, session: Any, provider: ProviderReport, path: Path, settings: SessionSettings
    ) -> None:
        self.session = session
        self.provider = provider
        self.path = path
        self.settings = settings
        inputs = [*session.get_inputs(), *session.get_overridable_initializers()]
        self.input_names = {i.name for i in inputs}
        self.input_types = {i.name: _NUMPY_TYPES.get(i.type) for i in inputs}
        self.output_names = [o.name for o in session.get_outputs()]
        #: Where inputs and outputs are bound: "cpu", or "cuda" for CUDA and TensorRT.
        self.device = "cpu" if provider.used == "cpu" else "cuda"

    def run(self, outputs: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run the model on host arrays and return host arrays (thread-safe).

        Each input is put on the provider's device once, in the type the model declares for
        it; the outputs are bound on the device and copied back once. On the CPU input values
        wrap the (contiguous) arrays and output arrays wrap onnxruntime's memory: no copies.
        """
        from onnxruntime import OrtValue

        values = {  # held until the run ends: on the CPU they borrow the arrays' memory
            name: OrtValue.ortvalue_from_numpy(
                np.ascontiguousarray(value, dtype=self.input_types.get(name)),
                self.device,
                _DEVICE_ID,
            )
            for name, value in feeds.items()
        }
        binding = self.session.io_binding()
        for name, value in values.items():
            binding.bind_ortvalue_input(name, value)
        for name in outputs:
            binding.bind_output(name, self.device, _DEVICE_ID)
        self.session.run_with_iobinding(binding)
        if self.device == "cpu":  # already in host memory: the arrays take it over, no copy
            return [value.numpy() for value in binding.get_outputs()]
        return binding.copy_outputs_to_cpu()


_CACHE: dict[tuple[Any, ...], ModelSession] = {}
_CACHE_LOCK = threading.Lock()


def open_session(
    path: str | Path, settings: SessionSettings | None = None, until: str | None = None
) -> ModelSession:
    """The cached session for `path` under `settings`; a changed file is loaded afresh.

    With `until`, the session runs only the part of the graph that output needs
    (runtime/truncate.py). Raises ModelError for a file that keeps tensors in other files
    or is not protobuf, and whatever onnxruntime raises for one that is not a model;
    `load_model` turns the latter into a one-line ModelError.
    """
    settings = settings or SessionSettings()
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, settings, until)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = _CACHE[key] = _load(path, settings, until)
        return cached


def clear_session_cache() -> None:
    """Forget every cached session (their memory is freed once no caller holds them)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _load(path: Path, settings: SessionSettings, until: str | None) -> ModelSession:
    check_self_contained(path)
    available_providers()  # the first import of onnxruntime, with what it prints captured
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: no notes about optional inputs
    options.intra_op_num_threads = settings.threads
    options.enable_cpu_mem_arena = settings.memory_arena
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    cache = user_cache_dir() / "tensorrt"
    provider_options = {
        "tensorrt": {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(cache)}
    }
    model = str(path) if until is None else truncated_model(path, until)
    session, report = create_session(model, settings.device, options, provider_options)
    return ModelSession(session, report, path, settings)
