"""The Ray engine on a real two-node Ray cluster on loopback: `stylize --engine ray` and
`stylize_dataset` give the local engine's results, and a batch outlives a killed worker and
a lost node with every output whole and written once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.errors import StylePluginError
from tests.support import make_photo

pytestmark = pytest.mark.cluster  # Ray clusters on this machine

# Ray turns a 127.0.0.1 address into this machine's LAN address unless told it is a
# single-machine cluster; the cluster, the CLI runs and this process all stay on loopback.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

ray = pytest.importorskip(
    "ray", reason="Ray is not installed here (pip install 'style-plugin[ray]'; no wheel fits)"
)

TASK_TITLE = b"ray::stylize_shipped"  # the process title of a Ray worker running an image
FRAMES = 12
LOOPBACK = {"num_cpus": 1, "node_ip_address": "127.0.0.1"}  # one node of the test cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """A Ray head and a second node, one CPU each, on 127.0.0.1 only."""
    from ray.cluster_utils import Cluster

    started = Cluster(initialize_head=True, head_node_args=LOOPBACK | {"include_dashboard": False})
    started.add_node(**LOOPBACK)
    started.wait_for_nodes()
    yield started
    started.shutdown()


def stylize(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`style-plugin stylize ARGS` in a fresh process, as a user runs it."""
    command = [sys.executable, "-m", "style_plugin", "stylize", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by its relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def mixed_inputs(folder: Path) -> Path:
    """PNG and JPEG photos, a half-transparent one, a broken file, sub-folders."""
    make_photo(folder / "a.png", 96, 80, seed=1)
    make_photo(folder / "sub" / "b.png", 64, 72, seed=2)
    Image.open(make_photo(folder / "tmp.png", 80, 64, seed=3)).convert("RGB").save(
        folder / "c.jpg", quality=90
    )
    (folder / "tmp.png").unlink()
    rgba = np.dstack(
        [np.asarray(Image.open(folder / "a.png").convert("RGB")), np.full((80, 96), 128, np.uint8)]
    )
    Image.fromarray(rgba, "RGBA").save(folder / "see-through.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    for i in range(FRAMES):  # enough work that both nodes' workers start and take some
        make_photo(folder / "frames" / f"{i:02d}.png", 320, 240, seed=10 + i)
    return folder


def test_ray_engine_writes_what_the_local_engine_writes_across_two_nodes(
    cluster, style_model: Path, tmp_path: Path
) -> None:
    inputs = mixed_inputs(tmp_path / "in")
    common = ["-r", "--model", style_model, "--style", "the_scream", "--strength", "0.7"]
    local = stylize(inputs, "-o", tmp_path / "local/", *common, cwd=tmp_path)
    on_ray = stylize(
        inputs,
        "-o",
        tmp_path / "ray/",
        *common,
        "--engine",
        "ray",
        "--address",
        cluster.address,
        cwd=tmp_path,
    )
    assert local.returncode == on_ray.returncode == 1, on_ray.stderr  # broken.png failed
    assert files_in(tmp_path / "ray") == files_in(tmp_path / "local")
    assert len(files_in(tmp_path / "ray")) == 4 + FRAMES
    failures = [line for line in on_ray.stderr.splitlines() if line.startswith("failed:")]
    assert failures == [line for line in local.stderr.splitlines() if line.startswith("failed:")]
    assert len(failures) == 1 and "broken.png" in failures[0]
    assert on_ray.stdout.startswith(f"stylized {4 + FRAMES} images"), on_ray.stdout
    assert on_ray.stdout.endswith("; failed 1\n")
    assert f"{4 + FRAMES} images stylized on 2 nodes" in on_ray.stderr, on_ray.stderr
    assert f"joined the Ray cluster at {cluster.address} (2 CPUs on 2 nodes)" in on_ray.stderr

    # A rerun after a crash: --skip-existing does only what is left; without it, nothing
    # existing is replaced.
    (tmp_path / "ray" / "frames" / "03.png").unlink()
    rerun = ["-o", tmp_path / "ray/", *common, "--engine", "ray", "--address", cluster.address]
    again = stylize(inputs, *rerun, "--skip-existing", cwd=tmp_path)
    assert again.stdout.startswith("stylized 1 image in"), again.stdout
    assert f"skipped {4 + FRAMES - 1}; failed 1" in again.stdout
    assert "1 image stylized on 1 node" in again.stderr
    assert files_in(tmp_path / "ray") == files_in(tmp_path / "local")
    refused = stylize(inputs, *rerun, cwd=tmp_path)
    assert refused.returncode == 1 and refused.stdout.startswith("stylized 0 images")
    assert f"failed {4 + FRAMES + 1}" in refused.stdout
    assert files_in(tmp_path / "ray") == files_in(tmp_path / "local")


def running_image_tasks() -> list[int]:
    """PIDs of the Ray workers on this machine that are running an image now."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(TASK_TITLE):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def wait_for(condition, what: str, timeout: float = 120.0):
    """Poll `condition()` until it is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def test_a_batch_outlives_a_killed_worker_and_a_lost_node(
    cluster, style_model: Path, tmp_path: Path
) -> None:
    victim = cluster.add_node(**LOOPBACK)
    cluster.wait_for_nodes()
    inputs = tmp_path / "in"
    for i in range(16):
        make_photo(inputs / f"frame{i:02d}.png", 480, 360, seed=i)
    common = ["--model", style_model, "--scale", "0", "-q"]
    expected = stylize(inputs, "-o", tmp_path / "local/", *common, cwd=tmp_path)
    assert expected.returncode == 0, expected.stderr
    out = tmp_path / "ray"
    command = [sys.executable, "-m", "style_plugin", "stylize", inputs, "-o", f"{out}/", *common]
    command += ["--engine", "ray", "--address", cluster.address]
    batch = subprocess.Popen(
        list(map(str, command)),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: out.is_dir() and any(out.glob("*.png")), "the first output")
        os.kill(wait_for(running_image_tasks, "a worker running an image")[0], signal.SIGKILL)
        cluster.remove_node(victim)  # with whatever images it was running
        stdout, stderr = batch.communicate(timeout=300)
    finally:
        batch.kill()
    assert batch.returncode == 0, stderr
    assert stdout.startswith("stylized 16 images")
    assert files_in(out) == files_in(tmp_path / "local")  # whole, and no temporary leftovers


def test_without_an_address_the_engine_says_it_started_a_ray_here(style_model, tmp_path):
    make_photo(tmp_path / "a.png", 32, 24)
    env = {name: value for name, value in os.environ.items() if name != "RAY_ADDRESS"}
    env["RAY_OVERRIDE_RESOURCES"] = '{"CPU": 1}'  # Ray's own override: a Ray of one CPU
    result = stylize("a.png", "--model", style_model, "--engine", "ray", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert f"started a local Ray with 1 CPU; model: {style_model}\n" in result.stderr
    assert result.stdout.startswith("stylized 1 image")


def test_stylize_dataset_gives_the_python_api_results_on_the_cluster(
    cluster, style_model: Path
) -> None:
    from style_plugin import Stylizer
    from style_plugin.distributed import stylize_dataset
    from style_plugin.distributed.cluster import connect

    rng = np.random.default_rng(7)
    images = [
        rng.integers(0, 256, (64, 80, 3), dtype=np.uint8),
        rng.integers(0, 256, (72, 56, 3), dtype=np.uint8),  # another size: a ragged column
        rng.integers(0, 256, (48, 48, 4), dtype=np.uint8),  # alpha comes back exactly
    ]
    connect(cluster.address)
    try:
        rows = ray.data.from_items([{"image": im, "n": n} for n, im in enumerate(images)])
        styled = stylize_dataset(rows, "starry-night", model=style_model, strength=0.6)
        out = sorted(styled.take_all(), key=lambda row: row["n"])
    finally:
        ray.shutdown()
    local = Stylizer(style_model)
    assert [row["n"] for row in out] == [0, 1, 2]
    for row, image in zip(out, images, strict=True):
        expected = np.asarray(local.stylize(image, "starry-night", strength=0.6))
        assert row["image"].shape == image.shape
        np.testing.assert_array_equal(row["image"], expected)
    np.testing.assert_array_equal(out[2]["image"][..., 3], images[2][..., 3])


def test_stylize_dataset_refuses_an_unknown_style_before_any_work(style_model: Path) -> None:
    from style_plugin.distributed import stylize_dataset

    with pytest.raises(StylePluginError, match="no-such-style"):
        stylize_dataset(object(), "no-such-style", model=style_model)


def test_the_engine_options_fail_in_one_line(style_model: Path, tmp_path: Path) -> None:
    make_photo(tmp_path / "a.png")
    unreachable = stylize(
        "a.png",
        "--model",
        style_model,
        "--engine",
        "ray",
        "--address",
        "127.0.0.1:1",
        cwd=tmp_path,
    )
    assert unreachable.returncode == 1
    assert "error: cannot reach a Ray cluster at 127.0.0.1:1" in unreachable.stderr
    stray = stylize("a.png", "--model", style_model, "--address", "127.0.0.1:1", cwd=tmp_path)
    assert "--address names a Ray cluster: pass --engine ray" in stray.stderr
    unknown = stylize("a.png", "--model", style_model, "--engine", "spark", cwd=tmp_path)
    assert "--engine must be one of local, ray, not 'spark'" in unknown.stderr
    assert not list(tmp_path.glob("a-stylized*"))


def test_without_ray_the_engine_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from style_plugin.distributed.cluster import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # what Python does for a missing package
    with pytest.raises(StylePluginError, match=r"pip install 'style-plugin\[ray\]'"):
        import_ray()
