"""Errors that users see as one clear line (the CLI prints them and exits non-zero)."""


class StylePluginError(Exception):
    """Base for errors caused by the user's input or environment, not by a bug."""


class DataError(StylePluginError):
    """An input image, folder or style specification cannot be used."""


class WeightsUnavailableError(StylePluginError):
    """No source of pretrained perceptual-network weights could be loaded."""


class TrainingError(StylePluginError):
    """Training cannot start or cannot go on (bad options, diverged losses, bad run folder)."""
