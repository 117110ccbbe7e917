"""``mien gallery``: enrol people, identify them 1:N, decide access, erase them, read the journal."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from ..errors import InputError
from .common import echo_json, expand_images, key_values, progress


def _store_options(func):
    func = click.option("--key-file", type=click.Path(dir_okay=False), default=None,
                        help="Key that encrypts the gallery's templates (default: $MIEN_GALLERY_KEY or "
                             "$MIEN_GALLERY_KEY_FILE; without one, templates lie in the clear).")(func)
    func = click.option("--gallery", "gallery_name", default="default", show_default=True,
                        help="Gallery (tenant) in the store.")(func)
    func = click.option("--store", default=None, envvar="MIEN_GALLERY_URL",
                        help="sqlite:///DIR (default: $MIEN_HOME/gallery) or milvus://HOST:PORT.")(func)
    return func


def _cohort_option(func):
    return click.option("--cohort", "cohort_file", type=click.Path(dir_okay=False), default=None,
                        help="The cohort the gallery scores against (AS-norm; `mien cohort`).")(func)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _open(store: str | None, gallery_name: str, key_file: str | None, create: bool = False, model: str | None = None,
          cohort_file: str | None = None, keep_crops: bool = False):
    import warnings

    from ..gallery import ClearTemplatesWarning, open_gallery
    from ..match.cohort import load_cohort

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClearTemplatesWarning)
        gallery = open_gallery(store, gallery_name, model=model, key=key_file, actor=_actor(), create=create,
                               cohort=load_cohort(cohort_file) if cohort_file else None, keep_crops=keep_crops)
    for w in caught:
        click.echo(f"mien: warning: {w.message}", err=True)
    return gallery


def _model_id(model: str | None, tta: str | None, jitters: int) -> str | None:
    if model is None:
        return None
    from ..embed.tta import tta_suffix

    return model + tta_suffix(tta or "none", jitters)


@click.group("gallery")
def gallery() -> None:
    """Enrol people, identify them 1:N at a calibrated FPIR, decide access, erase them."""


@gallery.command("keygen")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False), help="Key file to create (mode 0600).")
def keygen(out: str) -> None:
    """Write a new random gallery key to a file; use it with --key-file or MIEN_GALLERY_KEY_FILE."""
    from ..gallery import write_key_file

    path = write_key_file(out)
    click.echo(f"wrote a new gallery key to {path} (keep it safe: templates cannot be opened without it)")


@gallery.command("enroll")
@click.argument("name", required=False)
@click.argument("images", nargs=-1)
@_store_options
@_cohort_option
@click.option("--from-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Enrol every sub-folder of this folder as one identity named after it.")
@click.option("--consent", "purpose", default=None, help="Record consent for this purpose (e.g. 'building access').")
@click.option("--expires", default=None, help="Consent ends on this date (YYYY-MM-DD); needs --consent.")
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Metadata to keep with the identity.")
@click.option("--force", is_flag=True, help="Enrol faces that fail the quality checks (recorded).")
@click.option("--largest", is_flag=True, help="Use the largest face when a photo has several.")
@click.option("--keep-crops", is_flag=True, help="New gallery only: keep face crops (encrypted with a key) so it can be re-embedded.")
@click.option("--model", type=click.Choice(["dlib-resnet", "faceres", "mobileface"]), default=None,
              help="New gallery only: embedding model (default dlib-resnet); an existing gallery keeps its own.")
@click.option("--tta", type=click.Choice(["none", "flip", "jitter"]), default=None, help="New gallery only: test-time augmentation.")
@click.option("--jitters", type=int, default=8, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def enroll(name: str | None, images: tuple[str, ...], store: str | None, gallery_name: str, key_file: str | None,
           cohort_file: str | None, from_dir: Path | None, purpose: str | None, expires: str | None, meta: tuple[str, ...],
           force: bool, largest: bool, keep_crops: bool, model: str | None, tta: str | None, jitters: int,
           as_json: bool) -> None:
    """Enrol NAME from one or more photos (IMAGES), or every sub-folder of --from-dir."""
    import time

    from ..gallery import Consent
    from ..gallery.types import parse_time

    if expires and not purpose:
        raise InputError("--expires needs --consent PURPOSE")
    consent = Consent(purpose, time.time(), parse_time(expires)) if purpose else None
    metadata = key_values(meta, "--meta")
    if from_dir is not None:
        if name or images:
            raise InputError("give either NAME IMAGES... or --from-dir, not both")
        people = [(d.name, expand_images([str(d)])) for d in sorted(from_dir.iterdir()) if d.is_dir()]
        people = [(n, files) for n, files in people if files]
        if not people:
            raise InputError(f"no sub-folder of {from_dir} holds images")
    else:
        if not name or not images:
            raise InputError("give NAME and at least one image (or --from-dir DIR)")
        people = [(name, expand_images(images))]
    g = _open(store, gallery_name, key_file, True, _model_id(model, tta, jitters) if (model or tta) else None,
              cohort_file, keep_crops)
    results = []
    with g:
        for person, files in progress(people, "enrol") if len(people) > 1 else people:
            bar = progress([str(f) for f in files], person) if len(people) == 1 else [str(f) for f in files]
            results.append(g.enrol(person, bar, metadata or None, consent, force=force, largest=largest).to_dict())
    if as_json:
        echo_json(results)
        return
    for r in results:
        forced = f"; enrolled despite failing {', '.join(r['forced'])}" if r["forced"] else ""
        click.echo(f"enrolled {r['identity']!r} in gallery {gallery_name!r}: {r['added']} template(s), "
                   f"{r['templates']} in all{forced}")


@gallery.command("identify")
@click.argument("image")
@_store_options
@_cohort_option
@click.option("--top", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="Candidates to list.")
@click.option("--fpir", type=float, default=1e-3, show_default=True,
              help="Target false-positive identification rate for this gallery's size.")
@click.option("--all-faces", is_flag=True, help="Identify every face in the photo instead of exactly one.")
@click.option("--largest", is_flag=True, help="Use the largest face when a photo has several.")
@click.option("--json", "as_json", is_flag=True)
def identify(image: str, store: str | None, gallery_name: str, key_file: str | None, cohort_file: str | None, k: int,
             fpir: float, all_faces: bool, largest: bool, as_json: bool) -> None:
    """Who is in IMAGE? The best match, its score, the decision, or "unknown"."""
    with _open(store, gallery_name, key_file, cohort_file=cohort_file) as g:
        results = g.identify_faces(image, k, fpir) if all_faces else [g.identify(image, k, fpir, largest=largest)]
    if as_json:
        echo_json([{"image": image, "faces": [r.to_dict() for r in results]}] if all_faces
                  else [{"image": image, **results[0].to_dict()}])
        return
    if not results:
        click.echo(f"{image}: no face found")
    for r in results:
        where = f" at {[round(v) for v in r.face['box']]}" if all_faces and r.face else ""
        best = r.candidates[0] if r.candidates else None
        nearest = f"; nearest {best.identity!r} at {best.score:.4f}" if best and not r.matched else ""
        head = f"{r.identity} (score {best.score:.4f} <= {r.threshold:.4f})" if r.matched else "unknown"
        click.echo(f"{image}{where}: {head}{nearest} [FPIR {r.target_fpir:g} over {r.templates} templates, "
                   f"{r.gallery_size} identities{', extrapolated' if r.extrapolated else ''}]")


@gallery.command("verify")
@click.argument("name")
@click.argument("image")
@_store_options
@_cohort_option
@click.option("--fmr", type=float, default=1e-3, show_default=True, help="Target false-match rate of the 1:1 threshold.")
@click.option("--liveness", is_flag=True, help="Also require the EXPERIMENTAL liveness models to call the face real.")
@click.option("--require-quality", is_flag=True, help="Deny when the photo fails the quality checks.")
@click.option("--largest", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify(ctx: click.Context, name: str, image: str, store: str | None, gallery_name: str, key_file: str | None,
           cohort_file: str | None, fmr: float, liveness: bool, require_quality: bool, largest: bool, as_json: bool) -> int:
    """Grant or deny: is the person in IMAGE the enrolled NAME? Exit 0 granted, 1 denied."""
    with _open(store, gallery_name, key_file, cohort_file=cohort_file) as g:
        decision = g.verify(name, image, fmr, liveness=liveness, require_quality=require_quality, largest=largest)
    if as_json:
        echo_json([{"image": image, **decision.to_dict()}])
    else:
        click.echo(f"{'GRANTED' if decision.granted else 'DENIED'} {name}: " + "; ".join(decision.reasons))
    return 0 if decision.granted else 1


@gallery.command("list")
@_store_options
@click.option("--json", "as_json", is_flag=True)
def list_(store: str | None, gallery_name: str, key_file: str | None, as_json: bool) -> None:
    """The gallery's identities with their template counts and consent."""
    with _open(store, gallery_name, key_file) as g:
        people = [r.to_dict() for r in g.list()]
        info = g.describe()
    if as_json:
        click.echo(json.dumps({"gallery": info, "identities": people}, indent=2))
        return
    click.echo(f"gallery {info['name']!r} ({info['model']}, {info['identities']} identities, {info['templates']} templates)"
               f" in {info['store']}")
    for p in people:
        consent = p["consent"]["state"] + (f" until {p['consent']['expires']}" if p["consent"]["expires"] else "") \
            if p["consent"] else "no consent record"
        click.echo(f"  {p['name']}: {p['templates']} template(s), {consent}")


