"""Where the files that ship inside the package live (sample photos, paintings)."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def sample_photos_dir() -> Path:
    """Folder of the bundled CC0 sample photos (see data/CREDITS.md)."""
    return DATA_DIR / "photos"


def sample_paintings() -> dict[str, Path]:
    """Bundled public-domain paintings by style name (see data/CREDITS.md)."""
    return {path.stem: path for path in sorted((DATA_DIR / "paintings").glob("*.jpg"))}
