"""``mien index``, ``mien search``, ``mien cluster``: a photo collection's faces, found and grouped into people."""

from __future__ import annotations

import sys

import click

from .common import echo_json


def _store_option(func):
    return click.option("--store", default=None, envvar="MIEN_COLLECTION_URL",
                        help="sqlite:///DIR (default: $MIEN_HOME/collection) or milvus://HOST:PORT[/NAME].")(func)


def _open(store: str | None):
    from ..collection import open_collection

    return open_collection(store)


@click.command("index")
@click.argument("source")
@_store_option
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: one worker process per core; ray: a Ray Data job (pip install 'mien[ray]').")
@click.option("--workers", type=click.IntRange(1), default=None, help="Workers (default: every core).")
@click.option("--ray-address", default=None, help="Ray cluster to run on (default: a local Ray instance).")
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True, help="Images per task.")
@click.option("--no-age", is_flag=True, help="Skip the age model (young children then get no stricter bar).")
@click.option("--no-second", is_flag=True,
              help="No faceres second opinion on young children's faces (faceres is research-licence only).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def index(source: str, store: str | None, engine: str, workers: int | None, ray_address: str | None,
          batch_size: int, no_age: bool, no_second: bool, as_json: bool) -> None:
    """Index every face in SOURCE (a folder, a file listing paths or URLs, or one image) into the store.

    Images already indexed (same path, size and modification time) are skipped, so a run
    that was interrupted resumes where it stopped. Unreadable, empty, non-image and video
    files are reported at the end; they never stop the job.
    """
    from dataclasses import replace

    from ..collection import index_collection
    from ..collection.pipeline import PipelineOptions

    options = PipelineOptions()
    if no_age:
        options = replace(options, age=False, second=None)
    elif no_second:
        options = replace(options, second=None)
    bar = _Bar("index")
    with _open(store) as faces_store:
        report = index_collection(source, faces_store, engine=engine, workers=workers, options=options,
                                  batch_size=batch_size, ray_address=ray_address, progress=bar)
    bar.close()
    if as_json:
        echo_json([report.to_dict()])
        return
    click.echo(f"{report.indexed} images indexed ({report.faces} faces) in {report.seconds:.1f} s "
               f"({report.images_per_second:.1f} images/s, {report.engine}, {report.workers} workers); "
               f"{report.skipped} already indexed, {report.duplicates} duplicates of indexed content, "
               f"{len(report.failures)} failed" + (f", {report.retries} batches re-run" if report.retries else ""))
    for f in report.failures:
        click.echo(f"  failed ({f.kind}): {f.path}: {f.message}")
    _say_notices(report.to_dict())


def _say_notices(doc: dict) -> None:
    from ..models.notices import non_commercial_models

    for n in non_commercial_models(doc):
        click.echo(f"note: used {n['model']}, not cleared for commercial use ({n['license']})", err=True)


