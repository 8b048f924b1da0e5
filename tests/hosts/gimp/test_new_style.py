"""GIMP's "New Style from an Image…": the procedure against the stand-in GIMP API with the real
`style-plugin add-style` as its child process, a Cancel (the plug-in killed, as GIMP does),
and the procedure in the real GIMP 3 of the Debian 13 root (its drivers in drivers/)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from style_plugin.errors import StylePluginError
from style_plugin.hooks.filters import Filter
from style_plugin.hooks.hosts.environment import RECORD_FILE
from style_plugin.hooks.hosts.gimp import bridge, new_style
from style_plugin.hooks.hosts.gimp import installer as gimp_installer
from style_plugin.hooks.hosts.new_style import NewStyleRequest, Progress, snapshot_painting_path
from style_plugin.plugins import get_filter, reload_plugins
from style_plugin.runtime.store import load_model
from style_plugin.training.config import NEW_STYLE_STEPS
from style_plugin.training.watching import MeasuredSpeed, live_preview_path, record_speed
from style_plugin.user_dirs import user_runs_dir
from tests.hosts.gimp.fake_gimp import FakeConfig, FakeGimp, FakeImage, registered_procedure
from tests.hosts.gimp.real_gimp import (
    DIALOG_CORNER,
    GimpPlace,
    gimp_place,
    install_plugin,
    run_console,
    run_dialog,
)
from tests.support import REPO, sample_photo

NAMES = new_style.StyleArguments
#: How long a killed plug-in's training may take to finish its step and keep its checkpoint.
STOP_TIMEOUT_S = 180


def file_value(path: Path | None) -> SimpleNamespace | None:
    """A Gio.File argument value as the script reads it."""
    return None if path is None else SimpleNamespace(get_path=lambda: str(path))


def style_config(
    label: str, painting: Path | None = None, open_image: bool = False, steps: int = 2
) -> FakeConfig:
    return FakeConfig(
        {
            NAMES.PAINTING: file_value(painting),
            NAMES.USE_OPEN_IMAGE: open_image,
            NAMES.LABEL: label,
            NAMES.STEPS: steps,
        }
    )


def run_new_style(script, config: FakeConfig, mode: str = "noninteractive", image=None):
    procedure = registered_procedure(script, new_style.PROCEDURE_NAME)
    return procedure.run(procedure, mode, image, [], config, None)


def test_the_procedure_is_registered_beside_stylize(load_plugin) -> None:
    script = load_plugin(FakeGimp())
    assert script.StylizePlugIn().do_query_procedures() == [
        bridge.PROCEDURE_NAME,
        new_style.PROCEDURE_NAME,
    ]
    procedure = registered_procedure(script, new_style.PROCEDURE_NAME)
    assert procedure.info["menu_path"] == "<Image>/Filters/Artistic"
    assert procedure.info["menu_label"] == "New Style from an _Image..."
    assert procedure.info["sensitivity"] == "always"  # with or without an open image
    assert procedure.arguments == [
        ("file", "painting", "_Painting", "open", True, None),
        ("boolean", "use-open-image", "_Use the open image", False),
        ("string", "label", "_Name", ""),
        ("int", "steps", "Training _steps", 1, 100_000, NEW_STYLE_STEPS),
    ]


def test_values_that_make_no_request_are_refused_before_anything_starts(
    stylize: Filter, load_plugin, paintings: dict[str, Path]
) -> None:
    script = load_plugin(FakeGimp())
    cases = [
        (style_config("Mine"), "Choose the painting to learn the style from."),
        (style_config("", paintings["stripes"]), "Give the new style a name."),
        (
            style_config("Mine", open_image=True),
            "Open an image first, or choose a painting file.",
        ),
        (
            style_config("Starry Night", paintings["stripes"]),
            "A style named 'starry-night' is installed already; choose another name.",
        ),
        (style_config("Mine", paintings["stripes"], steps=0), "Train for at least one step."),
    ]
    for config, message in cases:
        assert run_new_style(script, config) == ("calling-error", message)
    assert not user_runs_dir().exists()


def test_the_dialog_asks_again_until_the_values_do_and_cancel_starts_nothing(
    stylize: Filter, load_plugin
) -> None:
    config = style_config("", open_image=True)
    fake = FakeGimp(dialog_answer=[True, False])
    image = FakeImage(np.full((6, 8, 4), 0.5, np.float32))
    record_speed(MeasuredSpeed(steps_per_s=2.0, device="cuda:0", crop_size=256, batch_size=4))
    assert run_new_style(load_plugin(fake), config, "interactive", image) == ("cancel", None)
    intro, error = fake.labels
    assert intro.text == new_style.intro()
    assert intro.text.endswith(
        f"{NEW_STYLE_STEPS} steps take about 5 minutes here (measured in the last training on "
        "this machine, on cuda:0)."
    )
    assert error.text == "Give the new style a name."
    assert fake.rows == list(NAMES.ALL)
    assert fake.progress == [] and not user_runs_dir().exists()


def test_an_install_without_the_command_says_to_reinstall(
    stylize: Filter, load_plugin, tmp_path: Path, paintings: dict[str, Path]
) -> None:
    script = load_plugin(FakeGimp())
    record_file = tmp_path / gimp_installer.PLUGIN_NAME / RECORD_FILE
    record = json.loads(record_file.read_text())
    del record["command"]
    record_file.write_text(json.dumps(record))
    status, message = run_new_style(script, style_config("Mine", paintings["stripes"]))
    assert status == "execution-error" and "style-plugin install gimp" in message


@pytest.mark.train
def test_gimp_learns_a_style_from_the_open_image(
    stylize: Filter, load_plugin, user_models_dir: Path
) -> None:
    """Interactive, from the open image: the dialog refuses a missing name, then the real
    `add-style` trains two steps in a child process with GIMP's progress bar following it
    (the time left in its text) and a window showing the open image in the style as it is
    learnt, and the style is installed, labelled, in the Style list."""
    rgb = np.asarray(Image.new("RGB", (40, 32), (200, 60, 30)), np.float32) / 255.0
    rgb[:, ::4] = (0.1, 0.2, 0.8)  # blue stripes
    pixels = np.dstack([rgb, np.ones((32, 40, 1), np.float32)])
    image = FakeImage(pixels)
    config = style_config("", open_image=True)

    def while_open(fake: FakeGimp) -> None:
        if fake.labels[1].text:  # the first OK was refused: fill in the name
            config.set_property(NAMES.LABEL, "Blue <b>Stripes</b>")

    fake = FakeGimp(dialog_answer=[True, True], while_open=while_open)
    status = run_new_style(load_plugin(fake), config, "interactive", image)
    assert status == ("success", None), fake.messages

    name = "blue-b-stripes-b"
    painting = Image.open(snapshot_painting_path(name))
    assert painting.size == (40, 32)
    assert np.array_equal(np.asarray(painting), np.rint(rgb * 255).astype(np.uint8))
    assert [copy.deleted for copy in image.copies] == [True]  # the image itself untouched
    assert fake.progress[0] == 0.0 and 0.5 in fake.progress and fake.progress[-1] == 1.0
    step_one = [text for text in fake.progress_texts if "step 1 of 2" in text]
    assert step_one and step_one[0].startswith("Learning “Blue <b>Stripes</b>”: step 1 of 2, ")
    assert step_one[0].endswith(" left"), step_one
    (window,) = fake.windows
    assert window.properties["title"] == "New Style: Blue <b>Stripes</b>" and window.destroyed
    (shown,) = fake.images
    assert shown.files == [str(live_preview_path(name))]  # drawn at the last of two steps
    with Image.open(live_preview_path(name)) as preview:
        assert preview.size == (40, 32)  # the open image, its own size
    assert fake.labels[-1].text == "Learning “Blue <b>Stripes</b>”: step 2 of 2"
    assert fake.messages == [
        "The style “Blue <b>Stripes</b>” was added: choose it in Filters > Artistic > Stylize..."
    ]
    model = load_model(user_models_dir / f"{name}.onnx")
    assert [(s.name, s.label) for s in model.styles] == [(name, "Blue <b>Stripes</b>")]
    reload_plugins()
    assert name in new_style.installed_styles(get_filter("stylize"))


@pytest.mark.train
def test_a_failed_training_is_one_line_for_gimp(user_models_dir: Path, tmp_path: Path) -> None:
    painting = tmp_path / "painting.png"
    painting.write_bytes(b"not an image at all")
    request = NewStyleRequest.checked("Broken", painting, 2)
    seen: list[Progress] = []
    command = [sys.executable, "-m", "style_plugin"]
    with pytest.raises(StylePluginError) as caught:
        new_style.train(command, request, seen.append)
    message = str(caught.value)
    assert message.startswith("Learning “Broken” failed: ") and "\n" not in message
    assert "painting.png" in message
    assert not (user_models_dir / "broken.onnx").exists()


# A stand-in for the GIMP plug-in process: it starts the training as the plug-in does and
# prints each step it is told of; the test kills it as GIMP's Cancel kills the plug-in.
PLUG_IN = """\
import sys
from pathlib import Path

