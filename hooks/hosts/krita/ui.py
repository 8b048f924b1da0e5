"""The Qt side of the Krita plug-in: a dialog built from a filter's parameter schema (with
the Frames and Hold strokes controls an animated layer adds), and a progress window that runs
the work in a thread, piece by piece, and can cancel it.

Only PyQt5 here (no `krita` module), so the dialog knows nothing of Krita's documents: the
extension hands it a `preview(values) -> QImage` callable. Each control is named after its
parameter (`QObject.objectName`), which is how tests and scripts find them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QImage, QPixmap
from PyQt5.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from style_plugin.contract import printable
from style_plugin.errors import Cancelled
from style_plugin.hooks.filters import Filter, Param

__all__ = [
    "ALL_FRAMES",
    "CURRENT_FRAME",
    "PREVIEW_DELAY_MS",
    "FilterDialog",
    "FrameControls",
    "ParamControl",
    "ProgressWindow",
    "add_frame_controls",
    "plain_label",
    "rgba_to_qimage",
    "run_with_progress",
]

T = TypeVar("T")

#: The side of the preview image in the dialog, in pixels.
PREVIEW_SIDE = 320
#: The Frames choice of an animated layer: its current frame, or every keyframe.
CURRENT_FRAME = "current"
ALL_FRAMES = "all"
#: How long the values must rest before the preview follows them (typing, dragging).
PREVIEW_DELAY_MS = 400
_SLIDER_TICKS = 1000


@dataclass(frozen=True)
class ParamControl:
    """One parameter's widget, how to read its value back, and its signal of a change."""

    param: Param
    widget: QWidget
    read: Callable[[], Any]
    changed: Any  # a bound Qt signal


def _decimals(step: float | None) -> int:
    """Digits after the point that show `step` (0.05 -> 2)."""
    if not step:
        return 2
    text = f"{step:.6f}".rstrip("0")
    return max(0, len(text.split(".")[1]))