@gallery.command("info")
@_store_options
def info(store: str | None, gallery_name: str, key_file: str | None) -> None:
    """What the gallery is pinned to, its size, and exactly how its templates are protected."""
    with _open(store, gallery_name, key_file) as g:
        click.echo(json.dumps(g.describe(), indent=2))


@gallery.command("remove")
@click.argument("name")
@_store_options
@click.option("--json", "as_json", is_flag=True)
def remove(name: str, store: str | None, gallery_name: str, key_file: str | None, as_json: bool) -> None:
    """Erase NAME: templates, crops and index entries, physically; prints the erasure receipt."""
    with _open(store, gallery_name, key_file) as g:
        receipt = g.remove(name)
    if as_json:
        echo_json([receipt.to_dict()])
        return
    click.echo(f"erased {name!r} from gallery {gallery_name!r}: {receipt.templates_removed} template(s), "
               f"{receipt.crops_removed} crop(s), {receipt.index_entries_removed} index entries")
    for step in receipt.steps:
        click.echo(f"  - {step}")
    click.echo(f"receipt {receipt.digest} (journal line {receipt.journal_seq})")


@gallery.command("purge-expired")
@_store_options
@click.option("--json", "as_json", is_flag=True)
def purge_expired(store: str | None, gallery_name: str, key_file: str | None, as_json: bool) -> None:
    """Erase everyone whose consent has expired or been withdrawn."""
    with _open(store, gallery_name, key_file) as g:
        receipts = g.purge_expired()
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in receipts], indent=2))
        return
    click.echo(f"erased {len(receipts)} identit{'y' if len(receipts) == 1 else 'ies'} whose consent had ended")
    for r in receipts:
        click.echo(f"  {r.subject}: {r.templates_removed} template(s), receipt {r.digest}")


