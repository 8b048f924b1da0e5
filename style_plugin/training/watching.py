"""What someone waiting on a training is told: the time it has left (`RemainingTime`), how
long a new style takes on this machine before one starts (`expected_time`, from the speed the
last `add-style` measured here, `MeasuredSpeed`), and where a new style's live preview is
drawn (`live_preview_path`).

No PyTorch here: the editors' plug-ins read these too.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from style_plugin.atomic import atomic_write_text
from style_plugin.training.config import TrainConfig
from style_plugin.user_dirs import user_models_dir, user_runs_dir

__all__ = [
    "LIVE_PREVIEW_EVERY",
    "LIVE_PREVIEW_SIDE",
    "MEASURED_STEPS",
    "TYPICAL_LAPTOP_STEPS_PER_S",
    "MeasuredSpeed",
    "RemainingTime",
    "expected_time",
    "last_speed",
    "live_preview_path",
    "record_speed",
    "speed_file",
    "time_left_text",
]

#: The longest side of a live preview, in pixels.
LIVE_PREVIEW_SIDE = 512
#: Steps between live previews unless told (and one at the last step).
LIVE_PREVIEW_EVERY = 50
#: How much each new step's duration moves the pace (an exponential moving average): the
#: last ten steps or so count, so the first steps' warm-up fades out of the estimate.
PACE_SMOOTHING = 0.2
#: Steps a run must have timed (after its first) for its speed to be kept for the next one.
MEASURED_STEPS = 5
#: Steps per second of `add-style` (4 crops of 256 px, trunk tuned) on a typical 2-core
#: laptop CPU: 600 steps in 12 to 30 minutes (docs/training.md).
TYPICAL_LAPTOP_STEPS_PER_S = (600 / (30 * 60), 600 / (12 * 60))


class RemainingTime:
    """The seconds a run has left, from the pace of its recent steps.

    `update(step, total, now)` is called as the run starts (its first step number) and after
    each step. The first step's duration (which includes warm-up: lazy set-up, the first
    allocations) gives the first estimate; the second replaces it, and from then on each
    step moves the pace by `PACE_SMOOTHING` of its difference, so the estimate follows the
    machine as it speeds up or slows down rather than the whole run's mean.
    """

    def __init__(self) -> None:
        self._last: tuple[int, float] | None = None  # (step, time) of the last update
        self._timed = 0  # steps timed so far
        #: Seconds per step, as measured so far; None before the first step ends.
        self.pace: float | None = None

    def update(self, step: int, total: int, now: float) -> float | None:
        """Seconds left after `step` of `total` at time `now` (seconds, any clock); None
        until a step has been timed."""
        if self._last is not None and step > self._last[0]:
            duration = (now - self._last[1]) / (step - self._last[0])
            self._timed += 1
            if self.pace is None or self._timed == 2:
                self.pace = duration
            else:
                self.pace += PACE_SMOOTHING * (duration - self.pace)
        self._last = (step, now)
        if self.pace is None:
            return None
        return max(0.0, self.pace * (total - step))


def time_left_text(seconds: float) -> str:
    """`seconds` as a person says it: 'less than a minute left', 'about 12 minutes left',
    'about 2 hours left' (whole minutes up to 90, whole hours above)."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "less than a minute left"
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes > 1 else ''} left"
    return f"about {round(minutes / 60)} hours left"


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


@dataclass(frozen=True)
class MeasuredSpeed:
    """The speed of the last `add-style` training on this machine: `steps_per_s` over its
    steps after the first, on `device`, with batches of `batch_size` crops of `crop_size`."""

    steps_per_s: float
    device: str
    crop_size: int
    batch_size: int


def speed_file() -> Path:
    """Where the last measured speed is kept: the user data folder (beside the user models
    and runs folders)."""
    return user_models_dir().parent / "training-speed.json"


def record_speed(speed: MeasuredSpeed) -> None:
    """Keep `speed` for the next estimate (written whole or not at all)."""
    atomic_write_text(speed_file(), json.dumps(asdict(speed)) + "\n")


def last_speed() -> MeasuredSpeed | None:
    """The kept speed, or None where none was measured (or the file is not one of ours)."""
    try:
        data = json.loads(speed_file().read_text(encoding="utf-8"))
        speed = MeasuredSpeed(
            steps_per_s=float(data["steps_per_s"]),
            device=str(data["device"]),
            crop_size=int(data["crop_size"]),
            batch_size=int(data["batch_size"]),
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not (math.isfinite(speed.steps_per_s) and speed.steps_per_s > 0):
        return None
    return speed


def expected_time(
    steps: int, crop_size: int = TrainConfig.crop_size, batch_size: int = TrainConfig.batch_size
) -> str:
    """One line on how long `steps` steps of `batch_size` crops of `crop_size` (a new
    style's, unless given) take here: the last measured speed on this machine where it was
    of such steps, else the typical laptop's CPU and that an estimate follows the first
    steps."""
    speed = last_speed()
    if speed is not None and (speed.crop_size, speed.batch_size) == (crop_size, batch_size):
        minutes = _minutes(steps / speed.steps_per_s)
        return (
            f"{steps} steps take about {minutes} minute{'s' if minutes > 1 else ''} here "
            f"(measured in the last training on this machine, on {speed.device})."
        )
    slow, fast = TYPICAL_LAPTOP_STEPS_PER_S
    return (
        f"{steps} steps take {_minutes(steps / fast)} to {_minutes(steps / slow)} minutes on "
        "a typical 2-core laptop CPU (less on a GPU); an estimate for this machine appears "
        "after the first steps."
    )


def live_preview_path(name: str) -> Path:
    """Where `add-style --preview` draws new style `name` on the chosen photo: beside its run
    in the user runs folder."""
    return user_runs_dir() / f"{name}-preview.png"
