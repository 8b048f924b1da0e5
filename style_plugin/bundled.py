"""Where the sample photos that ship inside the package live (see data/CREDITS.md)."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def sample_photos_dir() -> Path:
    """Folder of the bundled CC0 sample photos."""
    return DATA_DIR / "photos"


def sample_photos() -> list[Path]:
    """The bundled sample photos, sorted by name."""
    return sorted(sample_photos_dir().glob("*.jpg"))
