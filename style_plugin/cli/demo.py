"""`style-plugin demo`: the bundled sample photos in every bundled style, with no training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from style_plugin.cli.app import DeviceOption, app, fail


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FOLDER", help="Folder for the demo's results.")
    ] = Path("out/demo"),
    device: DeviceOption = "auto",
) -> None:
    """Stylize the bundled sample photos in every bundled style.

    The demo's own earlier results in --out are replaced.
    """
    from style_plugin.bundled import sample_photos
    from style_plugin.runtime.model import load_model
    from style_plugin.runtime.store import bundled_model_files
    from style_plugin.runtime.stylizer import Stylizer
    from style_plugin.runtime.writing import save_image

    files = bundled_model_files()
    if not files:
        fail("the package holds no bundled style model: its install is incomplete (reinstall it)")
    photos = sample_photos()
    styles = 0
    for path in files:
        model = load_model(path, device=device)
        stylizer = Stylizer(model)
        typer.echo(f"{path.name}, {stylizer.provider().describe()}")
        for info in model.styles:
            styles += 1
            for photo in photos:
                target = out / f"{photo.stem}-{info.name}.jpg"
                save_image(stylizer.stylize(photo, info.name), target, overwrite=True)
                typer.echo(f"  {info.label}: {target}")
    typer.echo(f"{len(photos)} photo(s) x {styles} style(s) in {out}/")