class _Bar:
    """A tqdm bar on stderr that the indexer drives with (done, total)."""

    def __init__(self, label: str) -> None:
        self.label, self._bar = label, None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None and total > 1:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.label, unit="img", file=sys.stderr, leave=False)
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@click.command("search")
@click.argument("image", required=False)
@_store_option
@click.option("--person", type=int, default=None, help="List the photos of this person (a cluster) instead.")
@click.option("--fmr", type=float, default=1e-4, show_default=True,
              help="False-match rate of the threshold; about FMR x faces strangers pass by chance.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="Most photos to list.")
@click.option("--largest", is_flag=True, help="Use the largest face when IMAGE shows several.")
@click.option("--json", "as_json", is_flag=True)
def search(image: str | None, store: str | None, person: int | None, fmr: float, limit: int, largest: bool,
           as_json: bool) -> None:
    """Every photo in the store with the person in IMAGE (or, with --person, in that cluster), nearest first."""
    from ..errors import InputError

    if (image is None) == (person is None):
        raise InputError("give IMAGE or --person ID (one of them)")
    with _open(store) as faces_store:
        if person is not None:
            doc = _person_doc(faces_store, person, limit)
        else:
            from ..collection.search import search_face

            doc = search_face(faces_store, image, fmr, limit, largest=largest).to_dict()
    if as_json:
        echo_json([doc])
        return
    if person is not None:
        click.echo(f"person {doc['id']}{' (' + doc['name'] + ')' if doc['name'] else ''}: {doc['size']} faces "
                   f"in {doc['images']} photos")
        for path in doc["paths"]:
            click.echo(f"  {path}")
        return
    click.echo(f"{doc['photos']} photos within {doc['threshold']} (FMR {doc['fmr']:g}; about "
               f"{doc['expected_false']:.2g} chance hits among {doc['faces_searched']} faces)")
    for hit in doc["hits"]:
        who = f"  person {hit['person']}" if hit["person"] is not None else ""
        click.echo(f"  {hit['distance']:.3f}  {hit['path']}{who}")


def _person_doc(faces_store, person: int, limit: int) -> dict:
    from ..collection.people import People

    p = People(faces_store).get(person)
    paths = list(dict.fromkeys(f.path for f in faces_store.faces(p.faces)))
    return {**p.to_dict(limit), "paths": paths[:limit]}


@click.group("cluster", invoke_without_command=True)
@_store_option
@click.option("--full", is_flag=True, help="Cluster every face again (default: only faces new since the last run).")
@click.option("--sheets", type=click.Path(file_okay=False), default=None,
              help="Write one contact sheet (JPEG) per person into this folder.")
@click.option("--cohort", default=None,
              help="Normalise distances by a cohort (AS-norm): 'utkface' (shipped; research licence) or a file from "
                   "`mien cohort` built from photos like yours. +2 BCubed F1 points on LFW.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def cluster(ctx: click.Context, store: str | None, full: bool, sheets: str | None, cohort: str | None,
            as_json: bool) -> None:
    """Group the store's faces into people; merge, split and name them (kept across reruns)."""
    ctx.ensure_object(dict)
    ctx.obj["store"] = store
    if ctx.invoked_subcommand is not None:
        return
    from ..collection.people import People, cluster_cohort

    with _open(store) as faces_store:
        people = People(faces_store, cohort=cluster_cohort(cohort) if cohort else None)
        found = people.update(full=full)
        if sheets:
            found = people.contact_sheets(sheets)
        doc = people.summary(found)
    if as_json:
        echo_json([doc])
        return
    _print_people(found, doc["faces"])
    _say_notices(doc)


def _print_people(found: list, faces: int) -> None:
    assigned = sum(len(p.faces) for p in found)
    click.echo(f"{len(found)} people; {assigned} of {faces} faces assigned ({faces - assigned} left out by the "
               "quality gate: tiny, blurred, turned away or a weak detection)")
    for p in found[:50]:
        name = f" {p.name}" if p.name else ""
        sheet = f"  {p.sheet}" if p.sheet else ""
        click.echo(f"  person {p.id}{name}: {len(p.faces)} faces in {p.images} photos{sheet}")
    if len(found) > 50:
        click.echo(f"  ... and {len(found) - 50} more (--json lists them all)")


def _edit(ctx: click.Context, store: str | None, as_json: bool, what: str, change) -> None:
    """Apply one correction (``change(people)`` returns the person it made) to the store named here or on the group."""
    from ..collection.people import People

    with _open(store if store is not None else ctx.obj.get("store")) as faces_store:
        person = change(People(faces_store))
    if as_json:
        echo_json([person.to_dict()])
    else:
        click.echo(f"{what} person {person.id}{' ' + person.name if person.name else ''}: {len(person.faces)} faces")


@cluster.command("merge")
@click.argument("a", type=int)
@click.argument("b", type=int)
@_store_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def merge(ctx: click.Context, a: int, b: int, store: str | None, as_json: bool) -> None:
    """Merge person B into person A (kept when the collection is clustered again)."""
    _edit(ctx, store, as_json, f"merged {b} into {a}", lambda people: people.merge(a, b))


@cluster.command("split")
@click.argument("person", type=int)
@click.argument("faces", nargs=-1, required=True)
@_store_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def split(ctx: click.Context, person: int, faces: tuple[str, ...], store: str | None, as_json: bool) -> None:
    """Move FACES (face ids, from `mien search --person ID --json`) out of PERSON into a new person."""
    _edit(ctx, store, as_json, f"split {len(faces)} faces out of {person} into", lambda people: people.split(person, faces))


@cluster.command("name")
@click.argument("person", type=int)
@click.argument("name")
@_store_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def name(ctx: click.Context, person: int, name: str, store: str | None, as_json: bool) -> None:
    """Name PERSON (the name follows their faces across reruns)."""
    _edit(ctx, store, as_json, "named", lambda people: people.name(person, name))


COMMANDS = [index, search, cluster]
