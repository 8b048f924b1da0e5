"""The batch runner behind `style-plugin stylize` and `filter`: many files in, one report out.

`collect_inputs` turns command-line arguments (files, folders, glob patterns) into
`InputItem`s; `plan_outputs` decides where each result goes; `run_batch` decodes and encodes
on a small thread pool while the work itself (a `Stylizer`, or any `ImageJob` such as a
filter's apply) runs on one thread (onnxruntime already uses every core), with at most about
`jobs + 1` decoded images in memory. Every item that cannot be done is reported with a
one-line reason and the batch goes on; writes are atomic (`save_image`), so a failure or
Ctrl-C never leaves a partial file.

Only numpy, Pillow, the standard library and the runtime modules here: no torch.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from style_plugin.errors import Cancelled, StylePluginError
from style_plugin.runtime.images import SourceImage, open_image, save_image
from style_plugin.runtime.stylizer import Stylizer

__all__ = [
    "OUTPUT_FORMATS",
    "BatchEvents",
    "BatchOptions",
    "BatchReport",
    "ImageJob",
    "InputItem",
    "PlannedItem",
    "collect_inputs",
    "image_extensions",
    "plan_outputs",
    "run_batch",
    "stylize_job",
]

#: `--format` names -> (Pillow format, extension). "jpg" and "tif" are accepted too.
OUTPUT_FORMATS: dict[str, tuple[str, str]] = {
    "png": ("PNG", ".png"),
    "jpeg": ("JPEG", ".jpg"),
    "webp": ("WEBP", ".webp"),
    "tiff": ("TIFF", ".tif"),
}
_FORMAT_ALIASES = {"jpg": "jpeg", "tif": "tiff"}
#: Input formats whose own format (and extension) the output keeps; others are written as PNG
#: (GIF would be palette-quantised, most of the rest are rarely wanted as outputs).
_KEPT_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "TIFF", "BMP"})
#: Pillow plugins that only identify files (or need external programs): not picked up when
#: scanning folders, though a file named explicitly is still tried.
_SCAN_EXCLUDED = frozenset({"BUFR", "GRIB", "HDF5", "MPEG", "WMF", "EPS"})

Style = str | Mapping[str, float] | None

#: The work done on each decoded image: job(source, progress, cancel) -> the result.
#: `progress(done, total)` reports steps within the image (tiles); `cancel()` returning True
#: asks it to stop (raising `Cancelled`).
ImageJob = Callable[[SourceImage, Callable[[int, int], None], Callable[[], bool]], Image.Image]


def _pillow_extensions() -> dict[str, str]:
    Image.init()
    return {ext.lower(): fmt for ext, fmt in Image.registered_extensions().items()}


def image_extensions() -> frozenset[str]:
    """Lower-case suffixes ('.png', ...) of the files picked up when scanning a folder."""
    return frozenset(
        ext
        for ext, fmt in _pillow_extensions().items()
        if fmt in Image.OPEN and fmt not in _SCAN_EXCLUDED
    )


# --------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class InputItem:
    """One file to stylize, or one argument that could not be used (`error` set).

    `path` is the file as the user can find it (the argument joined with what was found
    under it); `relative` is its path below the argument it came from (a folder, or a glob
    pattern's fixed leading folders), so that an output folder can mirror the input tree.
    `kind` says how it was named: 'file', 'folder' or 'glob'.
    """

    path: Path
    relative: Path
    kind: str = "file"
    error: str | None = None


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _scan_folder(folder: Path, recursive: bool, extensions: frozenset[str]) -> list[Path]:
    """Image files in `folder` (and below, if `recursive`), hidden files and folders left out."""
    found = []
    walker = folder.rglob("*") if recursive else folder.iterdir()
    for path in walker:
        relative = path.relative_to(folder)
        if _is_hidden(relative) or path.suffix.lower() not in extensions:
            continue
        if path.is_file():
            found.append(path)
    return found


def _glob_base(pattern: str) -> Path:
    """The leading folders of a pattern that hold no wildcard ('photos/2024' of 'photos/2024/*.jpg')."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.relative_to(base)
    except ValueError:
        return Path(path.name)


def _expand(argument: str, recursive: bool, extensions: frozenset[str]) -> list[InputItem]:
    """The items one command-line argument stands for (an item with `error` if none)."""
    path = Path(argument)
    if path.is_dir():
        files = _scan_folder(path, recursive, extensions)
        if not files:
            hint = "" if recursive else " (pass --recursive to look in sub-folders)"
            return [InputItem(path, Path(path.name), "folder", f"no image files in it{hint}")]
        return [InputItem(f, f.relative_to(path), "folder") for f in sorted(files)]
    if path.exists() or path.is_symlink():
        return [InputItem(path, Path(path.name), "file")]
    if not glob.has_magic(argument):
        return [InputItem(path, Path(path.name), "file", "no such file or folder")]
    base = _glob_base(argument)
    items = []
    matches = sorted(Path(m) for m in glob.glob(argument, recursive=True))
    for match in matches:
        if match.is_dir():
            items += [
                InputItem(f, _relative(f, base), "glob")
                for f in _scan_folder(match, recursive, extensions)
            ]
        elif match.suffix.lower() in extensions and match.is_file():
            items.append(InputItem(match, _relative(match, base), "glob"))
    if not items:
        what = "matches no image files" if matches else "matches no files"
        return [InputItem(path, Path(path.name), "glob", what)]
    return sorted(items, key=lambda item: item.relative.as_posix())


def collect_inputs(inputs: Iterable[str], recursive: bool = False) -> list[InputItem]:
    """Files to stylize from arguments that are files, folders or glob patterns.

    Folders give their image files (by Pillow's registered extensions; with `recursive`
    also those in sub-folders; hidden files are left out); patterns (`*`, `?`, `[...]`,
    `**`) are expanded recursively-aware. A file named explicitly is always tried, so a
    non-image named on purpose is reported rather than skipped. An argument that names
    nothing becomes one item with `error` set. Duplicates (the same file reached twice) are
    dropped; items keep the arguments' order, sorted within each argument.
    """
    extensions = image_extensions()
    seen: set[str] = set()
    items: list[InputItem] = []
    for argument in inputs:
        for item in _expand(str(argument), recursive, extensions):
            key = f"error:{item.path}" if item.error else os.path.realpath(item.path)
            if key in seen:
                continue
            seen.add(key)
            items.append(item)
    return items


# --------------------------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True)
class BatchOptions:
    """What to do with each image and where to put the result (see `style-plugin stylize`).

    `style`, `strength`, `preserve_colors` and `max_side` are what a `Stylizer` given to
    `run_batch` applies; other jobs (a filter) bring their own parameters. `output` None
    writes beside each input as `<stem><suffix><ext>` (`suffix` default `default_suffix`,
    '-stylized'); a folder mirrors the input tree (no suffix unless one is given); a file
    name (with an image suffix, not an existing folder) takes a single input. `format`
    is png|jpeg|webp|tiff (None: the input's own format where it can be written, else PNG).
    """

    style: Style = None
    strength: float = 1.0
    preserve_colors: bool = False
    max_side: int | None = None
    allow_large: bool = False
    output: Path | None = None
    output_is_dir: bool = False
    format: str | None = None
    quality: int | None = None
    suffix: str | None = None
    default_suffix: str = "-stylized"
    skip_existing: bool = False
    overwrite: bool = False
    jobs: int = 2

    def __post_init__(self) -> None:
        if self.overwrite and self.skip_existing:
            raise StylePluginError("--overwrite and --skip-existing contradict each other")
        if self.jobs < 1:
            raise StylePluginError(f"--jobs must be at least 1, not {self.jobs}")
        if self.quality is not None and not 1 <= self.quality <= 100:
            raise StylePluginError(f"--quality must be within 1..100, not {self.quality}")
        if self.format is not None:
            normalize_format(self.format)
        for suffix in (self.suffix, self.default_suffix):
            if suffix is not None and ("/" in suffix or os.sep in suffix):
                raise StylePluginError(f"--suffix must not contain a path separator: {suffix!r}")


def normalize_format(name: str) -> str:
    """'jpg' / 'JPEG' / '.jpeg' -> 'jpeg'; StylePluginError naming the choices otherwise."""
    key = name.lower().lstrip(".")
    key = _FORMAT_ALIASES.get(key, key)
    if key not in OUTPUT_FORMATS:
        raise StylePluginError(
            f"unknown --format {name!r}; choose one of {', '.join(OUTPUT_FORMATS)}"
        )
    return key


@dataclass
class PlannedItem:
    """An input with its output path and format, or why it is skipped or cannot be done."""

    item: InputItem
    output: Path | None = None
    format: str | None = None
    error: str | None = None
    skip: bool = False


def _output_format(source_suffix: str, wanted: str | None) -> tuple[str, str | None]:
    """(Pillow format, new extension or None to keep the input's) for one input."""
    if wanted is not None:
        fmt, ext = OUTPUT_FORMATS[normalize_format(wanted)]
        return fmt, ext
    fmt = _pillow_extensions().get(source_suffix.lower())
    if fmt in _KEPT_FORMATS:
        return fmt, None
    return "PNG", ".png"


def _single_file_target(items: list[InputItem], options: BatchOptions) -> bool:
    """Whether `-o` names the one output file (rather than a folder)."""
    out = options.output
    if out is None or options.output_is_dir or out.is_dir():
        return False
    if out.suffix.lower() not in _pillow_extensions():
        return False
    usable = [item for item in items if item.error is None]
    from_folder = any(item.kind == "folder" for item in usable)
    if len(usable) <= 1 and not from_folder:
        return True
    found = f"{len(usable)} image{'' if len(usable) == 1 else 's'}"
    raise StylePluginError(
        f"-o {out} names one file, but the inputs give {found}"
        + (" from a folder" if from_folder else "")
        + f"; give a folder (e.g. -o {out.with_suffix('')}/) to write them into"
    )


def plan_outputs(items: list[InputItem], options: BatchOptions) -> list[PlannedItem]:
    """Where each input's result goes, and which items are skipped or fail before any work.

    Fails (per item, the batch goes on): an output that is an input of this batch, two
    inputs mapping to one output (the second fails), an existing output without
    `overwrite` / `skip_existing`. StylePluginError (before any work) for `-o FILE` with
    several inputs, or a file name whose suffix disagrees with `format`.
    """
    single = _single_file_target(items, options)
    inputs = {os.path.realpath(item.path) for item in items if item.error is None}
    taken: dict[str, Path] = {}
    planned = []
    for item in items:
        plan = PlannedItem(item)
        planned.append(plan)
        if item.error is not None:
            plan.error = item.error
            continue
        fmt, ext = _output_format(item.path.suffix, options.format)
        if single:
            assert options.output is not None
            target = options.output
            fmt = _pillow_extensions()[target.suffix.lower()]
            if (
                options.format is not None
                and OUTPUT_FORMATS[normalize_format(options.format)][0] != fmt
            ):
                raise StylePluginError(
                    f"--format {options.format} does not match the output file name {target}"
                )
            if fmt not in Image.SAVE:
                raise StylePluginError(
                    f"cannot write {fmt} files ({target}); use png, jpeg, webp or tiff"
                )
        elif options.output is not None:
            relative = item.relative
            suffix = options.suffix or ""
            target = options.output / relative.with_name(
                relative.stem + suffix + (ext or relative.suffix)
            )
        else:
            suffix = options.default_suffix if options.suffix is None else options.suffix
            target = item.path.with_name(item.path.stem + suffix + (ext or item.path.suffix))
        plan.output, plan.format = target, fmt
        key = os.path.realpath(target)
        if key in inputs:
            if target.exists() and options.skip_existing:
                plan.skip = True
            elif key == os.path.realpath(item.path):
                plan.error = f"refusing to write onto the input itself ({target})"
            else:
                plan.error = (
                    f"its output {target} is another input of this batch; change --suffix or -o"
                )
            continue
        if key in taken:
            plan.error = (
                f"its output {target} is also the output of {taken[key]}; "
                "pass --format or -o to tell them apart"
            )
            continue
        taken[key] = item.path
        if target.is_dir():
            plan.error = f"its output {target} is a folder"
        elif target.exists() or target.is_symlink():
            if options.skip_existing:
                plan.skip = True
            elif not options.overwrite:
                plan.error = f"{target} exists; pass --overwrite or --skip-existing"
    return planned


# --------------------------------------------------------------------------------------------
# Running


@dataclass
class BatchReport:
    """What a batch did: (input, output) pairs done and skipped, (input, reason) failed.

    `verb` names the work in `summary()` and notes ('stylized', 'filtered').
    """

    done: list[tuple[Path, Path]] = field(default_factory=list)
    skipped: list[tuple[Path, Path]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False
    verb: str = "stylized"

    @property
    def images_per_second(self) -> float:
        return len(self.done) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line: 'stylized 8 images in 12.3 s (0.65 images/s); skipped 1; failed 2'."""
        count = len(self.done)
        line = f"{self.verb} {count} image{'' if count == 1 else 's'} in {self.seconds:.1f} s"
        if count:
            line += f" ({self.images_per_second:.2f} images/s)"
        if self.skipped:
            line += f"; skipped {len(self.skipped)}"
        if self.failed:
            line += f"; failed {len(self.failed)}"
        if self.cancelled:
            line += "; cancelled"
        return line


class BatchEvents:
    """What a batch tells its caller as it goes (a progress bar, a log); every method is a no-op.

    Called from the thread that runs `run_batch`. `status` is 'done', 'skipped' or 'failed';
    `detail` is the output path (done, skipped) or the reason (failed).
    """

    def begin(self, total: int) -> None:
        """The batch has `total` items (failed and skipped ones included)."""

    def working(self, path: Path) -> None:
        """The model starts on `path`."""

    def tiles(self, done: int, total: int) -> None:
        """Model runs finished for the current image (big images run in several tiles)."""

    def finished(self, path: Path, status: str, detail: str) -> None:
        """One item is done, skipped or failed."""

    def note(self, message: str) -> None:
        """Something worth telling that is not a failure (animated input, ...)."""

    def end(self, report: BatchReport) -> None:
        """The batch is over (also after a cancel)."""


def _reason(exc: BaseException, path: Path) -> str:
    """One short line for a failed item, without repeating its path at the front."""
    if isinstance(exc, StylePluginError):
        text = str(exc)
    elif isinstance(exc, MemoryError):
        text = "out of memory (try --max-side or a smaller --tile-size)"
    elif isinstance(exc, OSError):
        text = exc.strerror or str(exc) or type(exc).__name__
        if exc.filename and str(exc.filename) not in text:
            text = f"{text}: {exc.filename}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = (text.strip().splitlines() or [type(exc).__name__])[0]
    for prefix in (f"{path}: ", f"{path} "):
        if text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix) :]
    return text


class _Failed:
    """A decode that did not work, carried from a worker thread to the main loop."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def stylize_job(stylizer: Stylizer, options: BatchOptions) -> ImageJob:
    """The job that stylizes each image with `options`' style, strength, colours and size."""

    def job(
        source: SourceImage, progress: Callable[[int, int], None], cancel: Callable[[], bool]
    ) -> Image.Image:
        return stylizer.stylize_source(
            source,
            options.style,
            strength=options.strength,
            preserve_colors=options.preserve_colors,
            max_side=options.max_side,
            progress=progress,
            cancel=cancel,
        )

    return job


def run_batch(
    job: Stylizer | ImageJob,
    items: list[InputItem] | list[PlannedItem],
    options: BatchOptions,
    events: BatchEvents | None = None,
    cancel: Callable[[], bool] | None = None,
    *,
    verb: str = "stylized",
) -> BatchReport:
    """Run `job` on every item; return what was done, skipped and why items failed.

    `job` is a `Stylizer` (run as `stylize_job(stylizer, options)`) or any `ImageJob`, such
    as a filter's apply; `verb` names the work in the report. Decoding and encoding run on
    `options.jobs` threads, overlapping the job, which runs on the calling thread one image
    at a time. Each item's failure is caught and reported; the batch goes on. `cancel()`
    returning True (a host's button) stops between images or tiles with `report.cancelled`
    set; KeyboardInterrupt stops as promptly, lets writes already under way finish (they
    are atomic), and propagates. Nothing partial is ever left behind.
    """
    plans = [item if isinstance(item, PlannedItem) else None for item in items]
    if any(plan is None for plan in plans):
        plans = plan_outputs(list(items), options)  # type: ignore[arg-type]
    if isinstance(job, Stylizer):
        job = stylize_job(job, options)
    runner = _Runner(job, options, events or BatchEvents(), cancel, verb)
    return runner.run(plans)  # type: ignore[arg-type]


class _Runner:
    def __init__(
        self,
        job: ImageJob,
        options: BatchOptions,
        events: BatchEvents,
        cancel: Callable[[], bool] | None,
        verb: str,
    ) -> None:
        self.job = job
        self.options = options
        self.events = events
        self.cancel = cancel
        self.stop = threading.Event()
        self.report = BatchReport(verb=verb)
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
            return open_image(plan.item.path, allow_large=self.options.allow_large)
        except Exception as exc:  # reported per item; the batch goes on
            return _Failed(exc)

    def _encode(self, plan: PlannedItem, image: Image.Image, source: SourceImage) -> Path:
        assert plan.output is not None
        quality = self.options.quality if plan.format in ("JPEG", "WEBP") else None
        return save_image(
            image,
            plan.output,
            source=source,
            format=plan.format,
            quality=quality,
            overwrite=self.options.overwrite,
        )

    # main thread ---------------------------------------------------------------------------

    def finish(self, plan: PlannedItem, status: str, detail: str) -> None:
        path = plan.item.path
        if status == "done":
            assert plan.output is not None
            self.report.done.append((path, plan.output))
        elif status == "skipped":
            assert plan.output is not None
            self.report.skipped.append((path, plan.output))
        else:
            self.report.failed.append((path, detail))
        self.events.finished(path, status, detail)

    def fail(self, plan: PlannedItem, exc: BaseException) -> None:
        self.finish(plan, "failed", _reason(exc, plan.item.path))

    def collect_saves(self, saving: dict[Future, PlannedItem], block: bool) -> None:
        if not saving:
            return
        finished, _ = wait(list(saving), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        for future in finished:
            plan = saving.pop(future)
            try:
                future.result()
            except Exception as exc:
                self.fail(plan, exc)
            else:
                self.finish(plan, "done", str(plan.output))

    def fill(
        self,
        queue: deque[PlannedItem],
        pending: deque[tuple[PlannedItem, Future]],
        saving: dict[Future, PlannedItem],
        pool: ThreadPoolExecutor,
    ) -> None:
        """Start decodes ahead of the model, with at most jobs+1 images decoded or being saved;
        items that failed or are skipped before any work are reported as they come up."""
        limit = self.options.jobs + 1
        while queue and len(pending) + len(saving) < limit and not self.cancelled():
            plan = queue.popleft()
            if plan.error is not None:
                self.finish(plan, "failed", plan.error)
            elif plan.skip:
                self.finish(plan, "skipped", str(plan.output))
            else:
                pending.append((plan, pool.submit(self._decode, plan)))

    def run(self, plans: list[PlannedItem]) -> BatchReport:
        queue = deque(plans)
        self.events.begin(len(queue))
        limit = self.options.jobs + 1
        pending: deque[tuple[PlannedItem, Future]] = deque()
        saving: dict[Future, PlannedItem] = {}
        pool = ThreadPoolExecutor(self.options.jobs, thread_name_prefix="style-plugin-io")
        try:
            while True:
                self.fill(queue, pending, saving, pool)
                if pending and not self.cancelled():
                    plan, future = pending.popleft()
                    self.infer(plan, future.result(), pool, saving)
                    self.collect_saves(saving, block=len(pending) + len(saving) >= limit)
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

    def collect_finished(self, saving: dict[Future, PlannedItem]) -> None:
        """Account for writes that completed while stopping (they are whole files)."""
        for future, plan in list(saving.items()):
            if future.done() and not future.cancelled():
                saving.pop(future)
                try:
                    future.result()
                except Exception as exc:
                    self.fail(plan, exc)
                else:
                    self.finish(plan, "done", str(plan.output))

    def infer(
        self,
        plan: PlannedItem,
        decoded: SourceImage | _Failed | None,
        pool: ThreadPoolExecutor,
        saving: dict[Future, PlannedItem],
    ) -> None:
        if decoded is None:  # stopped before decoding
            return
        if isinstance(decoded, _Failed):
            self.fail(plan, decoded.exc)
            return
        path = plan.item.path
        if decoded.frames_dropped:
            count = decoded.frames_dropped + 1
            message = f"{path}: {count} frames; {self.report.verb} the first only"
            self.report.notes.append(message)
            self.events.note(message)
        self.events.working(path)
        try:
            image = self.job(decoded, self.events.tiles, self.cancelled)
        except Cancelled:
            self.report.cancelled = True
            self.stop.set()
            return
        except Exception as exc:
            self.fail(plan, exc)
            return
        saving[pool.submit(self._encode, plan, image, decoded)] = plan
