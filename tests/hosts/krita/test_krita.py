"""The Krita plug-in: its pixel functions, its installer, `style-plugin install`, and Krita.

The pixel, installer and CLI tests run anywhere. Two tests run the real Krita (Debian's
krita 5.1 with python3-pyqt5 and xvfb; .ci/run installs them): `kritarunner`, headless
(QT_QPA_PLATFORM=offscreen), runs the plug-in's code on documents and exports them; and the
whole application on a virtual display of its own (tests/display.py) loads the installed
plug-in, and a small test extension triggers Filter > Stylize…, fills in the dialog,
exports, checks Undo and quits. Krita exits
0 even when a script fails, so both check the reports their scripts write, the exported
files and the log, and every run has a time limit. Where Krita is missing they are skipped,
with the reason printed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import style_plugin.hooks.hosts
from PIL import Image
from style_plugin.hooks.filters import Filter, Param
from style_plugin.hooks.hosts import InstallOptions
from style_plugin.hooks.hosts.environment import RECORD_FILE
from style_plugin.hooks.hosts.krita import installer
from style_plugin.hooks.hosts.krita.installer import (
    CONFIG_KEY,
    PLUGIN,
    VENV,
    install,
    set_config_value,
)
from style_plugin.hooks.hosts.krita.pixels import (
    LayerFormat,
    apply_filter_to_pixels,
    filter_layer_bytes,
    layer_format,
    linear_to_srgb,
    mask_from_bytes,
    srgb_to_linear,
    unsupported_reason,
)

from style_plugin.errors import StylePluginError
from style_plugin.runtime.model import load_model
from tests.support import PACK_STYLES, REPO, bundled_styles, on_a_display, run_cli

HERE = f"{sys.version_info.major}.{sys.version_info.minor}"
KRITA_TIMEOUT = 150  # seconds; a first start in a fresh home builds Krita's resource cache


# ---------------------------------------------------------------------------------------
# Helpers


class InvertFilter(Filter):
    """A cheap stand-in filter: inverts RGB, keeps alpha (as RGBA images come back)."""

    name = "invert"
    label = "Invert"
    description = "Inverts colours."

    def params(self) -> list[Param]:
        return []

    def run(self, image, params, progress, cancel):
        array = np.asarray(image)
        rgb = 255 - np.asarray(array[..., :3], dtype=np.uint8)
        return Image.fromarray(rgb, "RGB")


def sample_pixels(width: int = 40, height: int = 32) -> np.ndarray:
    """RGBA test pixels: a smooth picture, opaque at the border (so that Krita's layer
    bounds are the whole canvas), with a fully transparent hole and a band of alpha 128."""
    y, x = np.mgrid[0:height, 0:width]
    rgba = np.stack(
        [x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height), 255 + 0 * x],
        axis=-1,
    ).astype(np.uint8)
    rgba[12:20, 14:26] = 0
    rgba[4:8, 4:36, 3] = 128
    return rgba


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (relative path -> content); folders as empty entries."""
    return {
        str(path.relative_to(folder)) + ("/" if path.is_dir() else ""): (
            b"" if path.is_dir() else path.read_bytes()
        )
        for path in sorted(folder.rglob("*"))
    }


# ---------------------------------------------------------------------------------------
# Pixels


U8 = LayerFormat("RGBA", "U8")


def test_bgra_bytes_become_rgba_and_back():
    data = bytes([10, 20, 30, 40, 1, 2, 3, 255])  # two pixels: B, G, R, A
    rgba, alpha = U8.decode(data, 2, 1)
    assert rgba.tolist() == [[[30, 20, 10, 40], [3, 2, 1, 255]]]
    assert U8.encode(rgba[..., :3], alpha) == data


def test_16_bit_channels_are_native_words():
    words = np.array([[[1000, 2000, 3000, 65535]]], dtype=np.uint16)  # B, G, R, A
    fmt = LayerFormat("RGBA", "U16")
    rgba, alpha = fmt.decode(words.tobytes(), 1, 1)
    assert rgba.dtype == np.uint16
    assert rgba.tolist() == [[[3000, 2000, 1000, 65535]]]
    assert fmt.encode(rgba[..., :3], alpha) == words.tobytes()


def test_wrong_sizes_are_errors():
    with pytest.raises(ValueError, match="expected 32 bytes"):
        U8.decode(bytes(31), 2, 4)
    with pytest.raises(ValueError, match="selection bytes"):
        mask_from_bytes(bytes(7), 2, 4)


def test_rgb_and_gray_layers_of_every_depth_are_taken_other_models_refused():
    for model in ("RGBA", "GRAYA"):
        for depth in ("U8", "U16", "F16", "F32"):
            assert unsupported_reason(model, depth) is None
    assert "CMYKA" in unsupported_reason("CMYKA", "U8")
    assert "Convert Image Color Space" in unsupported_reason("LABA", "U16")
    assert "F64" in unsupported_reason("RGBA", "F64")
    assert layer_format("RGBA", "F32", "sRGB-elle-V2-g10.icc").linear
    assert layer_format("RGBA", "F16", "scRGB (linear)").linear
    assert not layer_format("RGBA", "F32", "sRGB-elle-V2-srgbtrc.icc").linear
    assert not layer_format("RGBA", "U16", "sRGB-elle-V2-g10.icc").linear  # integers: as stored
    with pytest.raises(ValueError, match="CMYKA"):
        layer_format("CMYKA", "U8")


def test_srgb_transfer_functions_are_inverse():
    values = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(values)), values, atol=1e-12)
    assert linear_to_srgb(np.array([0.18]))[0] == pytest.approx(0.4614, abs=1e-4)


@pytest.mark.parametrize("depth", ["F16", "F32"])
def test_float_linear_layers_go_through_without_banding(depth: str):
    """A smooth linear gradient keeps thousands of levels through decode and encode (the
    filter's 16-bit integers), and float alpha comes back exactly."""
    fmt = layer_format("RGBA", depth, "sRGB-elle-V2-g10.icc")
    width = 4096
    ramp = np.linspace(0, 1, width)
    pixels = np.stack([ramp, ramp**2, 1 - ramp, np.linspace(1, 0.25, width)], axis=-1)
    data = pixels[None].astype(fmt.dtype).tobytes()
    working, alpha = fmt.decode(data, width, 1)
    assert working.dtype == np.uint16
    assert len(np.unique(working[..., 0])) > 3000  # an 8-bit path would leave 256
    back = np.frombuffer(fmt.encode(working[..., :3], alpha), dtype=fmt.dtype).reshape(1, width, 4)
    stored = pixels[None].astype(fmt.dtype)
    np.testing.assert_array_equal(back[..., 3], stored[..., 3])
    np.testing.assert_allclose(
        back[..., :3], stored[..., :3], atol=2e-3 if depth == "F16" else 1e-4
    )