@gallery.command("consent")
@click.argument("name")
@_store_options
@click.option("--withdraw", is_flag=True, help="Record that the person withdrew consent (identify stops returning them).")
@click.option("--purpose", default=None, help="Record (or replace) consent for this purpose.")
@click.option("--expires", default=None, help="With --purpose: the date consent ends.")
def consent(name: str, store: str | None, gallery_name: str, key_file: str | None, withdraw: bool, purpose: str | None,
            expires: str | None) -> None:
    """Show, record or withdraw NAME's consent."""
    import time

    from ..gallery import Consent
    from ..gallery.types import parse_time

    if withdraw and purpose:
        raise InputError("give --withdraw or --purpose, not both")
    with _open(store, gallery_name, key_file) as g:
        if withdraw:
            record = g.withdraw_consent(name)
        elif purpose:
            record = g.set_consent(name, Consent(purpose, time.time(), parse_time(expires)))
        else:
            record = g.get(name)
    click.echo(json.dumps(record.to_dict()["consent"], indent=2))


@gallery.command("export")
@click.argument("name")
@_store_options
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file.")
def export(name: str, store: str | None, gallery_name: str, key_file: str | None, out: Path | None) -> None:
    """Everything held about NAME (subject access), as JSON."""
    from ..atomic import write_atomic
    from ..errors import StorageError

    with _open(store, gallery_name, key_file) as g:
        document = json.dumps(g.export(name), indent=2)
    if out is None:
        click.echo(document)
        return
    try:
        write_atomic(out, (document + "\n").encode())
    except OSError as exc:
        raise StorageError(f"cannot write {out}: {exc}") from exc
    click.echo(f"wrote everything held about {name!r} to {out}")


@gallery.command("journal")
@_store_options
@click.option("--verify", "check", is_flag=True, help="Check the hash chain: exit 4 if any line was edited or dropped.")
@click.option("--since", type=int, default=0, help="Only lines after this number.")
@click.option("--json", "as_json", is_flag=True)
def journal(store: str | None, gallery_name: str, key_file: str | None, check: bool, since: int, as_json: bool) -> int:
    """The gallery's append-only journal (who did what, when; no images, no vectors).

    --json prints the API's document: the entries and the chain's check."""
    with _open(store, gallery_name, key_file) as g:
        result = g.verify_journal() if check or as_json else None
        entries = [] if check and not as_json else g.journal(since)
    if as_json:
        click.echo(json.dumps({"entries": [e.to_dict() for e in entries], "verified": result.to_dict()}, indent=2))
    elif check:
        if result.ok:
            click.echo(f"journal intact: {result.entries} lines, head {result.head}")
        else:
            click.echo(f"journal DAMAGED ({len(result.problems)} problem(s)):", err=True)
            for p in result.problems:
                click.echo(f"  {p}", err=True)
    else:
        for e in entries:
            d = e.to_dict()
            details = ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()))
            click.echo(f"{e.seq:6d} {d['time']} {e.actor} {e.action} {e.subject or '-'} {details}")
    return 4 if check and not result.ok else 0