from style_plugin.hooks.hosts.gimp import new_style
from style_plugin.hooks.hosts.new_style import NewStyleRequest

request = NewStyleRequest.checked("Cancelled", Path(sys.argv[1]), 500)
new_style.train(
    [sys.executable, "-m", "style_plugin"],
    request,
    lambda progress: print(progress.step, flush=True),
)
"""


def training_of(name: str) -> list[int]:
    """The processes whose command line trains style `name` (`add-style NAME=...`)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            line = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"add-style" in line and any(arg.startswith(f"{name}=".encode()) for arg in line):
            found.append(int(entry.name))
    return found


@pytest.mark.train
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_a_killed_plug_in_stops_the_training_which_keeps_its_checkpoint(
    user_models_dir: Path, paintings: dict[str, Path], tmp_path: Path
) -> None:
    """GIMP's Cancel kills the plug-in outright: its training gets SIGTERM, finishes its
    step, keeps its checkpoint (though nobody reads its reports any more) and exits."""
    plug_in = subprocess.Popen(
        [sys.executable, "-c", PLUG_IN, str(paintings["stripes"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert plug_in.stdout is not None
    steps = []
    for line in plug_in.stdout:
        steps.append(line.strip())
        if line.strip().isdigit() and int(line) >= 1:
            break
    assert steps and steps[-1].isdigit() and int(steps[-1]) >= 1, steps
    assert training_of("cancelled")
    plug_in.send_signal(signal.SIGKILL)
    plug_in.wait()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while training_of("cancelled") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not training_of("cancelled"), "the training outlived its plug-in"
    run = user_runs_dir() / "cancelled"
    assert (run / "checkpoint.pt").is_file()
    from style_plugin.training.checkpoint import load_checkpoint

    assert 1 <= load_checkpoint(run)["step"] < 500
    assert not (user_models_dir / "cancelled.onnx").exists()


# -- GIMP 3 itself ---------------------------------------------------------------------------

#: What the trainer answers in the Debian 13 root, whose style-plugin has no PyTorch.
NO_PYTORCH = "this command needs PyTorch: pip install 'style-plugin[train]'"


def painting_settings(place: GimpPlace, label: str) -> dict[str, str]:
    """The settings of both drivers: a photo opened as the painting, the style's label."""
    sample_photo(320, 213).save(place.work / "painting.png")
    return {
        "procedure": new_style.PROCEDURE_NAME,
        "source": place.path("painting.png"),
        "label": label,
        "outcome": place.path("outcome.json"),
    }


@pytest.mark.host
def test_gimp_runs_new_style_from_the_open_image(tmp_path: Path) -> None:
    """The real GIMP 3 (Debian 13 root) runs New Style from an Image... on an open image:
    the procedure is registered under its menu label, saves what the image shows as the
    painting, and starts `add-style`; that root's style-plugin has no PyTorch (GIMP's Python
    3.13 would need 2.5 GB of CUDA wheels), so the child's own one-line error comes back as
    GIMP's error message."""
    with gimp_place("debian 13 root", tmp_path) as place:
        install_plugin(place, "debian 13 root")
        log = run_console(place, "new_style_batch.py", painting_settings(place, "Blue Field"))
        outcome_file = place.work / "outcome.json"
        assert outcome_file.exists(), log
        outcome = json.loads(outcome_file.read_text())
        painting = place.work / "runs" / "blue-field-painting.png"
        saved = np.asarray(Image.open(painting).convert("RGB")) if painting.exists() else None
        source = np.asarray(Image.open(place.work / "painting.png").convert("RGB"))
    assert outcome["registered"] and outcome["menu"] == "New Style from an _Image...", log
    assert outcome["status"] == "GIMP_PDB_EXECUTION_ERROR", (outcome, log)
    assert outcome["message"] == f"Learning “Blue Field” failed: {NO_PYTORCH}", log
    assert saved is not None and np.array_equal(saved, source), log


@pytest.mark.host
def test_gimp_new_style_dialog_opens_from_the_menu_and_ok_starts_the_training(
    tmp_path: Path,
) -> None:
    """The whole interactive path in the real GIMP 3 under Xvfb (Debian 13 root): the
    procedure's dialog opens with its fields (photographed: gimp-new-style.png in the test's
    folder is docs/images/gimp-new-style.png), and OK saves the open image as the painting
    and starts the trainer, whose one-line answer (no PyTorch in that root) is the result."""
    with gimp_place("debian 13 root", tmp_path) as place:
        install_plugin(place, "debian 13 root")
        settings = painting_settings(place, "My painting")
        log = run_dialog(place, "new_style_dialog.py", settings, "New Style")
        assert log.startswith("exit 0") and "dialog: New Style" in log, log
        outcome = json.loads((place.work / "outcome.json").read_text())
        assert (place.work / "runs" / "my-painting-painting.png").is_file(), log
        screen = Image.open(place.work / "screen.png")
        screen.load()
        screen.crop(DIALOG_CORNER).save(tmp_path / "gimp-new-style.png")
    assert outcome == {
        "status": "GIMP_PDB_EXECUTION_ERROR",
        "message": f"Learning “My painting” failed: {NO_PYTORCH}",
    }, log
