"""What a batch is asked to do, checked once: `BatchOptions` and the output format names.

A bad option raises `OptionError`, which names the option apart from the message so that each
front end can spell it as its users do (the CLI: its flags); the runtime never names flags.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from style_plugin.errors import StylePluginError

__all__ = ["OUTPUT_FORMATS", "BatchOptions", "OptionError", "normalize_format"]

#: Output format names -> (Pillow format, extension). "jpg" and "tif" are accepted too.
OUTPUT_FORMATS: dict[str, tuple[str, str]] = {
    "png": ("PNG", ".png"),
    "jpeg": ("JPEG", ".jpg"),
    "webp": ("WEBP", ".webp"),
    "tiff": ("TIFF", ".tif"),
}
_FORMAT_ALIASES = {"jpg": "jpeg", "tif": "tiff"}


class OptionError(StylePluginError):
    """An option (of a batch, or a style setting) that cannot be used.

    `template` holds `{0}`, `{1}`, ... where the `options` (field names of `BatchOptions` or
    `StyleSettings`) go and `{key}` for the `values`; `str()` spells the options by their
    Python names.
    """

    def __init__(self, template: str, *options: str, **values: object) -> None:
        self.template, self.options, self.values = template, options, values
        super().__init__(self.naming({}))

    def naming(self, spelling: Mapping[str, str]) -> str:
        """The message with each option spelled as `spelling` says (unlisted: its own name)."""
        names = (spelling.get(option, option) for option in self.options)
        return self.template.format(*names, **self.values)


def normalize_format(name: str) -> str:
    """'jpg' / 'JPEG' / '.jpeg' -> 'jpeg'; OptionError naming the choices otherwise."""
    key = name.lower().lstrip(".")
    key = _FORMAT_ALIASES.get(key, key)
    if key not in OUTPUT_FORMATS:
        choices = ", ".join(OUTPUT_FORMATS)
        raise OptionError(
            "unknown {0} {name!r}; choose one of {choices}", "format", name=name, choices=choices
        )
    return key


@dataclass(frozen=True)
class BatchOptions:
    """Where a batch's results go, how they are written, and how many I/O threads it uses.

    `output` None writes beside each input as `<stem><suffix><ext>` (`suffix` default
    `default_suffix`); a folder mirrors the input tree (no suffix unless one is given); a
    file name (with an image suffix, not an existing folder) takes a single input. `format`
    is png|jpeg|webp|tiff (None: the input's own format where it can be written, else PNG).
    What the work itself does (a style, a filter's parameters) is bound into its job.
    `draft_side` lets a JPEG decode at a fraction of its size, never below that long side
    (for work that shrinks images to it anyway: `--max-side`).
    """

    allow_large: bool = False
    draft_side: int | None = None
    output: Path | None = None
    output_is_dir: bool = False
    format: str | None = None
    quality: int | None = None
    suffix: str | None = None
    default_suffix: str = "-stylized"
    skip_existing: bool = False
    overwrite: bool = False
    jobs: int = 2

    def __post_init__(self) -> None:
        if self.overwrite and self.skip_existing:
            raise OptionError("{0} and {1} contradict each other", "overwrite", "skip_existing")
        if self.jobs < 1:
            raise OptionError("{0} must be at least 1, not {jobs}", "jobs", jobs=self.jobs)
        if self.quality is not None and not 1 <= self.quality <= 100:
            raise OptionError(
                "{0} must be within 1..100, not {quality}", "quality", quality=self.quality
            )
        if self.format is not None:
            normalize_format(self.format)
        for suffix in (self.suffix, self.default_suffix):
            if suffix is not None and ("/" in suffix or os.sep in suffix):
                raise OptionError(
                    "{0} must not contain a path separator: {suffix!r}", "suffix", suffix=suffix
                )
