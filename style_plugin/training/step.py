"""One optimisation step of the generator and the discriminator on one batch of photos.

The step touches no files, reads no clock and prints nothing: it takes the step number and
the batch, moves the weights and returns the losses. Its random choices (which style each
photo gets, which painting crops the discriminator sees) come from generators seeded by
(seed, step, rank), so a resumed run takes exactly the steps an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from style_plugin.models.discriminator import PatchDiscriminator
from style_plugin.training.config import TrainConfig
from style_plugin.training.data import StyleImages, sample_style_indices, step_generator
from style_plugin.training.losses import (
    PerceptualLoss,
    discriminator_loss,
    generator_adversarial_loss,
    small_changes,
    smooth_fields,
    stability_loss,
    total_variation,
)


class LossNotFinite(Exception):
    """A loss became NaN or infinite: the weights can no longer be trusted."""

    def __init__(self, step: int, losses: list[str]) -> None:
        super().__init__(f"{', '.join(losses)} loss is not finite at step {step}")
        self.step = step
        self.losses = losses


@dataclass
class Optimisers:
    """Adam for the generator and the discriminator, each with its gradient scaler (on for
    fp16 only); their states go into checkpoints under the keys `state_dict` names."""

    generator: torch.optim.Optimizer
    discriminator: torch.optim.Optimizer
    generator_scaler: torch.amp.GradScaler
    discriminator_scaler: torch.amp.GradScaler

    def state_dict(self) -> dict[str, Any]:
        return {
            "opt_g": self.generator.state_dict(),
            "opt_d": self.discriminator.state_dict(),
            "scaler_g": self.generator_scaler.state_dict(),
            "scaler_d": self.discriminator_scaler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Load what `state_dict` wrote; a compact state (checkpoint.compact_state) has no
        discriminator optimiser, which then starts afresh."""
        self.generator.load_state_dict(state["opt_g"])
        if "opt_d" in state:
            self.discriminator.load_state_dict(state["opt_d"])
        self.generator_scaler.load_state_dict(state["scaler_g"])
        self.discriminator_scaler.load_state_dict(state["scaler_d"])


@dataclass
class TrainingStep:
    """Calling it with (step, content batch) trains one step and returns the losses.

    `generator` is the generator as the losses see it (the styles being trained, wrapped for
    DistributedDataParallel when several processes train), `discriminator` likewise;
    `critic` is the bare discriminator, which judges the generator's output with its own
    weights frozen. `amp_dtype` is the mixed-precision type, None for full precision.
    """

    config: TrainConfig
    styles: StyleImages
    generator: nn.Module
    discriminator: nn.Module
    critic: PatchDiscriminator
    perceptual: PerceptualLoss
    optimisers: Optimisers
    device: torch.device
    memory_format: torch.memory_format
    amp_dtype: torch.dtype | None
    rank: int = 0

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is not None:
            return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)
        return contextlib.nullcontext()

    def _on_device(self, batch: Tensor) -> Tensor:
        batch = batch.to(self.device, non_blocking=True)
        return batch.contiguous(memory_format=self.memory_format)

    def _stability(self, step: int, content: Tensor, fake: Tensor, weights: Tensor) -> Tensor:
        """The stability term on the photos and on as many smooth fields as half of them,
        each changed a little (`small_changes`)."""
        cfg = self.config
        draws = step_generator(cfg.seed, step, self.rank, 3)
        count = max(1, content.shape[0] // 2)
        fields = self._on_device(smooth_fields(count, tuple(content.shape[-2:]), draws))
        inputs = torch.cat([content, fields])
        both = torch.cat([weights, weights[:count]])
        shift = small_changes(inputs, cfg.stability_noise, draws)
        with self._autocast():
            plain = torch.cat([fake, self.generator(fields, weights[:count])])
            shaken = self.generator(inputs + shift, both)
        return stability_loss(plain, shaken, shift)

    def __call__(self, step: int, content: Tensor) -> dict[str, float]:
        """Train step `step` on `content` ([N,3,H,W] in 0..1); the losses as plain numbers.
        Raises `LossNotFinite` before any weight moves on a loss that is not finite."""
        cfg, opt = self.config, self.optimisers
        num_styles = len(self.styles.names)
        style_index = sample_style_indices(
            num_styles, content.shape[0], step_generator(cfg.seed, step, self.rank, 1)
        )
        weights = F.one_hot(style_index, num_styles).float().to(self.device)
        style_index = style_index.to(self.device)
        content = self._on_device(content)
        adversarial = cfg.adv_weight > 0

        with self._autocast():
            fake = self.generator(content, weights)

        d_loss = torch.zeros((), device=self.device)
        if adversarial:
            real = self.styles.real_crops(
                style_index.cpu(), step_generator(cfg.seed, step, self.rank, 2)
            )
            with self._autocast():
                logits = self.discriminator(
                    torch.cat([self._on_device(real), fake.detach()]),
                    torch.cat([style_index, style_index]),
                ).float()
            real_logits, fake_logits = logits.chunk(2)
            d_loss = discriminator_loss(cfg.gan_loss, real_logits, fake_logits)
            _check_finite(step, {"discriminator": d_loss})
            opt.discriminator.zero_grad(set_to_none=True)
            opt.discriminator_scaler.scale(d_loss).backward()
            opt.discriminator_scaler.step(opt.discriminator)
            opt.discriminator_scaler.update()

        with self._autocast():
            content_loss, style_loss = self.perceptual(fake, content, weights)
        tv_loss = total_variation(fake.float())
        steady_loss = torch.zeros((), device=self.device)
        if cfg.stability_weight > 0:
            steady_loss = self._stability(step, content, fake, weights)
        adv_loss = torch.zeros((), device=self.device)
        if adversarial:
            self.critic.requires_grad_(False)
            with self._autocast():
                adv_loss = generator_adversarial_loss(
                    cfg.gan_loss, self.critic(fake, style_index).float()
                )
            self.critic.requires_grad_(True)
        total = (
            cfg.content_weight * content_loss
            + cfg.style_weight * style_loss
            + cfg.adv_weight * adv_loss
            + cfg.tv_weight * tv_loss
            + cfg.stability_weight * steady_loss
        )
        losses = {
            "content": content_loss,
            "style": style_loss,
            "adversarial": adv_loss,
            "tv": tv_loss,
            "stability": steady_loss,
        }
        _check_finite(step, {**losses, "total": total})
        opt.generator.zero_grad(set_to_none=True)
        opt.generator_scaler.scale(total).backward()
        opt.generator_scaler.step(opt.generator)
        opt.generator_scaler.update()
        figures = {**losses, "total": total, "discriminator": d_loss}
        return {k: float(v.detach()) for k, v in figures.items()}


def _check_finite(step: int, losses: dict[str, Tensor]) -> None:
    bad = [name for name, value in losses.items() if not torch.isfinite(value).all()]
    if bad:
        raise LossNotFinite(step, bad)
