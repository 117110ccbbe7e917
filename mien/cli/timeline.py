"""``mien analyze VIDEO --timeline -o OUTDIR``: expression, pose, eyes and mouth per tracked face over time."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError


def _expression_model(attributes: list[str]) -> str:
    """The expression model among ``--attributes`` (age and gender ones are not recorded over time)."""
    from ..attributes import get_attribute_model

    chosen = [a for a in attributes if get_attribute_model(a).task == "expression"]
    if len(chosen) != 1:
        raise InputError(f"--timeline records one expression model: name one in --attributes, got {','.join(attributes) or 'none'}")
    return chosen[0]


def run_timeline(paths: list[Path], out_dir: Path | None, every: int, smooth: int, plots: bool, as_json: bool,
                 detector, attributes: list[str]) -> None:
    from ..analyze import Analyzer
    from ..models.notices import with_notices
    from ..timeline import SUMMARY, video_timeline, write_timeline
    from ..timeline.plot import require_matplotlib
    from .common import echo_json

    if len(paths) != 1:
        raise InputError(f"--timeline takes one video, got {len(paths)} paths")
    if out_dir is None:
        raise InputError("--timeline needs an output folder: -o OUTDIR")
    if plots:
        require_matplotlib()  # before the run, not after it
    analyzer = Analyzer(detector, "face-mesh", [_expression_model(attributes)])
    timeline = video_timeline(paths[0], every=every, smooth=smooth, analyzer=analyzer, progress=True)
    summary = write_timeline(timeline, out_dir, plots=plots)
    if as_json:
        echo_json([with_notices(summary)])
        return
    if not timeline.tracks:
        click.echo(f"{paths[0]}: empty timeline: {timeline.reason}; wrote {out_dir / SUMMARY}")
        return
    click.echo(f"{paths[0]}: {len(timeline)} track{'s' if len(timeline) != 1 else ''} over {timeline.frames} frames "
               f"({timeline.analysed} analysed); smoothed with a {timeline.filter} of {timeline.window} samples")
    for entry in summary["tracks"]:
        expr = entry.get("expression", {})
        line = (f"  track {entry['track']}: frames {entry['first_frame']}-{entry['last_frame']} "
                f"({entry['start_s']:.2f}-{entry['end_s']:.2f} s), {entry['samples']} sample{'s' if entry['samples'] != 1 else ''}")
        if expr:
            line += f", mostly {expr['dominant']}"
        click.echo(line + f" -> {out_dir / entry['csv']}" + (f", {out_dir / entry['plot']}" if "plot" in entry else ""))
    for note in timeline.notes:
        click.echo(f"  note: {note}")
    click.echo(f"wrote {out_dir / SUMMARY}")
