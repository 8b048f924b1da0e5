"""Running a batch behind `style-plugin stylize` and `filter`: many files in, one report out.

`run_batch` decodes and encodes on a small thread pool while the job (see `jobs`) runs on
one thread (onnxruntime already uses every core), with at most about `jobs + 1` decoded
images in memory. Inputs come from `inputs.collect_inputs`, outputs from
`outputs.plan_outputs`; every item that cannot be done is reported with a one-line reason
and the batch goes on; writes are atomic (`write_output`), so a failure or Ctrl-C never
leaves a partial file. The Ray engine (style_plugin/distributed) keeps its books with the
same `Ledger` and writes with the same `encode_output` / `write_output`.

Only numpy, Pillow, the standard library and the runtime modules here: no torch.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from PIL import Image

from style_plugin.errors import Cancelled
from style_plugin.runtime.inputs import InputItem
from style_plugin.runtime.jobs import ImageJob
from style_plugin.runtime.options import BatchOptions
from style_plugin.runtime.outputs import OPAQUE_FORMATS, PlannedItem, plan_outputs
from style_plugin.runtime.reading import SourceImage, open_image
from style_plugin.runtime.report import BatchEvents, BatchReport, Problem, Reason, failure_reason
from style_plugin.runtime.writing import check_target, encode_image, write_encoded

__all__ = [
    "InputNotes",
    "Ledger",
    "encode_output",
    "format_refusal",
    "input_notes",
    "planned",
    "run_batch",
    "write_output",
]

#: What to tell about a decoded input beside its result, one line each (`StyleSettings.
#: no_effect_on`: the settings that change nothing on it).
InputNotes = Callable[[SourceImage], list[str]]


def run_batch(
    job: ImageJob,
    items: Sequence[InputItem] | Sequence[PlannedItem],
    options: BatchOptions,
    events: BatchEvents | None = None,
    cancel: Callable[[], bool] | None = None,
    *,
    verb: str = "stylized",
    notes: InputNotes | None = None,
) -> BatchReport:
    """Run `job` on every item; return what was done, skipped and why items failed.

    `items` come from `plan_outputs`, or from `collect_inputs` (planned here); `verb` names
    the work in the report; `notes` adds to each input's notes. Decoding and encoding run
    on `options.jobs` threads, overlapping the job, which runs on the calling thread one
    image at a time. Each item's failure is
    caught and reported; the batch goes on. `cancel()` returning True (a host's button)
    stops between images or tiles with `report.cancelled` set; KeyboardInterrupt stops as
    promptly, lets writes already under way finish (they are atomic), and propagates.
    Nothing partial is ever left behind.
    """
    runner = _Runner(job, options, events or BatchEvents(), cancel, verb, notes)
    return runner.run(planned(items, options))


def planned(
    items: Sequence[InputItem] | Sequence[PlannedItem], options: BatchOptions
) -> list[PlannedItem]:
    """`items` as planned items: as they are, or planned here from `collect_inputs`'s."""
    plans = [item for item in items if isinstance(item, PlannedItem)]
    if len(plans) < len(items):
        if plans:
            raise TypeError("a batch takes planned items or unplanned ones, not a mix")
        plans = plan_outputs(list(items), options)
    return plans


class Ledger:
    """A batch's bookkeeping: each item's end goes into the report and out to the events."""

    def __init__(self, events: BatchEvents, verb: str) -> None:
        self.events = events
        self.report = BatchReport(verb=verb)

    def finish(self, plan: PlannedItem, status: str, detail: str) -> None:
        """Record that `plan` is 'done', 'skipped' or 'failed' (`detail`: output or reason)."""
        path = plan.item.path
        if status == "failed":
            self.report.failed.append((path, detail))
        else:
            assert plan.output is not None
            outcome = self.report.done if status == "done" else self.report.skipped
            outcome.append((path, plan.output))
        self.events.finished(path, status, detail)

    def fail(self, plan: PlannedItem, exc: BaseException) -> None:
        """Record that `plan` failed with `exc`, as one line."""
        self.finish(plan, "failed", failure_reason(exc, plan.item.path))

    def settle(self, plan: PlannedItem) -> bool:
        """Record a plan that needs no work (it cannot be done, or is skipped); False if it
        does need work."""
        if plan.error is not None:
            self.finish(plan, "failed", plan.error)
        elif plan.skip:
            self.finish(plan, "skipped", str(plan.output))
        else:
            return False
        return True

    def note(self, path: Path, notes: Sequence[str]) -> None:
        """Tell and keep what is worth knowing about one input besides its result."""
        for note in notes:
            message = f"{path}: {note}"
            self.report.notes.append(message)
            self.events.note(message)


def input_notes(decoded: SourceImage, verb: str, more: InputNotes | None = None) -> list[str]:
    """What to tell about one input besides its result: frames left out, Pillow's warnings,
    and what `more` adds."""
    notes = list(decoded.notes)
    if decoded.frames_dropped:
        count = decoded.frames_dropped + 1
        notes.insert(0, f"{count} frames; {verb} the first only")
    return notes + (more(decoded) if more is not None else [])


def format_refusal(plan: PlannedItem, decoded: SourceImage) -> Reason | None:
    """Why `plan`'s output format cannot hold `decoded` (transparency into JPEG), before any
    work is spent on it; None when it can."""
    if plan.format in OPAQUE_FORMATS and not decoded.opaque:
        return Reason(f"{plan.format} cannot store its transparency", Problem.TRANSPARENCY_LOST)
    return None


def encode_output(image: Image.Image, plan: PlannedItem, options: BatchOptions) -> bytes:
    """The bytes of `plan`'s output file holding `image` (its format; quality where it has one)."""
    assert plan.output is not None and plan.format is not None
    quality = options.quality if plan.format in ("JPEG", "WEBP") else None
    return encode_image(image, plan.format, quality=quality, name=plan.output)


def write_output(data: bytes, plan: PlannedItem, options: BatchOptions) -> Path:
    """Write `plan`'s output atomically: never onto its input, nor onto an existing file
    unless `options.overwrite`."""
    assert plan.output is not None
    check_target(plan.output, plan.item.path, options.overwrite)
    return write_encoded(data, plan.output, overwrite=options.overwrite)


class _Failed:
    """A decode that did not work, carried from a worker thread to the main loop."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Runner:
    """One batch run: the decode-ahead queue, the job on this thread, saves on the pool."""

    def __init__(
        self,
        job: ImageJob,
        options: BatchOptions,
        events: BatchEvents,
        cancel: Callable[[], bool] | None,
        verb: str,
        notes: InputNotes | None,
    ) -> None:
        self.job = job
        self.options = options
        self.events = events
        self.cancel = cancel
        self.notes = notes
        self.limit = options.jobs + 1  # images decoded or being saved at once
        self.stop = threading.Event()
        self.ledger = Ledger(events, verb)
        self.report = self.ledger.report
        self.started = time.perf_counter()

    def cancelled(self) -> bool:
        if self.stop.is_set():
            return True
        if self.cancel is not None and self.cancel():
            self.report.cancelled = True
            self.stop.set()
            return True
        return False

    # worker-thread tasks -------------------------------------------------------------------

    def _decode(self, plan: PlannedItem) -> SourceImage | _Failed | None:
        if self.stop.is_set():
            return None
        try:
            return open_image(
                plan.item.path,
                allow_large=self.options.allow_large,
                draft_side=self.options.draft_side,
            )
        except Exception as exc:  # reported per item; the batch goes on
            return _Failed(exc)

    def _encode(self, plan: PlannedItem, image: Image.Image) -> Path:
        return write_output(encode_output(image, plan, self.options), plan, self.options)

    # main thread ---------------------------------------------------------------------------

    def saved(self, plan: PlannedItem, future: Future) -> None:
        """Report a finished save: done, or failed with its reason."""
        try:
            future.result()
        except Exception as exc:
            self.ledger.fail(plan, exc)
        else:
            self.ledger.finish(plan, "done", str(plan.output))

    def collect_saves(self, saving: dict[Future, PlannedItem], block: bool) -> None:
        if not saving:
            return
        finished, _ = wait(list(saving), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        for future in finished:
            self.saved(saving.pop(future), future)

    def collect_finished(self, saving: dict[Future, PlannedItem]) -> None:
        """Account for writes that completed while stopping (they are whole files)."""
        for future in list(saving):
            if future.done() and not future.cancelled():
                self.saved(saving.pop(future), future)

    def fill(
        self,
        queue: deque[PlannedItem],
        pending: deque[tuple[PlannedItem, Future]],
        saving: dict[Future, PlannedItem],
        pool: ThreadPoolExecutor,
    ) -> None:
        """Start decodes ahead of the job, with at most jobs+1 images decoded or being saved;
        items that failed or are skipped before any work are reported as they come up."""
        while queue and len(pending) + len(saving) < self.limit and not self.cancelled():
            plan = queue.popleft()
            if not self.ledger.settle(plan):
                pending.append((plan, pool.submit(self._decode, plan)))

    def run(self, plans: list[PlannedItem]) -> BatchReport:
        queue = deque(plans)
        self.events.begin(len(queue))
        pending: deque[tuple[PlannedItem, Future]] = deque()
        saving: dict[Future, PlannedItem] = {}
        pool = ThreadPoolExecutor(self.options.jobs, thread_name_prefix="style-plugin-io")
        try:
            while True:
                self.fill(queue, pending, saving, pool)
                if pending and not self.cancelled():
                    plan, future = pending.popleft()
                    self.work(plan, future.result(), pool, saving)
                    self.collect_saves(saving, block=len(pending) + len(saving) >= self.limit)
                elif saving:
                    self.collect_saves(saving, block=True)
                elif self.stop.is_set() or not queue:
                    break
        finally:
            self.stop.set()  # decodes not yet started return at once
            pool.shutdown(wait=True, cancel_futures=True)  # writes under way finish whole
            self.collect_finished(saving)
            self.report.seconds = time.perf_counter() - self.started
            self.events.end(self.report)
        return self.report

    def work(
        self,
        plan: PlannedItem,
        decoded: SourceImage | _Failed | None,
        pool: ThreadPoolExecutor,
        saving: dict[Future, PlannedItem],
    ) -> None:
        """Run the job on one decoded image and start saving its result."""
        if decoded is None:  # stopped before decoding
            return
        if isinstance(decoded, _Failed):
            self.ledger.fail(plan, decoded.exc)
            return
        path = plan.item.path
        self.ledger.note(path, input_notes(decoded, self.report.verb, self.notes))
        refusal = format_refusal(plan, decoded)
        if refusal is not None:
            self.ledger.finish(plan, "failed", refusal)
            return
        self.events.working(path)
        try:
            image = self.job(decoded, self.events.tiles, self.cancelled)
        except Cancelled:
            self.report.cancelled = True
            self.stop.set()
            return
        except Exception as exc:
            self.ledger.fail(plan, exc)
            return
        saving[pool.submit(self._encode, plan, image)] = plan
