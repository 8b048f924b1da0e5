"""`filters` and `filter`: every registered filter, third-party ones too, from the command line.

`filters` prints each filter's parameter schema (what a host renders as a dialog); `filter NAME`
runs one over files, folders and globs with the batch behaviour of `stylize` (progress,
atomic writes, a bad file reported while the rest go on, the summary line, exit status).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from style_plugin.cli.app import app, fail
from style_plugin.cli.batch_options import (
    AllowLargeOption,
    FormatOption,
    InputsArgument,
    JobsOption,
    OutputOption,
    OverwriteOption,
    QualityOption,
    QuietOption,
    RecursiveOption,
    SkipExistingOption,
    SuffixOption,
    load_plugins,
    make_options,
    plan_batch,
    run_planned,
)
from style_plugin.errors import one_line

if TYPE_CHECKING:
    from collections.abc import Callable

    from PIL import Image

    from style_plugin.hooks.filters import Filter
    from style_plugin.plugins import Registry
    from style_plugin.runtime.jobs import ImageJob
    from style_plugin.runtime.reading import SourceImage


@app.command("filters")
def list_filters(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List every filter and the parameters it takes.

    Each parameter comes with its type, default, range and choices.
    """
    import json
    from dataclasses import asdict

    from style_plugin.plugins import registry

    found = registry()
    described, failed = _describe_all(found)
    skipped = [asdict(plugin) for plugin in found.broken] + failed
    if as_json:
        typer.echo(json.dumps({"filters": described, "broken_plugins": skipped}, indent=2))
        return
    for index, item in enumerate(described):
        if index:
            typer.echo("")
        _print_filter(item)
    if skipped:
        typer.echo("")
        typer.echo(f"broken plugins ({len(skipped)}, skipped):")
        for plugin in skipped:
            typer.echo(f"  {plugin['name']} ({plugin['stage']}): {plugin['reason']}")


def _describe_all(found: Registry) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Each filter's description with the plugin it came from; filters whose schema cannot
    be built (a third party's bug) are returned apart, as skipped plugins."""
    described, failed = [], []
    for name, (item, plugin) in sorted(found.filters.items()):
        try:
            described.append({**item.describe(), "plugin": plugin})
        except Exception as exc:  # a third party's filter must not break the listing
            reason = one_line(exc, named=True)
            failed.append({"name": plugin, "stage": f"filter {name!r}", "reason": reason})
    return described, failed


def _print_filter(item: dict[str, Any]) -> None:
    """A filter as text: a heading, its description, one line per parameter."""
    typer.echo(f"{item['name']} - {item['label']} (from {item['plugin']})")
    if item["description"]:
        typer.echo(f"    {item['description']}")
    for param in item["params"]:
        usage = f"{param['name']}={param['type'].upper()}"
        facts = [f"default {_text(param['default'])}"]
        bounds = _bounds(param)
        if bounds:
            facts.insert(0, bounds)
        line = f"    {usage:<24}{', '.join(facts)}"
        typer.echo(f"{line}; {param['description']}" if param["description"] else line)
        if param.get("choices"):
            choices = ", ".join(f"{c['value']} ({c['label']})" for c in param["choices"])
            typer.echo(f"    {'':<24}choices: {choices}")


def _text(value: Any) -> str:
    """A parameter value as a user types it: true/false, none, numbers and words as they are."""
    if isinstance(value, bool):
        return str(value).lower()
    return "none" if value is None else str(value)


def _bounds(param: dict[str, Any]) -> str:
    """'0..1', '>= 2', '<= 9' or '' for a parameter's range."""
    low, high = param.get("minimum"), param.get("maximum")
    if low is not None and high is not None:
        return f"{low:g}..{high:g}"
    if low is not None:
        return f">= {low:g}"
    return f"<= {high:g}" if high is not None else ""


def parse_params(items: list[str]) -> dict[str, str]:
    """`--param KEY=VALUE` values as a mapping; a malformed or repeated one is a one-line error."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"--param takes KEY=VALUE, got {item!r}")
        if key in params:
            fail(f"--param {key} is given twice")
        params[key] = value
    return params


def filter_job(chosen: Filter, params: dict[str, Any]) -> ImageJob:
    """The batch job that runs `chosen` with resolved `params` on each decoded image.

    The filter gets the image as a host would give it: a PIL image of the input's kind,
    alpha included (`restore` of the decoded pixels).
    """
    from style_plugin.runtime.pixels import restore

    def job(
        source: SourceImage, progress: Callable[[int, int], None], cancel: Callable[[], bool]
    ) -> Image.Image:
        return chosen.run(restore(source, source.rgb), params, progress, cancel)

    return job


@app.command("filter")
def filter_images(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="The filter to run (see `style-plugin filters`).",
            show_default=False,
        ),
    ],
    inputs: InputsArgument,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="KEY=VALUE",
            help="A filter parameter; repeatable. Others take their defaults.",
        ),
    ] = None,
    output: OutputOption = None,
    output_format: FormatOption = None,
    quality: QualityOption = None,
    suffix: SuffixOption = None,
    recursive: RecursiveOption = False,
    skip_existing: SkipExistingOption = False,
    overwrite: OverwriteOption = False,
    jobs: JobsOption = 2,
    allow_large: AllowLargeOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run a filter over image files, folders and glob patterns.

    Bad parameters stop it before any file is touched; a bad file is reported and the rest go on.

    Exit status: 0 when every image was filtered or skipped, 1 when any failed, 130 on Ctrl-C.
    """
    import functools

    from style_plugin.hooks.filters import FilterError
    from style_plugin.plugins import get_filter
    from style_plugin.runtime.batch import run_batch

    load_plugins(quiet)
    chosen = get_filter(name)
    given = parse_params(param or [])
    try:
        params = chosen.resolve(given)
    except FilterError:
        raise
    except Exception as exc:  # a third party's filter whose schema cannot be built
        fail(f"filter {name!r} is broken: {type(exc).__name__}: {exc}")
    options = make_options(
        output=output,
        output_format=output_format,
        quality=quality,
        suffix=suffix,
        default_suffix=f"-{chosen.name}",
        skip_existing=skip_existing,
        overwrite=overwrite,
        jobs=jobs,
        allow_large=allow_large,
    )
    plans = plan_batch(inputs, recursive, options)
    job = filter_job(chosen, params)
    run = functools.partial(run_batch, job)
    run_planned(run, plans, options, quiet=quiet, verb="filtered", steps="step")