@gallery.command("rekey")
@_store_options
@click.option("--new-key-file", type=click.Path(exists=True, dir_okay=False), required=True,
              help="The key to move to (`mien gallery keygen`); the old one opens nothing afterwards.")
def rekey(store: str | None, gallery_name: str, key_file: str | None, new_key_file: str) -> None:
    """Re-seal every template under a new key and re-rotate the index (revokes the old key and index)."""
    with _open(store, gallery_name, key_file) as g:
        info = g.rekey(new_key_file)
        identities, templates = g.store.counts(g.name)
    click.echo(f"gallery {gallery_name!r} re-keyed: {templates} template(s) of {identities} identities sealed under "
               f"the new key (epoch {info.epoch}); the old key and any copy of the old index are now useless")


@gallery.command("reembed")
@_store_options
@click.option("--model", type=click.Choice(["dlib-resnet", "faceres", "mobileface"]), required=True)
@click.option("--tta", type=click.Choice(["none", "flip", "jitter"]), default="none", show_default=True)
@click.option("--jitters", type=int, default=8, show_default=True)
@click.option("--cohort", "cohort_file", type=click.Path(dir_okay=False), default=None,
              help="The new model's cohort, if the gallery should score against one.")
def reembed(store: str | None, gallery_name: str, key_file: str | None, model: str, tta: str, jitters: int,
            cohort_file: str | None) -> None:
    """Move the gallery to another embedding model from the face crops it kept (--keep-crops)."""
    from ..match.cohort import load_cohort

    with _open(store, gallery_name, key_file) as g:
        before = g.info.model
        info = g.reembed(_model_id(model, tta, jitters), load_cohort(cohort_file) if cohort_file else None)
        _, templates = g.store.counts(g.name)
    click.echo(f"gallery {gallery_name!r} moved from {before} to {info.model}: {templates} template(s) re-embedded")


@gallery.command("watch")
@click.argument("video", required=False)
@_store_options
@_cohort_option
@click.option("--camera", type=int, default=None, help="Watch this camera (OpenCV index) instead of a video file.")
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None, help="Write the video with names drawn (audio kept).")
@click.option("--every", type=click.IntRange(1, 30), default=1, show_default=True, help="Detect on every K-th frame.")
@click.option("--fpir", type=float, default=1e-3, show_default=True)
@click.option("--max-frames", type=int, default=None, help="Stop after this many frames (a camera runs until then or Ctrl-C).")
@click.option("--json", "as_json", is_flag=True, help="Print the tracks as JSON at the end (events stream to stderr as they happen).")
def watch(video: str | None, store: str | None, gallery_name: str, key_file: str | None, cohort_file: str | None,
          camera: int | None, out: str | None, every: int, fpir: float, max_frames: int | None, as_json: bool) -> None:
    """Name the people in VIDEO (or --camera N): once per face track, with first and last seen."""
    from ..gallery.watch import watch as run_watch

    if (video is None) == (camera is None):
        raise InputError("give a VIDEO file or --camera N")

    def announce(event) -> None:
        who = event.identity or "unknown"
        click.echo(f"track {event.track} at {event.last_seen:.2f}s: {who}", err=True)

    with _open(store, gallery_name, key_file, cohort_file=cohort_file) as g:
        result = run_watch(g, camera if camera is not None else video, out, every=every, fpir=fpir,
                           progress=out is not None, max_frames=max_frames, on_event=announce)
    if as_json:
        echo_json([result.to_dict()])
        return
    click.echo(f"{result.source}: {result.frames} frames, {len(result.events)} face track(s), "
               f"people: {', '.join(result.to_dict()['people']) or 'none identified'}")
    for e in result.events:
        click.echo(f"  track {e.track}: {e.identity or 'unknown'} from {e.first_seen:.2f}s to {e.last_seen:.2f}s "
                   f"({e.searches} search{'es' if e.searches != 1 else ''})")
    if out:
        click.echo(f"wrote {out}")


COMMANDS = [gallery]
