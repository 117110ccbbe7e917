"""``mien morph``, ``mien swap`` and ``mien tryon``: face edits; every output carries mien's provenance."""

from __future__ import annotations

from pathlib import Path

import click

from .common import echo_json, expand_images

_OUT = click.Path(dir_okay=False, path_type=Path)


def _print(result: dict, as_json: bool) -> None:
    """The report as JSON, or just the path written."""
    if as_json:
        echo_json([result])
    else:
        click.echo(result["output"])


@click.command("morph")
@click.argument("inputs", nargs=-1)
@click.option("-o", "--output", type=_OUT, required=True,
              help="A morph: .gif or a video (.mp4, .webm, ...). With --mean: an image (.png, .jpg, .webp).")
@click.option("--mean", "mean_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Average every face in this folder (and any INPUTS) into one mean face.")
@click.option("--frames", type=click.IntRange(2, 240), default=24, show_default=True, help="Frames per transition.")
@click.option("--fps", type=click.FloatRange(1, 60), default=12.0, show_default=True)
@click.option("--size", type=click.IntRange(128, 1024), default=384, show_default=True, help="Output side in pixels.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def morph(inputs, output, mean_dir, frames, fps, size, as_json) -> None:
    """Morph through faces A B [C ...] in order, or average a folder of faces (--mean).

    Faces are aligned by their landmarks, warped over the face mesh's triangles and
    cross-dissolved with eased timing. The largest face of each image is used.
    """
    from ..edit import mean_face_files, morph_files

    if mean_dir is not None:
        paths = expand_images([str(mean_dir), *inputs])
        result = mean_face_files(paths, output, size=size)
    else:
        if len(inputs) < 2:
            raise click.UsageError("give at least two images to morph (or --mean DIR)")
        result = morph_files([Path(p) for p in inputs], output, frames=frames, fps=fps, size=size)
    _print(result, as_json)


@click.command("swap")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=_OUT, required=True,
              help="A photo (.png, .jpg, .webp), or a video when TARGET is a video.")
@click.option("--consent", is_flag=True,
              help="State that the person in SOURCE agreed to this use of their face (required; recorded in the output).")
@click.option("--largest", is_flag=True, help="Use the largest face where an image has several.")
@click.option("--shape", type=click.FloatRange(0, 1), default=None,
              help="How much of the source's face shape to carry over (default 0.8; 0 keeps the target's).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def swap(source, target, output, consent, largest, shape, as_json) -> None:
    """Put the face in SOURCE (a photo) onto the face in TARGET (a photo or a video).

    Refuses without --consent. The output carries mien's watermark and a provenance
    record (operation "swap") that says consent was stated.
    """
    from ..edit import swap_file, swap_video
    from ..video.io import VIDEO_SUFFIXES

    if target.suffix.lower() in VIDEO_SUFFIXES:
        result = swap_video(source, target, output, consent=consent, largest=largest, shape=shape)
    else:
        result = swap_file(source, target, output, consent=consent, largest=largest, shape=shape)
    _print(result, as_json)


@click.command("tryon")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=_OUT, required=True, help="A photo (.png, .jpg, .webp) or, for a video, a video.")
@click.option("--glasses", default=None,
              help="A frame style (round, rectangle, aviator, cat-eye) or a transparent front-view PNG of a frame.")
@click.option("--frame-colour", default=None, help="Colour of a drawn frame (default black).")
@click.option("--lipstick", default=None, help="Lipstick colour: a name (red, coral, plum, ...), #rrggbb or R,G,B.")
@click.option("--blush", default=None, help="Blush colour, in the same forms.")
@click.option("--eyeliner", default=None, help="Eyeliner colour (a line on the upper lids with a short wing).")
@click.option("--eyeshadow", default=None, help="Eyeshadow colour (upper lids, soft).")
@click.option("--foundation", default=None, help="Foundation colour (an even tint over the face's skin).")
@click.option("--hair-colour", "hair", default=None,
              help="Hair colour (blonde, auburn, copper, ... or hex); needs the selfie model (mien models pull selfie).")
@click.option("--strength", type=click.FloatRange(0.05, 1.0), default=0.6, show_default=True, help="Make-up strength.")
@click.option("--largest", is_flag=True, help="Use the largest face where there are several.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def tryon(source, output, glasses, frame_colour, lipstick, blush, eyeliner, eyeshadow, foundation, hair, strength,
          largest, as_json) -> None:
    """Try glasses and make-up on the face in a photo or a video.

    Glasses are seated on the pupils and the nose bridge and follow the head's pose;
    make-up is painted in CIELAB on the face mesh's regions, keeping texture.
    """
    from ..edit import tryon_file, tryon_video
    from ..video.io import VIDEO_SUFFIXES

    run = tryon_video if source.suffix.lower() in VIDEO_SUFFIXES else tryon_file
    result = run(source, output, glasses=glasses, lipstick=lipstick, blush=blush, strength=strength,
                 frame_colour=frame_colour, largest=largest, eyeliner=eyeliner, eyeshadow=eyeshadow,
                 foundation=foundation, hair=hair)
    _print(result, as_json)


COMMANDS = [morph, swap, tryon]
