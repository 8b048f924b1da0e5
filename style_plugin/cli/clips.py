"""`stylize` for video clips: where each stylized clip goes, the progress bar in frames (with
frames/s and the time left), and the summary line. The work is style_plugin.video's, or on
`--engine ray` style_plugin.distributed's."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from style_plugin.cli.app import fail
from style_plugin.cli.progress import ProgressDisplay
from style_plugin.contract import printable
from style_plugin.errors import StylePluginError
from style_plugin.video.defaults import DEFAULT_CRF, DEFAULT_HOLD

if TYPE_CHECKING:
    from style_plugin.distributed.portable import PortableJob
    from style_plugin.runtime.settings import StyleSettings
    from style_plugin.runtime.stylizer import Style, Stylizer
    from style_plugin.video.render import ClipProgress, ClipResult

__all__ = ["ClipRequest", "clip_targets", "local_clips", "ray_clips", "run_clips"]

#: Without a progress bar (a log, a pipe), a progress line at most this often.
PLAIN_EVERY_S = 10.0


@dataclass(frozen=True)
class ClipRequest:
    """What the command line asks of its clips, besides the style (`hold` None: frame by
    frame)."""

    output: str | None = None
    suffix: str | None = None
    overwrite: bool = False
    skip_existing: bool = False
    hold: float | None = DEFAULT_HOLD
    crf: int = DEFAULT_CRF
    max_side: int | None = None
    allow_large: bool = False
    quiet: bool = False


#: How one clip is stylized: (source, target, progress) -> what was done.
ClipStylizer = Callable[[Path, Path, "ClipProgress"], "ClipResult"]


def local_clips(
    stylizer: Stylizer, style: Style, settings: StyleSettings, request: ClipRequest
) -> ClipStylizer:
    """Each clip stylized on this machine by `stylizer`, frame after frame."""
    from style_plugin.video.render import stylize_clip

    frame_settings = replace(settings, max_side=None)  # the reader scales frames down
    paint = functools.partial(stylizer.stylize_array, style=style, settings=frame_settings)

    def stylize_one(source: Path, target: Path, progress: ClipProgress) -> ClipResult:
        return stylize_clip(source, target, paint, progress=progress, **_clip_options(request))

    return stylize_one


def ray_clips(
    job: PortableJob, request: ClipRequest, chunk_frames: int, address: str | None
) -> ClipStylizer:
    """Each clip stylized on the Ray cluster at `address` in chunks of `chunk_frames`."""
    from style_plugin.distributed.clips import stylize_clip_on_ray

    def stylize_one(source: Path, target: Path, progress: ClipProgress) -> ClipResult:
        return stylize_clip_on_ray(
            job,
            source,
            target,
            progress=progress,
            chunk_frames=chunk_frames,
            address=address,
            **_clip_options(request),
        )

    return stylize_one


def _clip_options(request: ClipRequest) -> dict[str, Any]:
    """The keyword options of `stylize_clip` that `request` sets."""
    return {
        "hold": request.hold,
        "crf": request.crf,
        "overwrite": request.overwrite,
        "max_side": request.max_side,
        "allow_large": request.allow_large,
    }


def clip_targets(clips: list[Path], request: ClipRequest) -> list[Path]:
    """Each clip's output: beside it as NAME-stylized.EXT (`--suffix`), in an `-o` folder, or
    the one file `-o` names."""
    output = request.output
    folder = output is not None and (output.endswith(("/", "\\")) or Path(output).is_dir())
    if output is not None and not folder:
        if len(clips) > 1:
            fail(
                f"-o {output} names one file, but the inputs give {len(clips)} clips; "
                f"give a folder (-o {Path(output).with_suffix('')}/) to write them into"
            )
        return [Path(output)]
    targets = []
    for clip in clips:  # every clip suffix read is one written
        if folder:
            assert output is not None
            targets.append(Path(output) / (clip.stem + (request.suffix or "") + clip.suffix))
        else:
            added = "-stylized" if request.suffix is None else request.suffix
            targets.append(clip.with_name(clip.stem + added + clip.suffix))
    return targets


@dataclass
class _Tally:
    done: list[ClipResult] = field(default_factory=list)
    skipped: int = 0
    failed: int = 0

    def summary(self, seconds: float) -> str:
        """One line: 'stylized 1 clip (240 frames) in 31.2 s (7.69 frames/s); failed 1'."""
        count = len(self.done)
        frames = sum(result.frames for result in self.done)
        line = (
            f"stylized {count} clip{'' if count == 1 else 's'} ({frames} frames) in {seconds:.1f} s"
        )
        if frames and seconds > 0:
            line += f" ({frames / seconds:.2f} frames/s)"
        if self.skipped:
            line += f"; skipped {self.skipped}"
        if self.failed:
            line += f"; failed {self.failed}"
        return line


class _ClipProgress:
    """One clip's progress on a display: a bar in frames (rich gives the time left), or
    without a bar a line every `PLAIN_EVERY_S` seconds."""

    def __init__(self, display: ProgressDisplay, source: Path) -> None:
        self.display = display
        self.name = printable(str(source))
        self.started = False
        self.last_line = time.perf_counter()

    def __call__(self, done: int, expected: int | None, seconds: float) -> None:
        if not self.started:
            self.started = True
            if expected:
                self.display.start(expected)
            else:
                self.display.prepare(self.name)
        rate = done / seconds if seconds > 0 else 0.0
        self.display.update(done, rate=f"{rate:.2f} frames/s", current=self.name)
        now = time.perf_counter()
        if self.display.plain and now - self.last_line >= PLAIN_EVERY_S:
            self.last_line = now
            of = f"/{expected}" if expected else ""
            left = ""
            if expected and rate > 0 and done < expected:
                left = f", about {round((expected - done) / rate)} s left"
            self.display.tell(f"{self.name}: frame {done}{of}, {rate:.2f} frames/s{left}")


def run_clips(stylize_one: ClipStylizer, clips: list[Path], request: ClipRequest) -> None:
    """Stylize each clip into its target with `stylize_one`; a failure is one line and the
    rest go on; the summary line, then exit 1 when any failed."""
    from style_plugin.runtime.report import failure_reason

    tally = _Tally()
    started = time.perf_counter()
    claimed: dict[str, Path] = {}  # each output of this batch, by its real path: whose it is
    for source, target in zip(clips, clip_targets(clips, request), strict=True):
        if request.skip_existing and target.exists():
            tally.skipped += 1
            continue
        with ProgressDisplay(request.quiet, "stylizing") as display:
            try:
                owner = claimed.setdefault(os.path.realpath(target), source)
                if owner != source:  # --overwrite replaces earlier files, never this batch's
                    raise StylePluginError(
                        f"its output {printable(str(target))} is also the output of "
                        f"{printable(str(owner))}"
                    )
                result = stylize_one(source, target, _ClipProgress(display, source))
            except StylePluginError as exc:
                display.stop()
                display.show(f"failed: {source}: {failure_reason(exc, source)}")
                tally.failed += 1
                continue
            display.stop()
            for note in result.notes:
                display.tell(f"note: {source}: {note}")
            if result.cuts:
                cuts = f"{result.cuts} scene cut{'' if result.cuts == 1 else 's'}"
                display.tell(f"note: {source}: {cuts}; the strokes start afresh after each")
            tally.done.append(result)
    typer.echo(tally.summary(time.perf_counter() - started))
    if tally.failed:
        raise typer.Exit(1)
