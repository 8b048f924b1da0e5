"""Krita's "New style from an image…": the dialog that asks for the painting and a name, and
the training that runs as a separate process behind a progress window with Cancel, which
shows the time left and the open image drawn in the style so far.

Only PyQt5 here (no `krita` module): the extension hands in the open image as a callable
that saves it, and what to do once the style is installed. The command line and the reading
of the process's reports are shared by every host (hooks/hosts/new_style.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from PyQt5.QtCore import QObject, QProcess, QProcessEnvironment, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QCloseEvent, QPixmap
from PyQt5.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from style_plugin.errors import StylePluginError
from style_plugin.hooks.hosts.krita.ui import plain_label
from style_plugin.hooks.hosts.new_style import (
    NEW_STYLE_STEPS,
    NewStyleRequest,
    Progress,
    add_style_command,
    child_environment,
    failure_message,
    intro,
    progress_text,
    read_event,
    request_with_open_image,
)

__all__ = ["IMAGE_FILTER", "STOP_GRACE_MS", "NewStyleDialog", "StyleTraining", "TrainingWindow"]

#: The file dialog's filter: the formats style-plugin reads.
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"
#: How long Cancel waits for the trainer to write its checkpoint before killing it.
STOP_GRACE_MS = 60_000


class NewStyleDialog(QDialog):
    """Asks for a painting (a file, or the open image when `save_open_image` is given), the
    style's name and its training steps; `request` is what OK accepted.

    `taken`: the installed styles' names, which a new style may not hide.
    `save_open_image(name) -> Path`: saves the open image for style `name`, returns the file.
    """

    def __init__(
        self,
        taken: Sequence[str],
        save_open_image: Callable[[str], Path] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("style_plugin_new_style_dialog")
        self.setWindowTitle("New Style from an Image")
        self.request: NewStyleRequest | None = None
        self._taken = list(taken)
        self._save_open_image = save_open_image
        self.painting = QLineEdit()
        self.painting.setObjectName("painting")
        browse = QPushButton("Browse…")
        browse.setObjectName("browse")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.painting, 1)
        row.addWidget(browse)
        self.use_open_image = QCheckBox("Use the open image")
        self.use_open_image.setObjectName("use_open_image")
        self.use_open_image.setEnabled(save_open_image is not None)
        self.use_open_image.toggled.connect(lambda on: self.painting.setDisabled(on))
        self.use_open_image.toggled.connect(lambda on: browse.setDisabled(on))
        self.label = QLineEdit()
        self.label.setObjectName("label")
        self.label.setPlaceholderText("My painting")
        self.steps = QSpinBox()
        self.steps.setObjectName("steps")
        self.steps.setRange(1, 100_000)
        self.steps.setValue(NEW_STYLE_STEPS)
        self.steps.setToolTip("Batches of four photo crops; more steps learn the style better.")
        self.error = plain_label("")
        self.error.setObjectName("error")
        form = QFormLayout()
        form.addRow(plain_label("Painting"), row)
        form.addRow(QLabel(""), self.use_open_image)
        form.addRow(plain_label("Name"), self.label)
        form.addRow(plain_label("Training steps"), self.steps)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        about = plain_label(intro(NEW_STYLE_STEPS))
        about.setObjectName("intro")
        about.setWordWrap(True)
        self.error.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Painting", self.painting.text(), IMAGE_FILTER)
        if path:
            self.painting.setText(path)
            if not self.label.text():
                self.label.setText(Path(path).stem.replace("_", " "))

    def accept(self) -> None:
        """Check the entries; keep the dialog open with the reason when one is wrong. The
        open image, where there is one, is also drawn in the style as it is learnt."""
        try:
            self.request = request_with_open_image(
                self.label.text(),
                self.painting.text(),
                self.steps.value(),
                self._taken,
                self._save_open_image,
                learn_from_open_image=self.use_open_image.isChecked(),
            )
        except StylePluginError as exc:
            self.error.setText(str(exc))
            return
        super().accept()


class TrainingWindow(QDialog):
    """A training's progress window (object name style_plugin_training): what it is doing,
    a bar, the latest preview (object name preview, hidden until one comes) and Cancel.
    Cancel, Escape and the window's close button all emit `canceled`; the window stays until
    `finish` (the training first keeps its checkpoint)."""

    canceled = pyqtSignal()

    def __init__(self, text: str) -> None:
        super().__init__(None)
        self.setObjectName("style_plugin_training")
        self.setWindowTitle("New Style")
        self.text = plain_label(text)
        self.text.setObjectName("text")
        self.text.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the first step says the total
        self.preview = QLabel()
        self.preview.setObjectName("preview")
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.canceled.emit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        layout.addWidget(self.preview, 1)
        layout.addLayout(buttons)
        self.setMinimumWidth(360)
        self._finished = False

    def show_progress(self, text: str, step: int, total: int) -> None:
        """Say `text`, the bar at `step` of `total`."""
        self.text.setText(text)
        self.bar.setMaximum(total)
        self.bar.setValue(step)

    def show_preview(self, path: str) -> None:
        """Show the preview image at `path` (left as it was if it cannot be read)."""
        pixmap = QPixmap(path)
        if pixmap.isNull():
            return
        self.preview.setPixmap(pixmap)
        self.preview.show()
        self.adjustSize()

    def stopping(self, text: str) -> None:
        """Say `text`, with Cancel gone: the training is stopping."""
        self.text.setText(text)
        self.cancel_button.hide()

    def reject(self) -> None:
        """Escape: as Cancel."""
        self.canceled.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._finished:
            event.accept()
            return
        event.ignore()
        self.canceled.emit()

    def finish(self) -> None:
        """Close the window for good."""
        self._finished = True
        self.close()


class StyleTraining(QObject):
    """One `add-style` process and its progress window (object name style_plugin_training).

    `on_finished(self)` runs when the process has ended: `added` says whether the style is
    installed, `failure` why not (None when it was cancelled). The window can move to another
    parent while the training runs (`attach`): it starts over the Stylize dialog and stays
    when that closes.
    """

    def __init__(
        self,
        command: Sequence[str],
        request: NewStyleRequest,
        owner: QObject,
        on_finished: Callable[[StyleTraining], None],
    ) -> None:
        super().__init__(owner)
        self.request = request
        self.progress = Progress()
        self.cancelled = False
        self.added = False
        self.failure: str | None = None
        self._on_finished = on_finished
        self._stdout = b""
        self._stderr = b""
        self._closed = False
        self._shown_preview = 0  # the step of the preview on show
        self.window = TrainingWindow(progress_text(request, self.progress))
        self.window.canceled.connect(self.cancel)
        self.process = QProcess(self)
        environment = QProcessEnvironment()
        for key, value in child_environment(os.environ).items():
            environment.insert(key, value)
        self.process.setProcessEnvironment(environment)
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)
        self._line = add_style_command(command, request)

    def start(self, parent: QWidget | None) -> None:
        """Start the process and show the progress window over `parent`."""
        self.attach(parent)
        self.process.start(self._line[0], self._line[1:])

    def attach(self, parent: QWidget | None) -> None:
        """Show the progress window over `parent` (a still running training outlives the
        Stylize dialog it was started from)."""
        if self._closed:
            return
        self.window.setParent(parent, Qt.Dialog)
        self.window.setWindowModality(Qt.NonModal)
        self.window.show()

    @property
    def running(self) -> bool:
        """Whether the process is still starting or running."""
        return self.process.state() != QProcess.NotRunning

    def cancel(self) -> None:
        """Ask the trainer to stop: it finishes its step, keeps its checkpoint and exits."""
        if not self.running:
            return
        self.cancelled = True
        self.window.stopping("Stopping; keeping what was learnt…")
        self.process.terminate()
        QTimer.singleShot(STOP_GRACE_MS, self._kill)

    def stop(self) -> None:
        """Cancel and wait until the trainer has kept its checkpoint (Krita is closing)."""
        self.cancel()
        if self.running and not self.process.waitForFinished(STOP_GRACE_MS):
            self.process.kill()

    def _kill(self) -> None:
        if self.running:
            self.process.kill()

    def _read_stdout(self) -> None:
        self._stdout += bytes(self.process.readAllStandardOutput())
        *lines, self._stdout = self._stdout.split(b"\n")
        preview_file = self.request.preview_file
        for line in lines:
            self.progress = read_event(line.decode("utf-8", "replace"), self.progress, preview_file)
        progress = self.progress
        if progress.preview is not None and progress.preview_step != self._shown_preview:
            self._shown_preview = progress.preview_step
            self.window.show_preview(str(progress.preview))
        if progress.total and not self.cancelled:
            text = progress_text(self.request, progress)
            self.window.show_progress(text, progress.step, progress.total)

    def _read_stderr(self) -> None:
        self._stderr = (self._stderr + bytes(self.process.readAllStandardError()))[-20_000:]

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.FailedToStart:
            self._end(
                f"Cannot start {self._line[0]}: {self.process.errorString()}. "
                "Run `style-plugin install krita` again."
            )

    def _finished(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        self.added = self.progress.model is not None and exit_code == 0
        failure = None
        if not self.added and not self.cancelled:
            stderr = self._stderr.decode("utf-8", "replace")
            failure = f"Learning “{self.request.label}” failed: " + failure_message(
                stderr, exit_code
            )
        self._end(failure)

    def _end(self, failure: str | None) -> None:
        if self._closed:
            return
        self.failure = failure
        self._close()
        self._on_finished(self)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self.window.finish()
            self.window.deleteLater()
