"""The batch runner without the CLI (style_plugin/runtime/batch.py): cancelling, bounded memory;
collecting inputs (inputs.py), planning outputs (outputs.py), options and reasons that name
options, not flags (options.py, report.py)."""

from __future__ import annotations

import threading

import pytest

from style_plugin.runtime import batch
from style_plugin.runtime.batch import run_batch
from style_plugin.runtime.inputs import collect_inputs
from style_plugin.runtime.jobs import stylize_job
from style_plugin.runtime.options import BatchOptions, OptionError
from style_plugin.runtime.outputs import plan_outputs
from style_plugin.runtime.report import BatchEvents, Problem
from style_plugin.runtime.stylizer import Stylizer
from tests.support import make_photo


def test_cancel_stops_between_images(style_model, tree, tmp_path):
    stylizer = Stylizer(style_model)
    seen: list[str] = []

    class Events(BatchEvents):
        def finished(self, path, status, detail):
            seen.append(status)

    items = collect_inputs([str(tree)], recursive=True)
    options = BatchOptions(output=tmp_path / "out")
    job = stylize_job(stylizer)
    report = run_batch(job, items, options, Events(), cancel=lambda: len(seen) >= 1)
    assert report.cancelled and len(report.done) == 1
    assert "cancelled" in report.summary()


def test_decoded_images_in_flight_stay_bounded(style_model, tmp_path, monkeypatch):
    folder = tmp_path / "many"
    for i in range(12):
        make_photo(folder / f"p{i:02}.png", 24, 24, seed=i)
    live = {"decoded": 0, "peak": 0}
    original_open, original_write = batch.open_image, batch.write_encoded

    lock = threading.Lock()  # decodes and saves run on several threads

    def counting_open(*args, **kwargs):
        image = original_open(*args, **kwargs)
        with lock:
            live["decoded"] += 1
            live["peak"] = max(live["peak"], live["decoded"])
        return image

    def counting_write(*args, **kwargs):
        try:
            return original_write(*args, **kwargs)
        finally:
            with lock:
                live["decoded"] -= 1

    monkeypatch.setattr(batch, "open_image", counting_open)
    monkeypatch.setattr(batch, "write_encoded", counting_write)
    options = BatchOptions(output=tmp_path / "out", jobs=2)
    job = stylize_job(Stylizer(style_model))
    report = run_batch(job, collect_inputs([str(folder)]), options)
    assert len(report.done) == 12 and not report.failed
    assert live["peak"] <= options.jobs + 2
    assert "stylized 12 images" in report.summary()


def test_collect_inputs_dedupes_filters_and_keeps_order(tree, tmp_path):
    (tree / "readme.txt").write_text("not an image")
    (tree / ".hidden.png").write_bytes((tree / "a.png").read_bytes())
    items = collect_inputs(
        [str(tree), str(tree / "a.png"), f"{tree}/*.png", str(tree / "readme.txt")],
        recursive=False,
    )
    assert [item.path.name for item in items] == ["a.png", "b.png", "readme.txt"]
    assert all(item.error is None for item in items)
    deep = collect_inputs([str(tree)], recursive=True)
    assert [item.relative.as_posix() for item in deep] == [
        "a.png",
        "b.png",
        "sub/c.png",
        "sub/deeper/d.png",
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    (problem,) = collect_inputs([str(empty)], recursive=False)
    assert problem.error and "no image files" in problem.error


def test_runtime_reasons_and_option_errors_name_options_not_flags(tree, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"keep me")
    plans = plan_outputs(collect_inputs([str(tree)]), BatchOptions(output=out))
    (refused,) = [plan for plan in plans if plan.error]
    assert refused.error == f"{out / 'a.png'} exists"
    assert refused.error.problem is Problem.OUTPUT_EXISTS
    with pytest.raises(OptionError) as caught:
        BatchOptions(overwrite=True, skip_existing=True)
    assert str(caught.value) == "overwrite and skip_existing contradict each other"
    spelled = caught.value.naming({"overwrite": "--overwrite", "skip_existing": "--skip-existing"})
    assert spelled == "--overwrite and --skip-existing contradict each other"
    with pytest.raises(OptionError, match=r"^unknown format 'gif\{'; choose one of png, jpeg"):
        BatchOptions(format="gif{")
