"""Checkpoints: written atomically, read back with `weights_only=True` (no pickled code runs)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from style_plugin.atomic import atomic_path
from style_plugin.contract import MAX_STYLES, style_problem
from style_plugin.errors import TrainingError, one_line
from style_plugin.training.config import TrainConfig

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT_VERSION = 1


def checkpoint_path(run_dir: str | Path) -> Path:
    """Where a run folder keeps its latest checkpoint."""
    return Path(run_dir) / CHECKPOINT_NAME


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write `state` to `path` via a temporary file, so a crash never leaves half a checkpoint."""
    with atomic_path(path) as tmp:
        torch.save({"format_version": FORMAT_VERSION, **state}, tmp)


def compact_state(state: dict[str, Any]) -> dict[str, Any]:
    """A smaller checkpoint to carry a long run between machines (e.g. kept in a repository):
    the generator exactly, its optimiser's moments and the discriminator in bf16, without the
    discriminator's optimiser (Adam restarts its moments there). Resuming from it continues the
    same run, no longer bit for bit; for `fast` it is about a quarter of the full file."""

    def smaller(value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value.to(torch.bfloat16)
        if isinstance(value, dict):  # Adam's step counter stays exact (bf16 stops at 256)
            return {k: v if k == "step" else smaller(v) for k, v in value.items()}
        return value

    compact = {k: v for k, v in state.items() if k != "opt_d"}
    compact["opt_g"] = {**state["opt_g"], "state": smaller(state["opt_g"]["state"])}
    compact["discriminator"] = smaller(state["discriminator"])
    compact["compact"] = True
    return compact


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint file, or a run folder's latest one; one-line TrainingError if unusable."""
    path = Path(path)
    if path.is_dir():
        path = checkpoint_path(path)
    if not path.is_file():
        raise TrainingError(f"no checkpoint at {path}")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickles before refusing
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged or foreign file
        if "Weights only load failed" in str(exc):
            reason = "it holds Python objects that only unsafe unpickling could load"
        else:
            reason = one_line(exc)
        raise TrainingError(f"cannot read checkpoint {path}: {reason}") from None
    problem = _structure_problem(state)
    if problem:
        raise TrainingError(f"{path} is not a usable style-plugin checkpoint: {problem}")
    return state


#: Parts of a checkpoint that are state dicts of tensors (the generator is always there).
_TENSOR_DICTS = ("generator", "discriminator")
#: Parts that are plain dicts when present (optimiser and scaler states, losses).
_DICTS = ("opt_g", "opt_d", "scaler_g", "scaler_d", "losses", "cadence")


def _structure_problem(state: Any) -> str | None:
    """What is wrong with a loaded checkpoint's structure, or None: a file that unpickles
    safely can still hold anything, and a wrong type must be one line, not a traceback."""
    if not isinstance(state, dict) or "generator" not in state or "config" not in state:
        return "it lacks the generator or the configuration"
    for key in _TENSOR_DICTS:
        part = state.get(key, {})
        if not isinstance(part, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in part.items()
        ):
            return f"its {key!r} is not a dict of tensors"
    for key in _DICTS:
        if not isinstance(state.get(key, {}), dict):
            return f"its {key!r} is not a dict"
    if not isinstance(state["config"], dict):
        return "its configuration is not a dict"
    try:
        TrainConfig.from_dict(state["config"])
    except TrainingError as exc:
        return str(exc)
    names = state.get("style_names")
    if (
        not isinstance(names, list | tuple)
        or not 0 < len(names) <= MAX_STYLES
        or not all(isinstance(n, str) for n in names)
    ):
        return f"its style names are not a list of 1 to {MAX_STYLES} strings"
    labels = state.get("style_labels", {})
    if not isinstance(labels, dict) or not all(
        n in names and isinstance(label, str) and label for n, label in labels.items()
    ):
        return "its style labels are not texts for its styles"
    problem = _style_names_problem(names, labels)
    if problem:
        return problem
    cadence = state.get("cadence", {}).values()
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in cadence):
        return "its checkpoint, preview and log intervals are not whole numbers >= 1"
    step = state.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        return "its step is not a whole number >= 0"
    return None


def _style_names_problem(names: list[str], labels: dict[str, str]) -> str | None:
    """What keeps a model from holding these styles, by the style-model contract's rules (the
    runtime would refuse the exported model), or None."""
    seen: set[str] = set()
    for name in names:
        problem = style_problem(name, labels.get(name))
        if problem:
            return f"it has a {problem}"
        if name in seen:
            return f"it names style {name!r} twice"
        seen.add(name)
    return None