def _float_control(param: Param) -> ParamControl:
    """A spin box with a slider beside it when the range is bounded."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    spin = QDoubleSpinBox()
    spin.setObjectName(param.name)
    low = -1e9 if param.minimum is None else param.minimum
    high = 1e9 if param.maximum is None else param.maximum
    spin.setRange(low, high)
    spin.setDecimals(_decimals(param.step))
    spin.setSingleStep(param.step or 0.1)
    spin.setValue(float(param.default))
    if param.minimum is not None and param.maximum is not None and high > low:
        slider = QSlider(Qt.Horizontal)
        slider.setRange(0, _SLIDER_TICKS)

        def to_tick(value: float) -> int:
            return round((value - low) / (high - low) * _SLIDER_TICKS)

        slider.setValue(to_tick(spin.value()))
        slider.valueChanged.connect(
            lambda tick: spin.setValue(low + (high - low) * tick / _SLIDER_TICKS)
        )
        spin.valueChanged.connect(lambda value: slider.setValue(to_tick(value)))
        row.addWidget(slider, 1)
    row.addWidget(spin)
    return ParamControl(param, box, spin.value, spin.valueChanged)


def _int_control(param: Param) -> ParamControl:
    spin = QSpinBox()
    spin.setObjectName(param.name)
    spin.setRange(
        -(2**31) if param.minimum is None else int(param.minimum),
        2**31 - 1 if param.maximum is None else int(param.maximum),
    )
    spin.setSingleStep(int(param.step or 1))
    spin.setValue(int(param.default))
    return ParamControl(param, spin, spin.value, spin.valueChanged)


def _choice_control(param: Param) -> ParamControl:
    combo = QComboBox()
    combo.setObjectName(param.name)
    _fill_choices(combo, param, param.default)
    return ParamControl(param, combo, combo.currentData, combo.currentIndexChanged)


def _fill_choices(combo: QComboBox, param: Param, selected: Any) -> None:
    """Make `param`'s choices the combo's items (plain text) and select `selected`, else the
    default."""
    combo.clear()
    for choice in param.choices:
        combo.addItem(printable(choice.label), choice.value)
    index = combo.findData(selected)
    combo.setCurrentIndex(index if index >= 0 else max(combo.findData(param.default), 0))


def _bool_control(param: Param) -> ParamControl:
    check = QCheckBox()
    check.setObjectName(param.name)
    check.setChecked(bool(param.default))
    return ParamControl(param, check, check.isChecked, check.toggled)


def _string_control(param: Param) -> ParamControl:
    line = QLineEdit(str(param.default or ""))
    line.setObjectName(param.name)
    return ParamControl(param, line, line.text, line.textChanged)


_BUILDERS: dict[str, Callable[[Param], ParamControl]] = {
    "float": _float_control,
    "int": _int_control,
    "choice": _choice_control,
    "bool": _bool_control,
    "string": _string_control,
}


def plain_label(text: str) -> QLabel:
    """A label that shows `text` as it is: QLabel would take text that looks like HTML for
    rich text, and filter texts, style labels and errors may come from model files."""
    label = QLabel(text)
    label.setTextFormat(Qt.PlainText)
    return label


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """An HxWx4 uint8 R, G, B, A array -> a QImage that owns a copy of the pixels."""
    data = np.ascontiguousarray(rgba, dtype=np.uint8)
    height, width = data.shape[:2]
    return QImage(data.tobytes(), width, height, 4 * width, QImage.Format_RGBA8888).copy()


class FilterDialog(QDialog):
    """Controls for every parameter of `filter` (label, tooltip, range, default), beside them
    `preview(values)`, which follows the values by itself once they rest for
    PREVIEW_DELAY_MS (the Preview button runs it at once), and OK / Cancel."""

    def __init__(
        self,
        filter: Filter,
        preview: Callable[[dict[str, Any]], QImage],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("style_plugin_filter_dialog")
        self.setWindowTitle(filter.label)
        self.filter = filter
        self._preview = preview
        #: The values the preview shows (None before the first).
        self.previewed: dict[str, Any] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self.show_preview)
        self.controls = [_BUILDERS[param.type](param) for param in filter.params()]
        for control in self.controls:
            control.changed.connect(lambda *_: self._timer.start())
        self._form = form = QFormLayout()
        for control in self.controls:
            control.widget.setToolTip(control.param.description)
            form.addRow(plain_label(control.param.label), control.widget)
        self.preview_label = plain_label("The preview follows the settings.")
        self.preview_label.setObjectName("preview")
        self.preview_label.setAlignment(Qt.AlignCenter)
        self.preview_label.setMinimumSize(PREVIEW_SIDE, PREVIEW_SIDE)
        preview_button = QPushButton("Preview")
        preview_button.setObjectName("preview_button")
        preview_button.clicked.connect(self.show_preview)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self._buttons = QVBoxLayout()
        self._buttons.addWidget(preview_button)
        side = QVBoxLayout()
        side.addWidget(plain_label(filter.description))
        side.addLayout(form)
        side.addLayout(self._buttons)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(side)
        self.status = plain_label("")
        self.status.setObjectName("status")
        shown = QVBoxLayout()
        shown.addWidget(self.preview_label, 1)
        shown.addWidget(self.status)
        body.addLayout(shown, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        """The parameter values the controls show now."""
        return {control.param.name: control.read() for control in self.controls}

    def add_button(self, name: str, text: str, clicked: Callable[[], None]) -> QPushButton:
        """A button under Preview for what a host adds to the dialog (its object name `name`)."""
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(lambda checked=False: clicked())
        self._buttons.addWidget(button)
        return button

    def add_row(self, label: str, widget: QWidget) -> None:
        """A control under the filter's for what a host adds (read by the host, not
        previewed)."""
        self._form.addRow(plain_label(label), widget)

    def refresh_choices(self, select: dict[str, Any] | None = None) -> None:
        """Read the filter's choices again (a style was added) and select `select`'s values;
        the other choices keep their selection where it is still offered."""
        fresh = {param.name: param for param in self.filter.params()}
        for control in self.controls:
            param = fresh.get(control.param.name)
            if param is not None and isinstance(control.widget, QComboBox):
                selected = (select or {}).get(param.name, control.read())
                _fill_choices(control.widget, param, selected)

    def show_message(self, text: str) -> None:
        """Show `text` under the preview (a note from the host, plain text)."""
        self.status.setText(text)

    def showEvent(self, event: Any) -> None:
        """The first preview comes by itself once the dialog is up."""
        super().showEvent(event)
        if self.previewed is None:
            self._timer.start()

    def show_preview(self) -> None:
        """Run the preview with the current values and show it (or why it failed)."""
        self._timer.stop()
        values = self.values()
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            image = self._preview(values)
        except Exception as exc:  # shown in the dialog: the user can change the values
            self.preview_label.setText(f"Preview failed: {exc}")
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.previewed = values
        self.preview_label.setPixmap(
            QPixmap.fromImage(image).scaled(
                PREVIEW_SIDE, PREVIEW_SIDE, Qt.KeepAspectRatio, Qt.SmoothTransformation
            )
        )


@dataclass(frozen=True)
class FrameControls:
    """What an animated layer's Stylize dialog adds: which frames to stylize (`frames`) and
    how strongly strokes hold from keyframe to keyframe (`hold`, for all frames only)."""

    frames: QComboBox
    hold: QDoubleSpinBox

    def all_frames(self) -> bool:
        """Whether every keyframe of the layer is chosen, rather than the current frame."""
        return self.frames.currentData() == ALL_FRAMES


def add_frame_controls(dialog: FilterDialog, keyframes: int, hold: float) -> FrameControls:
    """Add Frames (the current frame only, the default, or all `keyframes` of the layer) and
    Hold strokes (`hold` at first, enabled for all frames) to `dialog`."""
    frames = QComboBox()
    frames.setObjectName("frames")
    frames.addItem("Current frame only", CURRENT_FRAME)
    counted = f"{keyframes} keyframe{'' if keyframes == 1 else 's'}"
    frames.addItem(f"All frames of this layer ({counted})", ALL_FRAMES)
    frames.setToolTip(
        "All frames: every keyframe of the layer, in time order, into a new animated layer."
    )
    spin = QDoubleSpinBox()
    spin.setObjectName("hold")
    spin.setRange(0.0, 1.0)
    spin.setDecimals(2)
    spin.setSingleStep(0.05)
    spin.setValue(hold)
    spin.setToolTip(
        "How much of the strokes carried from earlier keyframes stays where the motion is "
        "reliable (0: each keyframe afresh)."
    )
    spin.setEnabled(False)
    frames.currentIndexChanged.connect(
        lambda *_: spin.setEnabled(frames.currentData() == ALL_FRAMES)
    )
    dialog.add_row("Frames", frames)
    dialog.add_row("Hold strokes", spin)
    return FrameControls(frames, spin)


class ProgressWindow:
    """A progress window with a Cancel button that runs work in a thread, one piece after
    another (e.g. the keyframes of an animation), with one bar for them all; with a `unit`,
    it says which piece runs ("Frame 2 of 4").

    The Qt event loop keeps turning while a piece runs, so the window repaints and Cancel can
    be pressed; `cancel()` turns True once it is, for this piece and every later one. Between
    pieces the caller works on the GUI thread (Krita calls) while the window stays up.
    """

    def __init__(self, parent: QWidget | None, title: str, unit: str | None = None) -> None:
        self.title = title
        self.unit = unit
        self._stop = threading.Event()
        self.dialog = QProgressDialog(title, "Cancel", 0, 0, parent)
        self.dialog.setObjectName("style_plugin_progress")
        self.dialog.setWindowModality(Qt.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.show()

    def run(
        self,
        work: Callable[[Callable[[int, int], None], Callable[[], bool]], T],
        piece: int = 0,
        pieces: int = 1,
    ) -> T:
        """Run `work(progress, cancel)` as piece `piece` (from 0) of `pieces`; what it
        returned, or what it raised (`Cancelled` once Cancel was pressed)."""
        if self.unit:
            self.dialog.setLabelText(f"{self.title}\n{self.unit} {piece + 1} of {pieces}")
        state: dict[str, Any] = {"done": 0, "total": 0}

        def progress(done: int, total: int) -> None:
            state["done"], state["total"] = done, total

        def target() -> None:
            try:
                state["result"] = work(progress, self._stop.is_set)
            except BaseException as exc:  # handed to the GUI thread below
                state["error"] = exc

        thread = threading.Thread(target=target, name="style-plugin-filter", daemon=True)
        thread.start()
        while thread.is_alive():
            QApplication.processEvents()
            if self.dialog.wasCanceled():
                self._stop.set()
            if state["total"]:
                self.dialog.setMaximum(pieces * state["total"])
                self.dialog.setValue(piece * state["total"] + state["done"])
            thread.join(0.05)
        if "error" in state:
            raise state["error"]
        if self._stop.is_set():
            raise Cancelled("cancelled")
        return state["result"]

    def close(self) -> None:
        """Take the window down."""
        self.dialog.close()


def run_with_progress(
    parent: QWidget | None,
    title: str,
    work: Callable[[Callable[[int, int], None], Callable[[], bool]], T],
) -> T:
    """Run `work(progress, cancel)` in a thread behind a `ProgressWindow` of its own.

    Returns what `work` returned and re-raises what it raised (the filter raises `Cancelled`
    when it stopped early).
    """
    window = ProgressWindow(parent, title)
    try:
        return window.run(work)
    finally:
        window.close()
