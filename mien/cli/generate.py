"""``mien generate`` (faces from mien's GAN) and ``mien provenance check``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import echo_json, expand_images


@click.command("generate")
@click.option("-n", "--count", type=click.IntRange(min=1, max=1024), default=16, show_default=True, help="Number of faces.")
@click.option("--age", default=None, help="Age band (0-9, 10-19, ..., 70+) or an age in years; random if unset.")
@click.option("--gender", type=click.Choice(["female", "male"]), default=None, help="Random if unset.")
@click.option("--seed", type=int, default=None, help="Seed for reproducible faces.")
@click.option("--truncation", type=click.FloatRange(0.05, 1.0), default=1.0, show_default=True,
              help="Below 1: more typical, less varied faces.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Image (.png, .jpg, .webp): a grid of all faces, or with --separate OUTPUT_000.png, ...; "
                   ".gif or a video (.mp4, .webm, ...) with --interpolate.")
@click.option("--separate", is_flag=True, help="One file per face instead of one grid.")
@click.option("--size", type=click.IntRange(min=128, max=1024), default=256, show_default=True,
              help="Pixels per face (the network's output is upscaled, then watermarked).")
@click.option("--model", default=None,
              help="Generator: gan128 (default, 128 px) or gan64 (older, 64 px); both research-licensed.")
@click.option("--interpolate", "seed_b", type=int, default=None,
              help="Write an animated GIF or a video morphing from --seed to this seed (-o *.gif, *.mp4, *.webm).")
@click.option("--frames", type=click.IntRange(min=2, max=240), default=24, show_default=True)
@click.option("--no-guard", is_flag=True,
              help="Skip the memorisation guard, which draws again any face as near a training face as the same person would be.")
@click.option("--sidecar", is_flag=True, help="Also write OUTPUT.provenance.json.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def generate(count, age, gender, seed, truncation, output, separate, size, model, seed_b, frames, no_guard, sidecar, as_json) -> None:
    """Generate new faces with mien's conditional GAN (research licence: non-commercial only).

    Every image carries mien's invisible watermark and a metadata record
    (check them with ``mien provenance check``). Faces that match a person in the
    training data are drawn again (the memorisation guard, where the model has one).
    """
    from ..generate.gan import MODEL as DEFAULT_MODEL
    from ..generate.gan import FaceGenerator, finish, save_gif, there_and_back
    from ..generate.guard import has_guard
    from ..models.registry import get_spec
    from ..provenance import ProvenanceRecord, save_with_record

    MODEL = model or DEFAULT_MODEL
    if get_spec(MODEL).task != "generation":
        raise click.BadParameter(f"{MODEL} is not a face generator", param_hint="--model")
    gen = FaceGenerator(MODEL)
    guard = has_guard(MODEL) and not no_guard
    params = {"age": age, "gender": gender, "seed": seed, "truncation": truncation, "size": size, "guard": guard}
    licence = get_spec(MODEL).licence_note
    written = []
    if seed_b is not None:
        from ..video.io import VIDEO_SUFFIXES, write_video

        if output.suffix.lower() not in (".gif",) + VIDEO_SUFFIXES:
            raise click.UsageError("--interpolate writes an animated GIF or a video: give -o NAME.gif or NAME.mp4")
        seed_a = 0 if seed is None else seed
        faces = gen.interpolate(seed_a, seed_b, frames, age or "20-29", gender or "female", truncation, guard=guard)
        params.update(seed=seed_a, seed_b=seed_b, frames=frames)
        record = ProvenanceRecord("generate", MODEL, params=params, licence=licence)
        marked = finish(faces, size)  # every frame carries the verified mark
        if output.suffix.lower() == ".gif":
            save_gif(marked, output, comment=record.to_json().encode())
        else:  # a video loops like the GIF, at the GIF's 12 frames/s
            write_video(output, there_and_back(marked), fps=12, metadata={"comment": record.to_json()})
        if sidecar:
            from ..provenance import sidecar_path

            sidecar_path(output).write_text(json.dumps(record.to_dict(), indent=2, sort_keys=True) + "\n")
        written.append({"path": str(output), "model": MODEL, "frames": frames})
    else:
        samples = gen.sample(count, age, gender, seed, truncation, guard=guard)
        labels = samples.labels()
        if guard:
            params["guard_redrawn"] = samples.redrawn
        if separate:
            stem, suffix = output.with_suffix(""), output.suffix or ".png"
            for i, (img, label) in enumerate(zip(finish(samples.images, size), labels)):
                path = Path(f"{stem}_{i:03d}{suffix}")
                record = ProvenanceRecord("generate", MODEL, params={**params, "index": i, "condition": label}, licence=licence)
                save_with_record(img, path, record, sidecar=sidecar)
                written.append({"path": str(path), "model": MODEL, "condition": label})
        else:
            record = ProvenanceRecord("generate", MODEL, params={**params, "conditions": labels}, licence=licence)
            save_with_record(finish(samples.images, size, as_grid=True)[0], output, record, sidecar=sidecar)
            written.append({"path": str(output), "model": MODEL, "conditions": labels})
    if as_json:
        echo_json(written)
    else:
        for item in written:
            click.echo(item["path"])


@click.group("provenance")
def provenance() -> None:
    """Provenance marks on images mien generated or edited."""


@provenance.command("check")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per image.")
def check(inputs, as_json) -> None:
    """Report the invisible watermark and the metadata record of images and videos.

    Exit status 0 whether or not marks are found; read the report.
    """
    from ..provenance import check as check_image

    reports = [check_image(path).to_dict() for path in expand_images(inputs)]
    if as_json:
        echo_json(reports)
        return
    for rep in reports:
        wm, meta = rep["watermark"], rep["metadata"]
        mark = (f"watermark: yes (operation {wm['operation']}, score {wm['score']:.1f} >= {wm['threshold']}, "
                f"{wm['bit_errors']} bit errors)" if wm["detected"] else f"watermark: no (score {wm['score']:.1f} < {wm['threshold']})")
        if meta:
            record = (f"metadata ({rep['metadata_source']}): {meta['software']} {meta['version']}, "
                      f"model {meta['model']}, operation {meta['operation']}, created {meta['created']}")
        else:
            record = "metadata: none"
        click.echo(f"{rep['image']}\n  {mark}\n  {record}")


COMMANDS = [generate, provenance]
