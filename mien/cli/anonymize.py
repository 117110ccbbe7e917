"""``mien anonymize``: hide faces in photos and videos."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import MienError

DEFAULT_EVERY = 3  # mien.anonymize.video.DEFAULT_EVERY, not imported here to keep `mien --help` light (a test checks)


@click.command("anonymize")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the results (inputs keep their names; folders their layout).")
@click.option("--in-place", is_flag=True, help="Overwrite the input images instead (videos always need -o).")
@click.option("--method", type=click.Choice(["blur", "pixelate", "fill", "ellipse"]), default="blur", show_default=True)
@click.option("--detector", default=None, help="Detector name (default: centerface).")
@click.option("--threshold", type=float, default=None,
              help="Detector score threshold (default: recall-first, 0.1 for centerface).")
@click.option("--every", type=click.IntRange(min=1), default=DEFAULT_EVERY, show_default=True,
              help="Video: run the detector on every k-th frame, track in between.")
@click.option("--detect-size", type=click.IntRange(min=32), default=None,
              help="Long side in pixels the detector sees each frame at (default: photos at full size up to 1280, "
                   "videos at the measured video default; smaller is faster, misses more small faces).")
@click.option("--keep", type=click.IntRange(min=0), default=None,
              help="Video: keep hiding a lost face for this many frames (default: max(15, 2 x every)).")
@click.option("--mask-failed/--no-mask-failed", default=True, show_default=True,
              help="Video: hide a whole frame the detector fails on (else stop with an error).")
@click.option("--consent", "consent_photos", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Photo of a person who agreed to appear (one face; repeat for more): their face stays visible.")
@click.option("--consent-embedder", default="dlib-resnet", show_default=True, help="Embedder for --consent.")
@click.option("--consent-threshold", type=float, default=None,
              help="Distance under which a face is a consenting person (default: calibrated at FMR 1e-4).")
@click.option("--strip-exif", is_flag=True, help="Drop all EXIF, not just GPS and identifying tags.")
@click.option("--no-provenance", is_flag=True,
              help="Leave out mien's invisible watermark and provenance record (operation 'anonymize').")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report: faces masked per file.")
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: when stderr is a terminal).")
def anonymize(inputs, out_dir, in_place, method, detector, threshold, every, detect_size, keep, mask_failed, consent_photos,
              consent_embedder, consent_threshold, strip_exif, no_provenance, as_json, progress) -> None:
    """Hide every face in images and videos (files or folders, searched recursively).

    Images keep their format and harmless EXIF; GPS, serial numbers, names, XMP/IPTC and
    thumbnails are removed. Videos keep their frame rate and audio. Outputs carry mien's
    invisible watermark and a provenance record (``mien provenance check``).
    """
    from tqdm import tqdm

    from ..anonymize.detection import anonymize_detector, video_detector
    from ..anonymize.methods import get_method
    from ..anonymize.photo import anonymize_file, plan
    from ..anonymize.video import anonymize_video

    progress = sys.stderr.isatty() if progress is None else progress
    jobs = plan(inputs, out_dir, in_place)
    if in_place and any(j.kind == "video" for j in jobs):
        raise click.UsageError("videos cannot be anonymised in place; give an output folder with -o")
    options = {} if threshold is None else {"score_threshold": threshold}
    det = anonymize_detector(detector, detect_size, **options)
    video_det = video_detector(detector, detect_size, **options) if any(j.kind == "video" for j in jobs) else None
    hider = get_method(method)
    exemption = None
    if consent_photos:
        from ..anonymize.exempt import EmbeddingExemption

        exemption = EmbeddingExemption.from_embedder(consent_photos, consent_embedder, detector, consent_threshold)
    reports: list[dict] = []
    failed: list[MienError] = []
    for job in tqdm(jobs, unit="file", disable=not progress or len(jobs) < 2):
        try:
            if job.kind == "image":
                report = anonymize_file(job.src, job.dst, hider, det, exemption, keep_exif=not strip_exif,
                                        provenance=not no_provenance).to_dict()
                line = f"{job.src} -> {job.dst}: {report['masked']} face(s) hidden"
            else:
                report = anonymize_video(job.src, job.dst, hider, video_det, every=every, keep=keep, mask_failed=mask_failed,
                                         exemption=exemption, progress=progress, provenance=not no_provenance).to_dict()
                line = (f"{job.src} -> {job.dst}: {report['frames']} frames, {report['tracks']} face track(s), "
                        f"audio {report['audio']}")
                if report["frames_masked_whole"]:
                    line += f", {report['frames_masked_whole']} frame(s) hidden whole ({report['detector_error']})"
        except MienError as exc:
            failed.append(exc)
            report = {"image" if job.kind == "image" else "video": str(job.src), "error": str(exc)}
            if not as_json and len(jobs) > 1:
                click.echo(f"mien: error: {exc}", err=True)
        else:
            if not as_json:
                click.echo(line)
        reports.append(report)
    if as_json:
        click.echo(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    if len(jobs) == 1 and failed:
        raise failed[0]
    if failed:
        summary = MienError(f"{len(failed)} of {len(jobs)} files failed (no output written for them)")
        summary.exit_code = failed[0].exit_code
        raise summary


COMMANDS = [anonymize]