def test_gray_layers_are_filtered_as_rgb_and_come_back_as_luma():
    fmt = LayerFormat("GRAYA", "U8")
    gray = np.array([[[0, 255], [100, 128], [255, 0]]], dtype=np.uint8)  # gray, alpha
    data = filter_layer_bytes(InvertFilter(), gray.tobytes(), 3, 1, fmt)
    np.testing.assert_array_equal(
        np.frombuffer(data, np.uint8).reshape(1, 3, 2), [[[255, 255], [155, 128], [0, 0]]]
    )


def test_filter_result_keeps_alpha_exactly(stylize: Filter):
    rgba = sample_pixels()
    params = {"style": "the_scream", "strength": 0.7}
    result = apply_filter_to_pixels(stylize, rgba, params)
    expected = np.asarray(stylize.apply(rgba, params).convert("RGB"))
    assert result.dtype == np.uint8 and result.shape == rgba.shape
    np.testing.assert_array_equal(result[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(result[..., :3], expected)


def test_selection_mask_multiplies_alpha():
    rgba = sample_pixels()
    mask = np.zeros(rgba.shape[:2], np.uint8)
    mask[:, 10:20] = 255
    mask[:, 20:30] = 128
    result = apply_filter_to_pixels(InvertFilter(), rgba, {}, mask)
    alpha = rgba[..., 3].astype(int)
    np.testing.assert_array_equal(result[:, :10, 3], 0)
    np.testing.assert_array_equal(result[:, 10:20, 3], alpha[:, 10:20])
    np.testing.assert_array_equal(result[:, 20:30, 3], (alpha[:, 20:30] * 128 + 127) // 255)
    np.testing.assert_array_equal(result[:, 30:, 3], 0)
    np.testing.assert_array_equal(result[..., :3], 255 - rgba[..., :3])
    with pytest.raises(ValueError, match="selection mask"):
        apply_filter_to_pixels(InvertFilter(), rgba, {}, mask[1:])


def test_16_bit_layers_keep_their_alpha_and_depth():
    rgba = sample_pixels().astype(np.uint16) * 257
    rgba[..., 3] += 3  # alpha values that 8 bits could not hold
    rgba[..., 3] = np.minimum(rgba[..., 3], 65535)
    result = apply_filter_to_pixels(InvertFilter(), rgba, {})
    assert result.dtype == np.uint16
    np.testing.assert_array_equal(result[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(result[..., :3], (255 - rgba[..., :3] // 257) * 257)


def test_scaled_down_results_come_back_at_full_size(stylize: Filter):
    rgba = sample_pixels(48, 36)
    result = apply_filter_to_pixels(stylize, rgba, {"max_side": 24})
    assert result.shape == rgba.shape
    np.testing.assert_array_equal(result[..., 3], rgba[..., 3])


def test_layer_bytes_in_layer_bytes_out():
    rgba = sample_pixels()
    height, width = rgba.shape[:2]
    selection = np.full((height, width), 200, np.uint8)
    data = U8.encode(rgba[..., :3], rgba[..., 3])
    result = filter_layer_bytes(InvertFilter(), data, width, height, U8, {}, selection.tobytes())
    expected = apply_filter_to_pixels(InvertFilter(), rgba, {}, selection)
    np.testing.assert_array_equal(U8.decode(result, width, height)[0], expected)


# ---------------------------------------------------------------------------------------
# kritarc


def test_config_value_is_set_in_its_group_and_the_rest_is_kept(tmp_path: Path):
    rc = tmp_path / "kritarc"
    rc.write_text("[General]\nfoo=1\n\n[python]\nenable_other=true\n\n[Other]\nx=y\n")
    assert set_config_value(rc, "python", "enable_me", "true")
    assert rc.read_text() == (
        "[General]\nfoo=1\n\n[python]\nenable_other=true\nenable_me=true\n\n[Other]\nx=y\n"
    )
    assert not set_config_value(rc, "python", "enable_me", "true")  # already so
    assert set_config_value(rc, "python", "enable_me", "false")
    assert "enable_me=false\n" in rc.read_text()
    assert set_config_value(rc, "python", "enable_me", None)
    assert rc.read_text() == "[General]\nfoo=1\n\n[python]\nenable_other=true\n\n[Other]\nx=y\n"


def test_config_group_is_added_and_removed_whole(tmp_path: Path):
    rc = tmp_path / "kritarc"
    rc.write_text("[General]\nfoo=1")  # no newline at the end
    set_config_value(rc, "python", "enable_me", "true")
    assert rc.read_text() == "[General]\nfoo=1\n\n[python]\nenable_me=true\n"
    set_config_value(rc, "python", "enable_me", None)
    assert rc.read_text() == "[General]\nfoo=1\n"
    assert not set_config_value(tmp_path / "absent", "python", "enable_me", None)
    assert not (tmp_path / "absent").exists()


# ---------------------------------------------------------------------------------------
# Installer


def expected_files() -> set[str]:
    module = f"{PLUGIN}/"
    return {
        f"{PLUGIN}.desktop",
        module,
        f"{module}__init__.py",
        f"{module}environment.json",
        f"{module}install-manifest.json",
    }


def test_install_writes_exactly_its_files_and_uninstall_removes_them(tmp_path: Path):
    plugins = tmp_path / "pykrita"
    (plugins / "other").mkdir(parents=True)
    (plugins / "other.desktop").write_text("[Desktop Entry]\n")
    (plugins / "other" / "__init__.py").write_text("")
    rc = tmp_path / "kritarc"
    rc.write_text("[General]\nfoo=1\n\n[python]\nenable_other=true\n\n[Other]\nx=y\n")
    before, rc_before = snapshot(plugins), rc.read_bytes()
    options = InstallOptions(plugin_dir=plugins, config_file=rc, python=HERE)

    lines = install(options)
    assert set(snapshot(plugins)) - set(before) == expected_files()
    assert all(snapshot(plugins)[name] == data for name, data in before.items())
    assert rc.read_text() == rc_before.decode().replace(
        "enable_other=true\n", f"enable_other=true\n{CONFIG_KEY}=true\n"
    )
    environment = json.loads((plugins / PLUGIN / "environment.json").read_text())
    assert environment["python_version"] == HERE
    assert str(REPO) in environment["sys_path"]
    shipped = REPO / "hooks/hosts/krita/pykrita"
    assert (plugins / f"{PLUGIN}.desktop").read_bytes() == (
        shipped / f"{PLUGIN}.desktop"
    ).read_bytes()
    assert any("enabled it in" in line for line in lines)

    install(options)  # again: the same files, nothing more
    assert set(snapshot(plugins)) - set(before) == expected_files()

    (plugins / PLUGIN / "__pycache__").mkdir()  # what Krita's Python leaves behind
    (plugins / PLUGIN / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"x")
    lines = install(InstallOptions(plugin_dir=plugins, config_file=rc, uninstall=True))
    assert snapshot(plugins) == before
    assert rc.read_bytes() == rc_before
    assert any("removed" in line for line in lines)


def test_uninstall_removes_the_folders_and_kritarc_it_created(tmp_path: Path):
    plugins = tmp_path / "share" / "krita" / "pykrita"
    rc = tmp_path / "config" / "kritarc"
    install(InstallOptions(plugin_dir=plugins, config_file=rc, python=HERE))
    assert rc.read_text() == f"[python]\n{CONFIG_KEY}=true\n"
    install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert not (tmp_path / "share").exists()
    assert not rc.exists()
    assert install(InstallOptions(plugin_dir=plugins, config_file=rc, uninstall=True)) == [
        f"no style-plugin Krita plug-in is installed in {plugins}"
    ]


@pytest.mark.parametrize("uninstall", [True, False], ids=["uninstall", "reinstall"])
def test_a_tampered_manifest_removes_nothing_outside_the_plugin(tmp_path: Path, uninstall: bool):
    """Entries outside what the installer owns (`..`, absolute, through a symlink, another
    plug-in's file, a folder it did not create, a settings file not named kritarc) are
    refused, one line each, and everything they name is left as it was."""
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    options = InstallOptions(plugin_dir=plugins, config_file=rc, python=HERE)
    install(options)
    (tmp_path / "victim.txt").write_text("keep\n")
    (tmp_path / "absolute.txt").write_text("keep\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("keep\n")
    (tmp_path / "empty").mkdir()
    (plugins / PLUGIN / "link").symlink_to(tmp_path / "outside")
    (plugins / "other.desktop").write_text("[Desktop Entry]\n")
    settings = tmp_path / "settings.ini"
    settings.write_text(f"[python]\n{CONFIG_KEY}=true\n")
    manifest_file = plugins / PLUGIN / installer.MANIFEST
    manifest = json.loads(manifest_file.read_text())
    bad_files = ["../victim.txt", str(tmp_path / "absolute.txt"), f"{PLUGIN}/link/secret.txt"]
    bad_files += ["other.desktop", f"{PLUGIN}/../../victim.txt", PLUGIN]
    manifest["files"] += bad_files
    manifest["created"].append(str(tmp_path / "empty"))
    manifest.update(config_file=str(settings), config_created=True)
    manifest_file.write_text(json.dumps(manifest))
    before = snapshot(tmp_path)

    lines = install(InstallOptions(plugin_dir=plugins, uninstall=True) if uninstall else options)
    after = snapshot(tmp_path)
    for name in ["victim.txt", "absolute.txt", "outside/secret.txt", "empty/", "settings.ini"]:
        assert after.get(name) == before[name], name
    assert after["pykrita/other.desktop"] == before["pykrita/other.desktop"]
    refused = [line for line in lines if line.startswith("refused ")]
    for entry in [*bad_files, str(tmp_path / "empty"), str(settings)]:
        assert len([line for line in refused if line.startswith(f"refused {entry!r} ")]) == 1
    assert len(refused) == len(bad_files) + 2
    assert all("\n" not in line for line in lines)
    if uninstall:
        assert not (plugins / f"{PLUGIN}.desktop").exists()
        assert sorted(p.name for p in (plugins / PLUGIN).iterdir()) == ["link"]


def test_other_python_offline_prints_the_commands(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("STYLE_PLUGIN_OFFLINE", "1")
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    with pytest.raises(StylePluginError) as error:
        install(InstallOptions(plugin_dir=plugins, config_file=rc, python="3.99"))
    message = str(error.value)
    venv = plugins / VENV
    assert "Krita runs Python 3.99" in message
    assert f"python3.99 -m venv {venv}" in message
    assert f"{venv}/bin/python -m pip install {REPO}" in message
    assert "--no-deps" not in message
    environment = json.loads((plugins / PLUGIN / "environment.json").read_text())
    assert environment["python_version"] == "3.99"
    assert environment["sys_path"] == [str(venv / "lib" / "python3.99" / "site-packages")]
    assert f"{CONFIG_KEY}=true" in rc.read_text()
    venv.mkdir()  # as if the user ran the commands
    install(InstallOptions(plugin_dir=plugins, config_file=rc, uninstall=True))
    assert not plugins.exists() and not rc.exists()


FAKE_PYTHON = """\
#!/bin/sh
# A stand-in "Python 3.99": logs its arguments; `-m venv DIR` makes DIR/bin/python (itself)
# and DIR/pyvenv.cfg, as venv does.
echo "$0 $*" >> "{log}"
case "$1 $2" in
  "-c "*) echo 3.99 ;;
  "-m venv") mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && echo "version = 3.99" > "$3/pyvenv.cfg" ;;
esac
"""


def test_other_python_gets_its_own_environment(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("STYLE_PLUGIN_OFFLINE", raising=False)
    log = tmp_path / "calls.log"
    fake = tmp_path / "python3.99"
    fake.write_text(FAKE_PYTHON.format(log=log))
    fake.chmod(0o755)
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    lines = install(InstallOptions(plugin_dir=plugins, config_file=rc, python=str(fake)))
    venv = plugins / VENV
    calls = log.read_text().splitlines()
    assert calls[0].startswith(f"{fake} -c ")  # its version
    assert calls[1:] == [
        f"{fake} -m venv {venv}",
        f"{venv}/bin/python -m pip install {REPO}",
    ]
    assert f"created a Python 3.99 environment for Krita: {venv}" in lines
    environment = json.loads((plugins / PLUGIN / "environment.json").read_text())
    assert environment["sys_path"] == [str(venv / "lib" / "python3.99" / "site-packages")]
    install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert not plugins.exists()


def test_krita_python_version_is_read_from_its_python_plugin(tmp_path: Path, monkeypatch):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "krita").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "krita").chmod(0o755)
    library = tmp_path / "lib" / "x86_64-linux-gnu" / "kritaplugins" / "kritapykrita.so"
    library.parent.mkdir(parents=True)
    library.write_bytes(b"\x7fELF\0...\0libpython3.13.so.1.0\0libc.so.6\0")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert installer.krita_python_version() == ("3.13", library)
    host, notes = installer.find_host_python()
    assert (host.version, notes) == ("3.13", [])
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    host, notes = installer.find_host_python()
    assert host.version == HERE and "Pass --python" in notes[0]


def test_default_places_on_each_platform(tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "APPDATA", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    macos_plugins = home / "Library/Application Support/krita/pykrita"
    expected = {
        "linux": (home / ".local/share/krita/pykrita", home / ".config/kritarc"),
        "darwin": (macos_plugins, home / "Library/Preferences/kritarc"),
        "win32": (home / "AppData/Roaming/krita/pykrita", home / "AppData/Local/kritarc"),
    }
    for platform, (plugins, rc) in expected.items():
        assert installer.default_plugin_dir(platform) == plugins, platform
        assert installer.default_config_file(platform) == rc, platform
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "APPDATA", "LOCALAPPDATA"):
        monkeypatch.setenv(name, str(tmp_path / name))
    assert installer.default_plugin_dir("linux") == tmp_path / "XDG_DATA_HOME/krita/pykrita"
    assert installer.default_config_file("linux") == tmp_path / "XDG_CONFIG_HOME/kritarc"
    assert installer.default_plugin_dir("win32") == tmp_path / "APPDATA/krita/pykrita"
    assert installer.default_config_file("win32") == tmp_path / "LOCALAPPDATA/kritarc"
    assert installer.default_plugin_dir("darwin") == macos_plugins  # no variables on macOS
    monkeypatch.setenv("XDG_DATA_HOME", "")  # empty counts as unset
    assert installer.default_plugin_dir("linux") == home / ".local/share/krita/pykrita"


def test_installing_for_this_python_removes_the_dedicated_environment(tmp_path: Path):
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    (plugins / VENV / "bin").mkdir(parents=True)  # left by an install for another Python
    lines = install(InstallOptions(plugin_dir=plugins, config_file=rc, python=HERE))
    assert not (plugins / VENV).exists()
    assert any("imports style-plugin from this environment" in line for line in lines)


def test_the_plugin_module_reads_the_shared_record():
    source = (REPO / "hooks/hosts/krita/pykrita" / PLUGIN / "__init__.py").read_text()
    assert f'with_name("{RECORD_FILE}")' in source and '"python_version"' in source


@pytest.mark.host
@pytest.mark.skipif(shutil.which("krita") is None, reason="Krita is not installed")
def test_this_machines_krita_python_is_found():
    found = installer.krita_python_version()
    assert found is not None, "Krita is installed but its Python plug-in was not found"
    version, library = found
    assert library.name.startswith(("kritapykrita", "krita"))
    assert version.startswith("3.")


# ---------------------------------------------------------------------------------------
# style-plugin install


def test_install_command_installs_and_uninstalls_krita(tmp_path: Path, capsys):
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    where = ["--plugin-dir", plugins, "--config", rc]
    code, out, err = run_cli(capsys, "install", "krita", *where, "--python", HERE)
    assert code == 0, err
    assert f"Krita's Python: {HERE} (--python)" in out
    assert (plugins / f"{PLUGIN}.desktop").is_file()
    code, out, err = run_cli(capsys, "install", "krita", "--uninstall", *where)
    assert code == 0, err
    assert not plugins.exists() and not rc.exists()


def test_install_command_dispatches_to_each_host(tmp_path: Path, capsys, monkeypatch):
    seen = []

    class Recorder:
        @staticmethod
        def install(options: InstallOptions) -> list[str]:
            seen.append(options)
            return ["done"]

    monkeypatch.setattr(
        style_plugin.hooks.hosts, "installer", lambda host: seen.append(host) or Recorder
    )
    for host in ("krita", "gimp"):
        code, out, _ = run_cli(capsys, "install", host, "--plugin-dir", tmp_path, "--uninstall")
        assert (code, out) == (0, "done\n")
    assert seen == [
        "krita",
        InstallOptions(plugin_dir=tmp_path, uninstall=True),
        "gimp",
        InstallOptions(plugin_dir=tmp_path, uninstall=True),
    ]


def test_install_command_names_the_known_hosts(capsys):
    code, _, err = run_cli(capsys, "install", "photoshop")
    assert code == 1
    assert err.startswith("error: unknown host 'photoshop'") and "krita" in err


# ---------------------------------------------------------------------------------------
# Real Krita


def require(request: pytest.FixtureRequest, *tools: str) -> None:
    """Skip, printing the reason, unless the tools exist and Krita's Python is this one."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        reason = f"{', '.join(missing)} not installed (apt-get install krita python3-pyqt5 xvfb)"
    else:
        found = installer.krita_python_version()
        krita_python = found[0] if found else None
        if krita_python == HERE:
            return
        reason = f"Krita embeds Python {krita_python}; these tests need this venv's ({HERE})"
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown even without -rs
            reporter.write_line(f"SKIPPED {request.node.name}: {reason}")
    pytest.skip(reason)


def krita_home(tmp_path: Path, user_models_dir: Path) -> dict[str, str]:
    """An isolated home for Krita with the plug-in installed; the environment to run it in."""
    home = tmp_path / "home"
    lines = install(
        InstallOptions(
            plugin_dir=home / ".local/share/krita/pykrita", config_file=home / ".config/kritarc"
        )
    )
    assert any("imports style-plugin from this environment" in line for line in lines), lines
    env = {**os.environ, "HOME": str(home), "STYLE_PLUGIN_MODELS_DIR": str(user_models_dir)}
    env.update(XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"))
    env.update(XDG_CACHE_HOME=str(home / ".cache"), XDG_RUNTIME_DIR=str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DISPLAY"):
        env.pop(name, None)
    return env


def run_bounded(
    command: list[str], env: dict[str, str], cwd: Path, timeout: float = KRITA_TIMEOUT
) -> str:
    """Run `command` in its own process group with a time limit; its output (both streams).
    On timeout the whole group (Xvfb, Krita) is killed and the test fails."""
    process = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{command[0]} ran past {timeout} s:\n{output[-3000:]}")
    finally:
        wait_for_group_to_end(process.pid)
    return output


def wait_for_group_to_end(group: int, timeout: float = 15.0) -> None:
    """Wait until every process of `group` has exited (SIGKILL after `timeout` s), so that no
    server or editor of one test lives on into the next."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.killpg(group, signal.SIGKILL if time.monotonic() > deadline else 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def write_test_image(path: Path) -> np.ndarray:
    rgba = sample_pixels()
    Image.fromarray(rgba).save(path)
    return rgba


def assert_matches_filter(result: np.ndarray, expected: np.ndarray) -> None:
    """Alpha identical; colour within one level where a pixel is visible."""
    np.testing.assert_array_equal(result[..., 3], expected[..., 3])
    visible = expected[..., 3] > 0
    difference = np.abs(result[..., :3].astype(int) - expected[..., :3].astype(int))
    assert difference[visible].max(initial=0) <= 1


RUNNER_SCRIPT = '''\
"""Run by kritarunner: for each case open the image, run the plug-in's code on its layer
(style_plugin_krita sets up the environment, as in Krita), export the result layer."""

import json
import traceback


def __main__(args):
    config = json.loads(args[0])
    report = {}
    import style_plugin_krita  # the installed plug-in: puts the package on sys.path
    from krita import InfoObject, Krita, Selection

    from style_plugin import plugins
    from style_plugin.hooks.hosts.krita.extension import preview_image, read_layer, stylize_layer

    for case in config["cases"]:
        try:
            document = Krita.instance().openDocument(config["input"])
            document.setBatchmode(True)
            node = document.rootNode().childNodes()[0]
            if case.get("space"):
                model, depth, profile = case["space"]
                if not profile:  # the sRGB-curve one where there is one, as Krita defaults
                    profiles = Krita.instance().profiles(model, depth)
                    profile = ([p for p in profiles if "srgbtrc" in p] + profiles)[0]
                if not node.setColorSpace(model, depth, profile):
                    raise RuntimeError(f"Krita could not convert the layer to {case['space']}")
            w, h = document.width(), document.height()
            space = [node.colorModel(), node.colorDepth(), node.colorProfile()]
            converted = bytes(node.pixelData(0, 0, w, h)).hex()
            if case.get("selection"):
                selection = Selection()
                selection.select(*case["selection"])
                document.setSelection(selection)
            stylize = plugins.get_filter("stylize")
            preview = preview_image(stylize, read_layer(document, node), case["params"])
            if case.get("scripter"):  # the documented entry point for Krita's Scripter
                layer = style_plugin_krita.stylize(document, node, **case["params"])
            else:
                layer = stylize_layer(document, node, stylize, case["params"])
            report[case["name"]] = {
                "layers": [child.name() for child in document.rootNode().childNodes()],
                "space": space,
                "result_space": [layer.colorModel(), layer.colorDepth(), layer.colorProfile()],
                "preview": [preview.width(), preview.height()],
                "input": converted,
                "pixels": bytes(layer.pixelData(0, 0, w, h)).hex(),
            }
            node.setVisible(False)
            document.refreshProjection()
            document.exportImage(case["output"], InfoObject())
            document.close()
        except Exception:
            report[case["name"]] = {"error": traceback.format_exc()}
    report["cancel"] = cancel_from_progress_dialog()
    report["text_formats"] = dialog_text_formats()
    with open(config["report"], "w") as handle:
        json.dump(report, handle)


def dialog_text_formats():
    """The filter dialog's labels and choices for texts that look like rich text or escapes."""
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QComboBox, QLabel

    from style_plugin.hooks.filters import Choice, Filter, Param
    from style_plugin.hooks.hosts.krita.ui import FilterDialog

    class MarkupFilter(Filter):
        name = "markup"
        label = "<b>Markup</b>"
        description = "<i>rich?</i>"

        def params(self):
            choices = (Choice("a", "<b>A</b>\x1b[2J"), Choice("b", "B"))
            return [Param("style", "<u>Style</u>", "choice", "a", "", choices=choices)]

        def run(self, image, params, progress, cancel):
            return image

    dialog = FilterDialog(MarkupFilter(), lambda values: None)
    plain = {label.text(): label.textFormat() == Qt.PlainText
             for label in dialog.findChildren(QLabel) if label.text()}
    plain["preview"] = dialog.preview_label.textFormat() == Qt.PlainText
    combo = dialog.findChild(QComboBox, "style")
    seen = {"plain": plain, "choice": [combo.itemText(0), combo.itemData(0)]}
    dialog.deleteLater()
    return seen


def cancel_from_progress_dialog():
    """Press Cancel in run_with_progress's dialog while slow work runs; what came of it."""
    import time

    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QApplication

    from style_plugin.hooks.hosts.krita.ui import run_with_progress

    seen = {}

    def press_cancel():
        for widget in QApplication.topLevelWidgets():
            if widget.objectName() == "style_plugin_progress" and widget.isVisible():
                seen["maximum"], seen["value"] = widget.maximum(), widget.value()
                widget.cancel()
                return
        QTimer.singleShot(50, press_cancel)

    def work(progress, cancel):
        for step in range(200):
            progress(step, 200)
            if cancel():
                return "stopped at %d" % step
            time.sleep(0.05)
        return "not cancelled"

    QTimer.singleShot(500, press_cancel)
    try:
        seen["result"] = run_with_progress(None, "Testing", work)
    except Exception as exc:
        seen["raised"] = type(exc).__name__
    return seen
'''


@pytest.mark.host
def test_kritarunner_runs_the_plugin_code(
    request, tmp_path: Path, user_models_dir: Path, stylize: Filter
):
    require(request, "kritarunner")
    env = krita_home(tmp_path, user_models_dir)
    source = write_test_image(tmp_path / "in.png")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "stylize_runner.py").write_text(RUNNER_SCRIPT)
    plugins = tmp_path / "home/.local/share/krita/pykrita"
    env.update(PYTHONPATH=f"{scripts}{os.pathsep}{plugins}", QT_QPA_PLATFORM="offscreen")
    params = {"style": "the_scream", "strength": 0.8}
    cases = [
        {"name": "layer", "params": params},
        {"name": "half-selected", "params": params, "selection": [8, 2, 20, 24, 128]},
        {"name": "16-bit", "params": params, "space": ["RGBA", "U16", ""]},
        {"name": "float", "params": params, "space": ["RGBA", "F32", "sRGB-elle-V2-g10.icc"]},
        {"name": "half-float", "params": params, "space": ["RGBA", "F16", "sRGB-elle-V2-g10.icc"]},
        {"name": "gray", "params": params, "space": ["GRAYA", "U8", ""]},
        {"name": "gray-16", "params": params, "space": ["GRAYA", "U16", ""]},
        {"name": "cmyk", "params": params, "space": ["CMYKA", "U8", ""]},
        {"name": "scripter", "params": params, "scripter": True},
    ]
    for case in cases:
        case["output"] = str(tmp_path / f"{case['name']}.png")
    config = {"input": str(tmp_path / "in.png"), "report": str(tmp_path / "report.json")}
    config["cases"] = cases
    log = run_bounded(["kritarunner", "-s", "stylize_runner", json.dumps(config)], env, tmp_path)
    assert (tmp_path / "report.json").exists(), log[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    height, width = source.shape[:2]
    stylized = np.asarray(stylize.apply(source, params).convert("RGBA"))

    layer = report["layer"]
    assert layer.get("error") is None, layer.get("error")
    assert layer["layers"] == ["Background", "Background (Stylize: The Scream)"]
    assert_matches_filter(U8.decode(bytes.fromhex(layer["pixels"]), width, height)[0], stylized)
    assert_matches_filter(np.asarray(Image.open(cases[0]["output"])), stylized)
    scripted = report["scripter"]
    assert scripted.get("error") is None, scripted.get("error")
    assert scripted["pixels"] == layer["pixels"] and scripted["layers"] == layer["layers"]

    x, y, w, h, value = cases[1]["selection"]
    crop = source[y : y + h, x : x + w]
    expected = np.zeros_like(source)
    expected[y : y + h, x : x + w] = np.asarray(stylize.apply(crop, params).convert("RGBA"))
    expected[y : y + h, x : x + w, 3] = (crop[..., 3].astype(int) * value + 127) // 255
    half = report["half-selected"]
    assert half.get("error") is None, half.get("error")
    assert_matches_filter(U8.decode(bytes.fromhex(half["pixels"]), width, height)[0], expected)
    assert half["preview"] == [w, h] and report["layer"]["preview"] == [width, height]

    # Every other layer type: the result layer has the layer's colour space, its alpha is the
    # layer's own exactly, and its colours are the filter's on the layer's pixels as Krita
    # converted them, within a level (of 8 bits).
    for name, model, depth, linear in [
        ("16-bit", "RGBA", "U16", False),
        ("float", "RGBA", "F32", True),
        ("half-float", "RGBA", "F16", True),
        ("gray", "GRAYA", "U8", False),
        ("gray-16", "GRAYA", "U16", False),
    ]:
        case = report[name]
        assert case.get("error") is None, (name, case.get("error"))
        assert case["space"][:2] == [model, depth] and case["result_space"] == case["space"]
        fmt = layer_format(*case["space"])
        assert fmt.linear == linear, case["space"]
        data = bytes.fromhex(case["input"])
        expected = filter_layer_bytes(stylize, data, width, height, fmt, params)
        result = bytes.fromhex(case["pixels"])
        channels = 2 if model == "GRAYA" else 4
        stored = np.frombuffer(result, fmt.dtype).reshape(height, width, channels)
        wanted = np.frombuffer(expected, fmt.dtype).reshape(height, width, channels)
        np.testing.assert_array_equal(stored[..., -1], wanted[..., -1], err_msg=name)
        got, want = fmt.decode(result, width, height)[0], fmt.decode(expected, width, height)[0]
        level = 1 if got.dtype == np.uint8 else 257
        visible = want[..., 3] > 0
        difference = np.abs(got[..., :3].astype(int) - want[..., :3].astype(int))
        assert difference[visible].max(initial=0) <= level + 1, name
        assert case["preview"] == [width, height], name

    assert "Cannot stylize 'Background'" in report["cmyk"]["error"]
    assert "CMYKA" in report["cmyk"]["error"]
    assert "Convert Image Color Space" in report["cmyk"]["error"]

    formats = report["text_formats"]
    assert formats["plain"]["<u>Style</u>"] and formats["plain"]["<i>rich?</i>"], formats
    assert formats["plain"]["preview"] and all(formats["plain"].values()), formats
    assert formats["choice"] == ["<b>A</b>\\x1b[2J", "a"]

    cancel = report["cancel"]
    assert cancel.get("raised") == "Cancelled", cancel
    assert cancel["maximum"] == 200 and 0 < cancel["value"] < 200


DRIVER_DESKTOP = """\
[Desktop Entry]
Type=Service
ServiceTypes=Krita/PythonPlugin
X-KDE-Library={module}
X-Python-2-Compatible=false
Name=Stylize test driver
Comment=Drives Filter > Stylize… in style-plugin's tests
"""


def install_driver(home: Path, module: str, source: str) -> None:
    """Install and enable a test extension `module` (Python `source`) in Krita's `home`."""
    plugins = home / ".local/share/krita/pykrita"
    (plugins / module).mkdir()
    (plugins / module / "__init__.py").write_text(source)
    (plugins / f"{module}.desktop").write_text(DRIVER_DESKTOP.format(module=module))
    set_config_value(home / ".config/kritarc", "python", f"enable_{module}", "true")


DRIVER = '''\
"""Loaded by Krita in style-plugin's test: triggers Filter > Stylize… on the opened image,
fills in the dialog, previews, takes a screenshot, exports the result layer, undoes, quits.
What it sees goes to the JSON report named in $STYLIZE_DRIVER."""

import json
import os
import traceback

from krita import Extension, InfoObject, Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QComboBox, QDoubleSpinBox, QLabel

CONFIG = json.loads(os.environ["STYLIZE_DRIVER"])
REPORT = {"steps": []}


def note(step, **data):
    REPORT["steps"].append(step)
    REPORT.update(data)
    with open(CONFIG["report"], "w") as handle:
        json.dump(REPORT, handle, indent=1)


def layer_names(document):
    return [node.name() for node in document.rootNode().childNodes()]


def fill_dialog(attempt=0):
    dialog = QApplication.activeModalWidget()
    if dialog is None or dialog.objectName() != "style_plugin_filter_dialog":
        if attempt < 100:
            QTimer.singleShot(100, lambda: fill_dialog(attempt + 1))
        return
    try:
        combo = dialog.findChild(QComboBox, "style")
        combo.setCurrentIndex(combo.findData(CONFIG["params"]["style"]))
        dialog.findChild(QDoubleSpinBox, "strength").setValue(CONFIG["params"]["strength"])
        first = dialog.previewed  # the preview made when the dialog opened, if it came yet
        note("dialog", first_preview=first, style_labels=[combo.itemText(i) for i in range(combo.count())])
        QTimer.singleShot(100, lambda: wait_for_preview(dialog))  # no Preview button pressed
    except Exception:
        note("dialog failed", error=traceback.format_exc())
        dialog.reject()


def wait_for_preview(dialog, attempt=0):
    """Accept once the preview shows the values set (it follows them by itself)."""
    try:
        if dialog.previewed != dialog.values() and attempt < 100:
            QTimer.singleShot(100, lambda: wait_for_preview(dialog, attempt + 1))
            return
        preview = dialog.findChild(QLabel, "preview").pixmap()
        note(
            "previewed",
            previewed=dialog.previewed,
            preview_size=None if preview is None else [preview.width(), preview.height()],
            values=dialog.values(),
        )
        QApplication.processEvents()
        QApplication.primaryScreen().grabWindow(0).save(CONFIG["screenshot"])
        dialog.accept()
    except Exception:
        note("dialog failed", error=traceback.format_exc())
        dialog.reject()


def run(attempt=0):
    app = Krita.instance()
    document, window = app.activeDocument(), app.activeWindow()
    if document is None or window is None:
        if attempt < 100:
            QTimer.singleShot(200, lambda: run(attempt + 1))
        else:
            finish("no document or window")
        return
    try:
        window.qwindow().setGeometry(QApplication.primaryScreen().availableGeometry())
        filter_menu = [
            item.text()
            for menu in window.qwindow().menuBar().actions()
            if menu.menu() and menu.text().replace("&", "") == "Filter"
            for item in menu.menu().actions()
        ]
        original = document.activeNode()
        note("start", layers_before=layer_names(document), filter_menu=filter_menu)
        QTimer.singleShot(300, fill_dialog)
        app.action("style_plugin_stylize").trigger()
        document.waitForDone()
        result = document.rootNode().childNodes()[-1]
        note("applied", layers_after=layer_names(document))
        original.setVisible(False)
        document.refreshProjection()
        document.setBatchmode(True)
        exported = document.exportImage(CONFIG["output"], InfoObject())
        original.setVisible(True)
        w, h = document.width(), document.height()
        note("exported", exported=exported, result=result.name(),
             result_pixels=bytes(result.pixelData(0, 0, w, h)).hex())
        QTimer.singleShot(500, lambda: undo(document))
    except Exception:
        finish(traceback.format_exc())


def undo(document):
    action = Krita.instance().action("edit_undo")
    note("undo", undo=action.text())
    action.trigger()
    QTimer.singleShot(1000, lambda: again(document))


def again(document):
    """Tools > Scripts > Stylize Again: the last settings, no dialog."""
    try:
        note("again", layers_after_undo=layer_names(document))
        app = Krita.instance()
        app.action("style_plugin_stylize_again").trigger()
        document.waitForDone()
        result = document.rootNode().childNodes()[-1]
        w, h = document.width(), document.height()
        scripts = [
            item.text()
            for menu in app.activeWindow().qwindow().menuBar().actions()
            if menu.menu() and menu.text().replace("&", "") == "Tools"
            for sub in menu.menu().actions()
            if sub.menu() and sub.text().replace("&", "") == "Scripts"
            for item in sub.menu().actions()
        ]
        QTimer.singleShot(1000, lambda: finish(
            None,
            layers_after_again=layer_names(document),
            again_pixels=bytes(result.pixelData(0, 0, w, h)).hex(),
            scripts_menu=scripts,
        ))
    except Exception:
        finish(traceback.format_exc())


def finish(error, **data):
    note("done", error=error, **data)
    for document in Krita.instance().documents():
        document.setModified(False)
    QTimer.singleShot(0, Krita.instance().action("file_quit").trigger)


class StylizeTestDriver(Extension):
    def setup(self):
        pass

    def createActions(self, window):
        QTimer.singleShot(500, run)


Krita.instance().addExtension(StylizeTestDriver(Krita.instance()))
'''


@pytest.mark.host
def test_krita_runs_the_installed_action_and_undoes_it(
    request,
    tmp_path: Path,
    user_models_dir: Path,
    style_model: Path,
    stylize: Filter,
    pack_site: Path,
):
    """The whole GUI path, with a third-party style pack pip-installed beside the package."""
    require(request, "krita", "Xvfb")
    env = krita_home(tmp_path, user_models_dir)
    env["PYTHONPATH"] = str(pack_site)
    install_driver(tmp_path / "home", "stylize_test_driver", DRIVER)
    source = write_test_image(tmp_path / "in.png")
    params = {"style": "the_scream", "strength": 0.8}
    report_path, output = tmp_path / "report.json", tmp_path / "out.png"
    env["STYLIZE_DRIVER"] = json.dumps(
        {
            "report": str(report_path),
            "output": str(output),
            "screenshot": str(tmp_path / "screen.png"),
            "params": params,
        }
    )
    command = on_a_display(["krita", "--nosplash", "in.png"])
    log = run_bounded(command, env, tmp_path)
    assert report_path.exists(), log[-3000:]
    report = json.loads(report_path.read_text())
    assert report["error"] is None, report["error"]
    assert report["steps"] == [
        *["start", "dialog", "previewed", "applied", "exported", "undo", "again", "done"]
    ]
    assert "Traceback" not in log and "ASSERT" not in log, log[-3000:]
    assert "Stylize…" in report["filter_menu"]
    bundled = {info.name: info.label for info in bundled_styles()}
    pack = list(PACK_STYLES.values())
    # The user's styles come last, and one named like a bundled style is shadowed by it
    # (the first found wins: docs/plugins.md).
    user = [s.label for s in load_model(style_model).styles if s.name not in bundled]
    assert report["style_labels"] == [*bundled.values(), *pack, *user]
    expected = {**params, "preserve_colors": False, "scale": 1.0, "max_side": 0}
    assert report["values"] == expected
    assert report["preview_size"] and max(report["preview_size"]) == 320
    assert report["previewed"] == expected  # the preview followed the values by itself
    assert report["layers_after"] == ["Background", "Background (Stylize: The Scream)"]
    assert report["undo"] == "Undo Add Layer"
    assert report["layers_after_undo"] == report["layers_before"] == ["Background"]
    # Stylize Again: the same settings, no dialog, the same result
    assert "Stylize Again" in report["scripts_menu"]
    assert report["layers_after_again"] == report["layers_after"]
    assert report["again_pixels"] == report["result_pixels"]
    stylized = np.asarray(stylize.apply(source, params).convert("RGBA"))
    assert_matches_filter(np.asarray(Image.open(output)), stylized)
    assert Image.open(tmp_path / "screen.png").size == (1280, 800)


NEW_STYLE_DRIVER = '''\
"""Loaded by Krita in style-plugin's test: Filter > Stylize…, then "New style from an
image…" twice: a style learnt from a painting file (after a refused empty name), and one
from the open image that is cancelled; then the new style is applied. What it sees goes to
the JSON report named in $NEW_STYLE_DRIVER."""

import json
import os
import traceback

from krita import Extension, Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QCheckBox, QComboBox, QLabel, QLineEdit, QPushButton
from PyQt5.QtWidgets import QSpinBox

CONFIG = json.loads(os.environ["NEW_STYLE_DRIVER"])
REPORT = {"steps": [], "progress": []}
STATE = {}  # the Stylize dialog, once it is up
POLL_MS, POLLS = 200, 600  # up to two minutes for each wait


def note(step, **data):
    REPORT["steps"].append(step)
    REPORT.update(data)
    with open(CONFIG["report"], "w") as handle:
        json.dump(REPORT, handle, indent=1)


def modal(name):
    widget = QApplication.activeModalWidget()
    return widget if widget is not None and widget.objectName() == name else None


def training_window():
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "style_plugin_training" and widget.isVisible():
            return widget
    return None


def wait(condition, then, what, polls=POLLS):
    """Call then() once condition() is true, polling; fail the run after `polls` tries."""
    try:
        if condition():
            then()
        elif polls:
            QTimer.singleShot(POLL_MS, lambda: wait(condition, then, what, polls - 1))
        else:
            finish(f"gave up waiting for {what}")
    except Exception:
        finish(traceback.format_exc())


def watch_progress():
    window = training_window()
    if window is not None:
        REPORT["progress"].append([window.value(), window.maximum(), window.labelText()])
    return window


def start():
    app = Krita.instance()
    if app.activeDocument() is None or app.activeWindow() is None:
        QTimer.singleShot(200, start)
        return
    note("start")
    QTimer.singleShot(300, lambda: wait(lambda: modal("style_plugin_filter_dialog"), in_dialog,
                                        "the Stylize dialog"))
    app.action("style_plugin_stylize").trigger()  # returns when the dialog closes
    document = app.activeDocument()
    document.waitForDone()
    note("applied", layers_after=[n.name() for n in document.rootNode().childNodes()])
    QTimer.singleShot(1000, lambda: finish(None))  # once Krita has settled the new layer


def in_dialog():
    dialog = modal("style_plugin_filter_dialog")
    STATE["dialog"] = dialog
    combo = dialog.findChild(QComboBox, "style")
    note("dialog", labels_before=[combo.itemText(i) for i in range(combo.count())])
    ask(fill_empty_name)


def ask(fill):
    """Press "New style from an image…" and fill its dialog with `fill` once it is up."""
    QTimer.singleShot(200, lambda: wait(lambda: modal("style_plugin_new_style_dialog"), fill,
                                        "the New Style dialog"))
    STATE["dialog"].findChild(QPushButton, "new_style_button").click()


def fill_empty_name():
    ask_dialog = modal("style_plugin_new_style_dialog")
    ask_dialog.findChild(QLineEdit, "painting").setText(CONFIG["painting"])
    ask_dialog.accept()  # no name: stays open and says why
    note("refused", refused=ask_dialog.findChild(QLabel, "error").text(),
         still_open=ask_dialog.isVisible())
    ask_dialog.findChild(QLineEdit, "label").setText(CONFIG["label"])
    ask_dialog.findChild(QSpinBox, "steps").setValue(CONFIG["steps"])
    ask_dialog.accept()
    note("training")
    wait(lambda: watch_progress() is None and added(CONFIG["name"]), after_added,
         "the new style in the Style list")


def added(name):
    return STATE["dialog"].findChild(QComboBox, "style").findData(name) >= 0


def after_added():
    dialog = STATE["dialog"]
    combo = dialog.findChild(QComboBox, "style")
    note("added", selected=combo.currentData(), message=dialog.findChild(QLabel, "status").text(),
         labels_after=[combo.itemText(i) for i in range(combo.count())])
    ask(fill_cancelled)


def fill_cancelled():
    ask_dialog = modal("style_plugin_new_style_dialog")
    ask_dialog.findChild(QCheckBox, "use_open_image").setChecked(True)
    ask_dialog.findChild(QLineEdit, "label").setText(CONFIG["cancel_label"])
    ask_dialog.findChild(QSpinBox, "steps").setValue(CONFIG["cancel_steps"])
    ask_dialog.accept()
    wait(stepped, press_cancel, "the first step")


def stepped():
    window = watch_progress()
    return window is not None and window.value() >= 1


def press_cancel():
    (button,) = training_window().findChildren(QPushButton)
    button.click()
    note("cancel pressed")
    wait(lambda: training_window() is None, after_cancel, "the training to stop")


def after_cancel():
    dialog = STATE["dialog"]
    note("stopped", cancelled_listed=added(CONFIG["cancel_name"]))
    dialog.findChild(QPushButton, "preview_button").click()
    preview = dialog.findChild(QLabel, "preview").pixmap()
    note("previewed", preview=None if preview is None else [preview.width(), preview.height()])
    QApplication.processEvents()
    QApplication.primaryScreen().grabWindow(0).save(CONFIG["screenshot"])
    dialog.accept()


def finish(error):
    if "done" in REPORT["steps"]:  # the first error stands
        return
    note("done", error=error)
    for _ in range(3):  # a failure may leave dialogs open, which would keep Krita running
        widget = QApplication.activeModalWidget()
        if widget is not None:
            widget.reject()
    for document in Krita.instance().documents():
        document.setModified(False)
    QTimer.singleShot(0, Krita.instance().action("file_quit").trigger)
    QTimer.singleShot(5000, still_open)


def still_open():
    windows = [
        (type(w).__name__, w.objectName(), w.windowTitle(), getattr(w, "text", str)())
        for w in QApplication.topLevelWidgets() if w.isVisible()
    ]
    REPORT["still_open_after_quit"] = windows
    with open(CONFIG["report"], "w") as handle:
        json.dump(REPORT, handle, indent=1)


class Driver(Extension):
    def setup(self):
        pass

    def createActions(self, window):
        QTimer.singleShot(500, start)


Krita.instance().addExtension(Driver(Krita.instance()))
'''


@pytest.mark.host
def test_krita_adds_a_style_from_an_image_and_cancels_another(
    request, tmp_path: Path, user_models_dir: Path, paintings: dict[str, Path]
):
    """Stylize's "New style from an image…" in the real Krita: the training runs as a separate
    process with progress, the new style appears selected in the Style list and is applied;
    a second one, learnt from the open image, is cancelled and keeps its checkpoint."""
    require(request, "krita", "Xvfb")
    env = krita_home(tmp_path, user_models_dir)
    install_driver(tmp_path / "home", "new_style_test_driver", NEW_STYLE_DRIVER)
    write_test_image(tmp_path / "in.png")
    report_path = tmp_path / "report.json"
    config = {
        "report": str(report_path),
        "screenshot": str(tmp_path / "screen.png"),
        "painting": str(paintings["stripes"]),
        "label": "Test <b>Stripes</b>",
        "name": "test-b-stripes-b",
        "steps": 2,
        "cancel_label": "Cancelled one",
        "cancel_name": "cancelled-one",
        "cancel_steps": 500,
    }
    env["NEW_STYLE_DRIVER"] = json.dumps(config)
    command = on_a_display(["krita", "--nosplash", "in.png"])
    log = run_bounded(command, env, tmp_path, timeout=420)
    assert report_path.exists(), log[-3000:]
    report = json.loads(report_path.read_text())
    assert report["error"] is None, (report["error"], log[-3000:])
    assert report["steps"] == [
        *["start", "dialog", "refused", "training", "added", "cancel pressed", "stopped"],
        *["previewed", "applied", "done"],
    ]
    assert report["refused"] == "Give the new style a name." and report["still_open"]
    progress = report["progress"]
    assert any(value >= 1 and maximum == 2 for value, maximum, _ in progress), progress
    assert any("step 1 of 2" in text for *_, text in progress), progress

    name = config["name"]
    assert report["selected"] == name
    assert report["labels_after"] == [*report["labels_before"], config["label"]]
    assert config["label"] in report["message"]
    model = load_model(user_models_dir / f"{name}.onnx")
    assert [(s.name, s.label) for s in model.styles] == [(name, config["label"])]
    assert report["layers_after"] == ["Background", f"Background (Stylize: {config['label']})"]
    assert report["preview"] and max(report["preview"]) == 320

    runs = user_models_dir.parent / "runs"
    assert not report["cancelled_listed"]
    assert not (user_models_dir / "cancelled-one.onnx").exists()
    assert (runs / "cancelled-one" / "checkpoint.pt").is_file()  # goes on from here
    assert Image.open(runs / "cancelled-one-painting.png").size == (40, 32)  # the open image
    assert "Traceback" not in log, log[-3000:]
